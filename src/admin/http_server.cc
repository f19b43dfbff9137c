#include "admin/http_server.h"

#include <pthread.h>

#include <array>
#include <cstdio>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "base/logging.h"

namespace ms::admin {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
} // namespace

struct http_server::connection : std::enable_shared_from_this<connection> {
    explicit connection(tcp::socket s) : socket(std::move(s)), deadline(socket.get_executor()) {}
    tcp::socket socket;
    asio::steady_timer deadline;
    std::list<std::shared_ptr<connection>>::iterator position;

    // Closes the socket when the deadline passes: a pending read or write then fails.
    void arm(std::chrono::milliseconds timeout) {
        deadline.expires_after(timeout);
        deadline.async_wait([self = weak_from_this()](boost::system::error_code ec) {
            if (auto conn = self.lock(); conn && !ec) {
                boost::system::error_code ignored;
                conn->socket.close(ignored);
            }
        });
    }
};

std::string_view status_text(int status) noexcept {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

std::string serialize(const http_response& response, bool head_only) {
    std::string out =
      fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                  "Connection: close\r\nCache-Control: no-store\r\n",
                  response.status, status_text(response.status), response.content_type, response.body.size());
    for (const auto& [name, value] : response.headers) {
        fmt::format_to(std::back_inserter(out), "{}: {}\r\n", name, value);
    }
    out += "\r\n";
    if (!head_only) {
        out += response.body;
    }
    return out;
}

http_server::http_server(http_handler& handle, http_server_limits limits)
  : _handle(handle), _limits(limits) {}

http_server::~http_server() {
    try {
        stop();
    } catch (const std::exception& e) { // a destructor must not throw
        (void)std::fprintf(stderr, "stopping the admin HTTP server: %s\n", e.what());
    }
}

result<void, std::string> http_server::start(const net::listen_address& address) {
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address.host, ec);
    if (ec) {
        return unexpected(fmt::format("'{}' is not an IP address", address.host));
    }
    tcp::acceptor acceptor(_io);
    const tcp::endpoint endpoint(ip, address.port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return unexpected(
          fmt::format("cannot listen on {}:{}: {}", address.host, address.port, ec.message()));
    }
    _port = acceptor.local_endpoint().port();
    _acceptor.emplace(std::move(acceptor));
    _guard.emplace(_io.get_executor());
    asio::co_spawn(_io, accept_loop(), asio::detached);
    _thread = std::thread([this] {
        ::pthread_setname_np(::pthread_self(), "admin-http");
        _io.run();
    });
    return {};
}

void http_server::stop() {
    if (!_thread.joinable()) {
        return;
    }
    asio::post(_io, [this] {
        _stopping = true;
        boost::system::error_code ignored;
        _acceptor->close(ignored);
        for (auto& conn : _connections) {
            conn->socket.close(ignored);
            conn->deadline.cancel();
        }
        // The thread runs until the last connection's handler has finished: a scrape waiting for
        // the shards gets their answer (they are still running) before this object goes away.
        if (_connections.empty()) {
            _guard.reset();
        }
    });
    _thread.join();
}

void http_server::finished(connection& conn) {
    conn.deadline.cancel();
    _connections.erase(conn.position);
    if (_stopping && _connections.empty()) {
        _guard.reset();
    }
}

asio::awaitable<void> http_server::accept_loop() {
    auto log = logging::get("admin");
    while (!_stopping) {
        auto [ec, socket] = co_await _acceptor->async_accept(no_throw);
        if (ec) {
            if (_stopping || ec == asio::error::operation_aborted) {
                co_return;
            }
            logging::warn_limited(_refusal_log, *log, "admin HTTP: accept failed: {}; retrying in 100 ms",
                                  ec.message());
            asio::steady_timer pause(_io, std::chrono::milliseconds(100));
            co_await pause.async_wait(no_throw);
            continue;
        }
        if (_connections.size() >= _limits.max_connections) {
            logging::warn_limited(_refusal_log, *log, "admin HTTP: refusing a connection: {} already open",
                                  _connections.size());
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        auto conn = std::make_shared<connection>(std::move(socket));
        _connections.push_front(conn);
        conn->position = _connections.begin();
        asio::co_spawn(_io, serve(std::move(conn)), asio::detached);
    }
}

asio::awaitable<void> http_server::serve(std::shared_ptr<connection> conn) {
    conn->arm(_limits.read_timeout);
    std::string received;
    received.resize(_limits.request.max_head_bytes);
    size_t filled = 0;
    http_parse_result parsed;
    while (parsed.outcome == http_parse_result::state::incomplete) {
        auto [ec, n] = co_await conn->socket.async_read_some(
          asio::buffer(received.data() + filled, received.size() - filled), no_throw);
        if (ec) {
            finished(*conn); // closed, reset, or the read deadline passed
            co_return;
        }
        filled += n;
        parsed = parse_http_request(std::string_view(received.data(), filled), _limits.request);
    }
    http_response response;
    bool head_only = false;
    if (parsed.outcome == http_parse_result::state::refused) {
        response.status = parsed.status;
        response.body = parsed.reason + "\n";
    } else {
        head_only = parsed.request.method == "HEAD";
        try {
            response = co_await _handle.answer(parsed.request);
        } catch (const std::exception& e) {
            logging::get("admin")->error("admin HTTP {} {}: {}", parsed.request.method, parsed.request.path,
                                         e.what());
            response = http_response{500, "text/plain; charset=utf-8", "internal error\n", {}};
        }
    }
    if (_stopping) {
        finished(*conn);
        co_return;
    }
    conn->deadline.cancel();
    conn->arm(_limits.write_timeout);
    const std::string bytes = serialize(response, head_only);
    auto [ec, n] = co_await asio::async_write(conn->socket, asio::buffer(bytes), no_throw);
    boost::system::error_code ignored;
    if (!ec) {
        conn->socket.shutdown(tcp::socket::shutdown_send, ignored);
    }
    conn->socket.close(ignored);
    finished(*conn);
}

} // namespace ms::admin
