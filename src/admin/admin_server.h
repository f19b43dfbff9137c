#pragma once
// admin_server: the broker's admin HTTP API (`admin.listen`, default 127.0.0.1:9644):
//   GET /metrics     Prometheus text format (admin/metrics_page.h)
//   GET /v1/health   200 while the process serves HTTP
//   GET /v1/ready    200 while the broker accepts Kafka requests, 503 once it stops
//   GET /v1/topics, /v1/groups, /v1/config   JSON (admin/json_pages.h)
// docs/admin-http.md describes every endpoint and metric.
//
// Lifetime: start() after broker::start() (the pages read the shards), stop() before
// broker::stop(). The HTTP side runs on its own thread (see http_server.h).
#include <memory>
#include <string>

#include "admin/http_server.h"
#include "admin/routes.h"
#include "broker/broker.h"

namespace ms::admin {

class admin_server final : public http_handler {
public:
    explicit admin_server(broker::broker& b, http_server_limits limits = {});

    // Binds `address` and starts serving; the error says what failed and names admin.listen.
    [[nodiscard]] result<void, std::string> start(const net::listen_address& address);
    [[nodiscard]] uint16_t bound_port() const noexcept { return _http.bound_port(); }
    void stop() { _http.stop(); }

    boost::asio::awaitable<http_response> answer(const http_request& request) override;

private:
    // The pages read from every shard: /metrics, /v1/topics, /v1/groups.
    boost::asio::awaitable<http_response> from_shards(endpoint page);
    broker::broker& _broker;
    http_server _http;
};

} // namespace ms::admin
