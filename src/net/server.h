#pragma once
// server: the Kafka listener. Every shard accepts on its own socket bound to the same address
// with SO_REUSEPORT; the accepting shard hands each new connection to the shard that serves the
// fewest (ties in turn), and the connection lives there.
//
// A connection reads frames (4-byte big-endian size, then that many bytes) and starts a handler
// for each at once, so pipelined requests overlap (a produce waiting for its fsync does not hold
// up the next one); a writer sends the answers strictly in request order. A per-connection
// budget of requests and bytes in flight bounds this: when it is used up the connection stops
// reading, and a client that sends faster than it is served fills its socket buffer and is slowed
// by TCP (back-pressure) instead of growing our memory.
//
// Limits enforced before any allocation: the frame size (socket.request.max.bytes; a bigger or
// negative size closes the connection), the number of connections (max.connections; extra ones
// are closed at once), and idle connections (connections.max.idle.ms). Frame bodies are read in
// pool-sized pieces as bytes arrive, so a client announcing a large frame and sending nothing
// costs no memory.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/iobuf.h"
#include "base/result.h"
#include "net/shard.h"

namespace ms::net {

struct listen_address {
    std::string host = "127.0.0.1";
    uint16_t port = 9092;
};

// Parses "HOST:PORT" (IPv6 as "[::1]:9092"); the message says what is wrong.
[[nodiscard]] result<listen_address, std::string> parse_listen_address(std::string_view text);

struct server_limits {
    size_t max_request_bytes = 100ULL * 1024 * 1024;
    std::chrono::milliseconds idle_timeout{600'000};
    size_t max_connections = 10'000;
    // Per connection: stop reading while this many requests, or this many request bytes, are in
    // flight (one request of any allowed size is always accepted).
    size_t max_in_flight_requests = 64;
    size_t max_in_flight_bytes = 32ULL * 1024 * 1024;
};

struct connection_info {
    shard_id home = 0;
    uint64_t id = 0;
    std::string peer; // "host:port" of the client
};

// Bytes of a response that are sent from a file with sendfile(2) instead of from memory: the
// response's `bytes` hold placeholders at [position, position + length), which are skipped.
struct file_splice {
    size_t position = 0;
    size_t length = 0;
    std::shared_ptr<const void> keep_alive; // keeps `fd` open until the bytes are sent
    int fd = -1;
    uint64_t file_offset = 0;
};

// What to do after a request.
struct handler_outcome {
    enum class action : uint8_t { reply, no_reply, close };
    action what = action::reply;
    iobuf bytes;                      // whole response frame(s), size prefix included, for action::reply
    std::vector<file_splice> splices; // in position order; empty for most responses
};

// Implemented by the broker. handle() runs on the connection's shard.
class request_handler {
public:
    request_handler() = default;
    request_handler(const request_handler&) = delete;
    request_handler& operator=(const request_handler&) = delete;
    virtual ~request_handler() = default;
    virtual asio::awaitable<handler_outcome> handle(iobuf frame, const connection_info& conn) = 0;
};

struct pending_request;

class server {
public:
    server(shard_set& shards, request_handler& handler, server_limits limits);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds a listener on every shard. Called off the shard threads, after shards.start().
    [[nodiscard]] result<void, std::string> listen(const listen_address& address);
    // The port actually bound (useful with port 0).
    [[nodiscard]] uint16_t bound_port() const noexcept { return _bound_port; }
    // Stops accepting, lets requests in flight finish and closes every connection; waits at most
    // `grace` for the requests. Called off the shard threads.
    void drain(std::chrono::milliseconds grace);
    [[nodiscard]] size_t connection_count() const noexcept { return _connections.load(); }

private:
    struct connection;
    struct per_shard;

    asio::awaitable<void> accept_loop(per_shard& local);
    per_shard& least_loaded();
    void start_serving(per_shard& local, asio::ip::tcp::socket socket);
    asio::awaitable<void> serve(std::shared_ptr<connection> conn, per_shard& local);
    asio::awaitable<void> read_requests(std::shared_ptr<connection> conn);
    asio::awaitable<void> run_handler(std::shared_ptr<connection> conn, std::shared_ptr<pending_request> slot,
                                      iobuf frame);
    asio::awaitable<void> sweep_idle(per_shard& local);
    static asio::awaitable<bool> write_outcome(connection& conn, const handler_outcome& outcome,
                                               std::vector<asio::const_buffer>& gather);

    shard_set& _shards;
    request_handler& _handler;
    server_limits _limits;
    std::vector<std::unique_ptr<per_shard>> _locals;
    std::atomic<size_t> _connections{0};
    std::atomic<size_t> _accepted{0}; // turns for least_loaded()'s ties
    std::atomic<uint64_t> _next_connection_id{1};
    uint16_t _bound_port = 0;
};

} // namespace ms::net
