#pragma once
// http_server: a small HTTP/1.1 server for the admin API, on its own thread with its own
// io_context.
//
// Why its own thread and not shard 0: rendering a scrape (text for every topic and API) and
// serving slow or hostile HTTP clients must never delay Kafka requests. The shards only run the
// short copy of their counters a scrape asks for (admin/collect.h); everything else happens here.
//
// One request per connection (the response says `Connection: close`): scrapes come every few
// seconds, so keep-alive buys nothing and one request per connection keeps the state trivial.
// Limits, so that clients cannot hurt the broker: at most `max_connections` at once (more are
// closed at once), the request head bounded and parsed strictly (http_request.h), and a deadline
// per connection for reading the request and another for writing the response, after which the
// connection is closed.
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "admin/http_request.h"
#include "base/log_limiter.h"
#include "base/result.h"
#include "net/server.h"

namespace ms::admin {

struct http_response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; // extra ones, e.g. Allow
};

struct http_server_limits {
    http_limits request;
    size_t max_connections = 64;
    std::chrono::milliseconds read_timeout{10'000};  // from accept to the end of the request head
    std::chrono::milliseconds write_timeout{30'000}; // to send the whole response
};

// The status line's reason phrase.
[[nodiscard]] std::string_view status_text(int status) noexcept;
// The bytes of a whole response (`head_only`: for HEAD, the headers without the body).
[[nodiscard]] std::string serialize(const http_response& response, bool head_only);

// What answers the requests: answer() runs on the server's thread and may await work elsewhere
// (on shards).
class http_handler {
public:
    http_handler() = default;
    http_handler(const http_handler&) = delete;
    http_handler& operator=(const http_handler&) = delete;
    virtual ~http_handler() = default;
    virtual boost::asio::awaitable<http_response> answer(const http_request& request) = 0;
};

class http_server {
public:
    // REQUIRES: `handle` outlives the server.
    http_server(http_handler& handle, http_server_limits limits);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and starts the thread. The error names the address.
    [[nodiscard]] result<void, std::string> start(const net::listen_address& address);
    [[nodiscard]] uint16_t bound_port() const noexcept { return _port; }
    // Stops accepting, closes every connection, waits for handlers in flight and joins the thread.
    void stop();

private:
    struct connection;

    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(std::shared_ptr<connection> conn);
    void finished(connection& conn);

    http_handler& _handle;
    http_server_limits _limits;
    boost::asio::io_context _io{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> _guard;
    std::optional<boost::asio::ip::tcp::acceptor> _acceptor;
    // Touched only on the server's thread:
    std::list<std::shared_ptr<connection>> _connections;
    bool _stopping = false;
    logging::log_limiter _refusal_log{5, std::chrono::seconds(10)};
    std::thread _thread;
    uint16_t _port = 0;
};

} // namespace ms::admin
