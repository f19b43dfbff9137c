#include "broker/dispatcher.h"

#include <chrono>

#include "base/log_limiter.h"
#include "base/logging.h"
#include "broker/broker.h"
#include "broker/handlers/handler.h"
#include "protocol/frame.h"

namespace ms::broker {

namespace asio = boost::asio;
using net::handler_outcome;

namespace {

// At most this many lines per second per shard about refused requests: a hostile client must not
// be able to flood the log; the next line let through says how many were suppressed.
constexpr uint32_t log_lines_per_second = 10;

template<typename... Args>
handler_outcome close_with(const net::connection_info& conn, fmt::format_string<Args...> why,
                           Args&&... args) {
    thread_local logging::log_limiter limiter(log_lines_per_second, std::chrono::seconds(1));
    const auto decision = limiter.admit();
    if (decision.allowed) {
        logging::get("kafka")->warn("closing connection from {}: {}{}", conn.peer,
                                    fmt::format(why, std::forward<Args>(args)...),
                                    logging::log_limiter::suffix(decision));
    }
    return handler_outcome{handler_outcome::action::close, {}, {}};
}

handler_outcome api_versions_fallback(int32_t correlation_id) {
    protocol::api_versions_response r;
    r.error_code = error_code(protocol::kafka_error::unsupported_version);
    const handler_entry* self = find_handler(protocol::api_versions_key);
    r.api_keys.push_back({protocol::api_key(self->key), self->min_version, self->max_version, {}});
    handler_outcome out;
    protocol::encode_response(correlation_id, 0, r, out.bytes);
    return out;
}

} // namespace

asio::awaitable<handler_outcome> dispatcher::handle(iobuf frame, const net::connection_info& conn) {
    const auto started = std::chrono::steady_clock::now();
    shard_metrics& metrics = _owner.metrics_here();
    auto preamble = protocol::peek_request(frame);
    if (!preamble) {
        ++metrics.api(-1).requests;
        ++metrics.api(-1).errors;
        co_return close_with(conn, "truncated request header");
    }
    // Counted under its key even when refused; keys outside the table share one slot.
    api_stats& stats = metrics.api(preamble->api_key);
    ++stats.requests;
    const handler_entry* entry = find_handler(preamble->api_key);
    if (entry == nullptr) {
        ++stats.errors;
        co_return close_with(conn, "unsupported API key {}", preamble->api_key);
    }
    if (preamble->version < entry->min_version || preamble->version > entry->max_version) {
        ++stats.errors;
        if (preamble->api_key == protocol::api_versions_key) {
            co_return api_versions_fallback(preamble->correlation_id);
        }
        co_return close_with(conn, "API key {} version {} is not supported (range {}-{})", preamble->api_key,
                             preamble->version, entry->min_version, entry->max_version);
    }
    auto request = protocol::decode_request(frame);
    if (!request) {
        ++stats.errors;
        co_return close_with(conn, "API key {} v{} does not decode: {}", preamble->api_key, preamble->version,
                             protocol::describe(request.error()));
    }
    request_context ctx{_owner, *net::shard::current(), conn, request->header, preamble->version};
    handler_reply reply = co_await entry->handle(ctx, request->body);
    if (reply.close || reply.failed) {
        ++stats.errors;
    }
    if (reply.close) {
        stats.latency.record(std::chrono::steady_clock::now() - started);
        co_return handler_outcome{handler_outcome::action::close, {}, {}};
    }
    if (!reply.response) {
        stats.latency.record(std::chrono::steady_clock::now() - started);
        co_return handler_outcome{handler_outcome::action::no_reply, {}, {}};
    }
    handler_outcome out;
    protocol::encode_response(preamble->correlation_id, preamble->version, *reply.response, out.bytes);
    if (reply.files && !reply.files->empty()) {
        out.splices = reply.files->splices(out.bytes);
    }
    stats.latency.record(std::chrono::steady_clock::now() - started);
    co_return out;
}

} // namespace ms::broker
