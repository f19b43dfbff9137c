#include "client/broker_pool.h"

#include <fmt/format.h>

#include "protocol/kafka_error.h"

namespace ms::client {

broker_pool::broker_pool(std::unique_ptr<kafka_connection> first, milliseconds timeout)
  : _bootstrap(std::move(first)), _timeout(timeout) {}

result<broker_pool, std::string> broker_pool::connect(const std::vector<endpoint>& bootstrap,
                                                      milliseconds timeout) {
    std::string failures;
    for (const auto& e : bootstrap) {
        auto conn = kafka_connection::open(e, timeout);
        if (conn) {
            return broker_pool(std::make_unique<kafka_connection>(std::move(*conn)), timeout);
        }
        failures += (failures.empty() ? "" : "; ") + conn.error();
    }
    if (failures.empty()) {
        return unexpected(std::string("no broker given (see --brokers)"));
    }
    return unexpected(std::move(failures));
}

result<kafka_connection*, std::string> broker_pool::node(int32_t id) {
    const auto found = _addresses.find(id);
    if (found == _addresses.end()) {
        return unexpected(fmt::format("broker {} is not in the cluster metadata", id));
    }
    return at(found->second);
}

result<kafka_connection*, std::string> broker_pool::at(const endpoint& to) {
    if (_bootstrap->peer() == to) {
        return _bootstrap.get();
    }
    for (auto& c : _others) {
        if (c->peer() == to) {
            return c.get();
        }
    }
    auto conn = kafka_connection::open(to, _timeout);
    if (!conn) {
        return unexpected(std::move(conn.error()));
    }
    _others.push_back(std::make_unique<kafka_connection>(std::move(*conn)));
    return _others.back().get();
}

std::string unsupported_api_message(const kafka_connection& conn, std::string_view api, int16_t key) {
    return fmt::format("the broker {} does not support {} (API key {}) in a version this tool speaks",
                       conn.peer().to_string(), api, key);
}

std::string kafka_error_text(int16_t code, const std::optional<std::string>& message) {
    const auto e = protocol::to_kafka_error(code);
    std::string text = fmt::format("{} ({})", protocol::name(e), protocol::description(e));
    if (message && !message->empty()) {
        text += ": " + *message;
    }
    return text;
}

} // namespace ms::client
