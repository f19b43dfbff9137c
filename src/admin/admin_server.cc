#include "admin/admin_server.h"

#include <fmt/format.h>

#include "admin/collect.h"
#include "admin/json.h"
#include "admin/json_pages.h"
#include "admin/metrics_page.h"
#include "admin/routes.h"

namespace ms::admin {

namespace {
constexpr std::string_view json_type = "application/json";
// The content type Prometheus expects for the text format.
constexpr std::string_view metrics_type = "text/plain; version=0.0.4; charset=utf-8";

http_response json(int status, std::string body) {
    return http_response{status, std::string(json_type), std::move(body), {}};
}
} // namespace

admin_server::admin_server(broker::broker& b, http_server_limits limits) : _broker(b), _http(*this, limits) {}

result<void, std::string> admin_server::start(const net::listen_address& address) {
    if (auto started = _http.start(address); !started) {
        return unexpected(fmt::format("admin.listen: {} (choose another address with --admin-listen, or "
                                      "`off` to run without the admin API)",
                                      started.error()));
    }
    return {};
}

boost::asio::awaitable<http_response> admin_server::answer(const http_request& request) {
    const route_result where = route(request.method, request.path);
    if (!where.target) {
        http_response refused{where.status,
                              "text/plain; charset=utf-8",
                              where.status == 405
                                ? "method not allowed: use GET or HEAD\n"
                                : "not found: see /metrics and /v1/{health,ready,topics,groups,config}\n",
                              {}};
        if (where.status == 405) {
            refused.headers.emplace_back("Allow", "GET, HEAD");
        }
        co_return refused;
    }
    switch (*where.target) {
    case endpoint::health: co_return json(200, "{\"status\":\"ok\"}\n");
    case endpoint::ready: {
        const bool ready = _broker.serving();
        co_return json(ready ? 200 : 503, fmt::format("{{\"ready\":{},\"kafka_port\":{}}}\n",
                                                      ready ? "true" : "false", _broker.port()));
    }
    case endpoint::config: co_return json(200, render_config(_broker.config().settings));
    case endpoint::groups:
    case endpoint::topics:
    case endpoint::metrics:
#ifdef __clang_analyzer__
        // clang-analyzer (clang-tidy 14) follows a co_await of these pages into Asio's awaitable
        // machinery and reports null dereferences there that cannot happen (as in collect.cc); it
        // checks the rest of this file.
        break;
#else
        co_return co_await from_shards(*where.target);
#endif
    }
    co_return json(500, "{\"error\":\"unhandled endpoint\"}\n");
}

} // namespace ms::admin

#ifndef __clang_analyzer__
namespace ms::admin {

boost::asio::awaitable<http_response> admin_server::from_shards(endpoint page) {
    if (page == endpoint::groups) {
        const std::vector<group_entry> groups = co_await collect_groups(_broker);
        co_return json(200, render_groups(groups));
    }
    const broker_totals totals = co_await collect_totals(_broker);
    if (page == endpoint::topics) {
        co_return json(200, render_topics(totals));
    }
    co_return http_response{200, std::string(metrics_type), render_metrics(totals), {}};
}

} // namespace ms::admin
#endif
