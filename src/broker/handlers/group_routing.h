#pragma once
// Helpers shared by the group handlers: running coordinator work on the shard that owns a group.
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "broker/broker.h"
#include "broker/handlers/handler.h"
#include "net/shard.h"

namespace ms::broker {

// Runs work(group_manager&, reply) on the shard of `group_id` and returns what reply got.
template<typename T, typename Work>
boost::asio::awaitable<T> call_on_group(broker& owner, std::string_view group_id, Work work) {
    auto run = [&owner, work = std::move(work)](auto reply) mutable {
        work(owner.groups_here(), std::move(reply));
    };
    co_return co_await net::call_on<T>(owner.shards().at(owner.group_shard(group_id)), std::move(run));
}

// Kafka's client host: the peer address with a leading slash ("/127.0.0.1").
[[nodiscard]] inline std::string client_host(const net::connection_info& conn) {
    const auto colon = conn.peer.rfind(':');
    return "/" + conn.peer.substr(0, colon == std::string::npos ? conn.peer.size() : colon);
}

} // namespace ms::broker
