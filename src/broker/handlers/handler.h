#pragma once
// The interface of a Kafka API handler and the table of every API this broker serves.
//
// A handler gets the decoded request and runs on the connection's shard; it may await work on
// other shards. Each handler lives in its own file under handlers/ (one per API family).
#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "broker/file_backed_records.h"
#include "net/server.h"
#include "protocol/frame.h"
#include "protocol/kafka_error.h"

namespace ms::broker {

class broker;

struct request_context {
    broker& owner;
    net::shard& home;
    const net::connection_info& connection;
    const protocol::request_header& header;
    protocol::api_version version = 0;
};

struct handler_reply {
    handler_reply() = default;
    // NOLINTNEXTLINE(google-explicit-constructor): handlers return their response directly
    handler_reply(protocol::any_response r) : response(std::move(r)) {}
    handler_reply(std::optional<protocol::any_response> r, bool close_after,
                  std::shared_ptr<file_backed_records> sent_from_files = nullptr)
      : response(std::move(r)), close(close_after), files(std::move(sent_from_files)) {}

    std::optional<protocol::any_response> response; // nothing: send no response (acks=0)
    bool close = false;                             // close the connection after this request
    std::shared_ptr<file_backed_records> files;     // records sent with sendfile (Fetch)
    bool failed = false; // some part was answered with an error code (counted in the API's errors)
};

using handler_fn = boost::asio::awaitable<handler_reply> (*)(request_context&, protocol::any_request&);

struct handler_entry {
    int16_t key;
    protocol::api_version min_version;
    protocol::api_version max_version;
    handler_fn handle;
};

boost::asio::awaitable<handler_reply> handle_api_versions(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_metadata(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_produce(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_fetch(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_list_offsets(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_create_topics(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_delete_topics(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_find_coordinator(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_join_group(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_sync_group(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_heartbeat(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_leave_group(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_offset_commit(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_offset_fetch(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_offset_delete(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_list_groups(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_describe_groups(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_delete_groups(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_delete_records(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_describe_configs(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_alter_configs(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_create_partitions(request_context&, protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_incremental_alter_configs(request_context&,
                                                                       protocol::any_request&);
boost::asio::awaitable<handler_reply> handle_describe_cluster(request_context&, protocol::any_request&);

// The APIs and versions advertised in ApiVersions; nothing outside it is served. Versions follow
// ../shared/KAFKA-PROTOCOL.md: floors of 0 except Produce 3 and Fetch 4 (record batch v2 only).
inline constexpr std::array<handler_entry, 24> handler_table{{
  {0, 3, 9, &handle_produce},           {1, 4, 12, &handle_fetch},
  {2, 0, 4, &handle_list_offsets},      {3, 0, 8, &handle_metadata},
  {8, 0, 8, &handle_offset_commit},     {9, 0, 7, &handle_offset_fetch},
  {10, 0, 3, &handle_find_coordinator}, {11, 0, 6, &handle_join_group},
  {12, 0, 4, &handle_heartbeat},        {13, 0, 4, &handle_leave_group},
  {14, 0, 4, &handle_sync_group},       {15, 0, 5, &handle_describe_groups},
  {16, 0, 4, &handle_list_groups},      {18, 0, 3, &handle_api_versions},
  {19, 0, 7, &handle_create_topics},    {20, 0, 6, &handle_delete_topics},
  {21, 0, 2, &handle_delete_records},   {32, 0, 4, &handle_describe_configs},
  {33, 0, 2, &handle_alter_configs},    {37, 0, 3, &handle_create_partitions},
  {42, 0, 2, &handle_delete_groups},    {44, 0, 1, &handle_incremental_alter_configs},
  {47, 0, 0, &handle_offset_delete},    {60, 0, 0, &handle_describe_cluster},
}};

[[nodiscard]] constexpr const handler_entry* find_handler(int16_t key) noexcept {
    for (const auto& h : handler_table) {
        if (h.key == key) {
            return &h;
        }
    }
    return nullptr;
}

[[nodiscard]] constexpr int16_t error_code(protocol::kafka_error e) noexcept {
    return static_cast<int16_t>(e);
}

} // namespace ms::broker
