#pragma once

// broker_pool: the connections one CLI command holds. It starts from the first bootstrap broker
// that answers and opens a connection to another broker (by node id, from Metadata) the first time
// a request must go there: a partition's leader, a group's coordinator. Single-threaded.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/endpoint.h"
#include "client/kafka_connection.h"

namespace ms::client {

class broker_pool {
public:
    // Connects to the first of `bootstrap` that accepts and answers ApiVersions. The error lists
    // why each one failed.
    [[nodiscard]] static result<broker_pool, std::string> connect(const std::vector<endpoint>& bootstrap,
                                                                  milliseconds timeout);

    [[nodiscard]] kafka_connection& bootstrap() noexcept { return *_bootstrap; }
    [[nodiscard]] milliseconds timeout() const noexcept { return _timeout; }

    // Remembers where the brokers are (from a Metadata answer); replaces what was known.
    void learn(const std::map<int32_t, endpoint>& brokers) { _addresses = brokers; }
    // The connection to node `id`, opened now if needed. Fails when the node is unknown or does not
    // answer.
    [[nodiscard]] result<kafka_connection*, std::string> node(int32_t id);
    // A connection to `to` (the bootstrap connection when it is the same address).
    [[nodiscard]] result<kafka_connection*, std::string> at(const endpoint& to);

private:
    broker_pool(std::unique_ptr<kafka_connection> first, milliseconds timeout);

    std::unique_ptr<kafka_connection> _bootstrap;
    milliseconds _timeout;
    std::map<int32_t, endpoint> _addresses;
    std::vector<std::unique_ptr<kafka_connection>> _others;
};

[[nodiscard]] std::string unsupported_api_message(const kafka_connection& conn, std::string_view api,
                                                  int16_t key);

// The highest version of Request's API that both sides speak, or an error that says the broker
// does not support it ("the broker 127.0.0.1:9092 does not support DescribeConfigs (API key 32)").
template<typename Request>
[[nodiscard]] result<protocol::api_version, std::string>
negotiate(const kafka_connection& conn, protocol::api_version lowest = Request::min_version) {
    const auto v = conn.version_for(Request::api_key_value, Request::max_version);
    if (!v || *v < lowest) {
        std::string_view name = Request::message_name;
        if (name.ends_with("Request")) {
            name.remove_suffix(7);
        }
        return unexpected(unsupported_api_message(conn, name, Request::api_key_value));
    }
    return *v;
}

// "UNKNOWN_TOPIC_OR_PARTITION (This server does not host this topic-partition.)", plus
// ": <message>" when the broker sent one.
[[nodiscard]] std::string kafka_error_text(int16_t code, const std::optional<std::string>& message = {});

} // namespace ms::client
