#include "net/server.h"

#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <deque>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "base/endian.h"
#include "base/log_limiter.h"
#include "base/logging.h"

namespace ms::net {

namespace {
using tcp = asio::ip::tcp;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
// The smallest request: api key, version, correlation id, client id length.
constexpr int32_t min_request_bytes = 2 + 2 + 4 + 2;
// Frame bodies are read in pieces of at most this size, so memory follows the bytes received.
constexpr size_t read_piece_bytes = size_t{64} * 1024;
// Replies gathered into one write at most (asio writes them in groups of its own maximum).
constexpr size_t max_coalesced_replies = 256;
// Warnings a client can provoke at will are let through this often per shard and kind.
constexpr uint32_t warnings_per_second = 10;
} // namespace

result<listen_address, std::string> parse_listen_address(std::string_view text) {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
        return unexpected(fmt::format("'{}' is not HOST:PORT (e.g. 127.0.0.1:9092)", text));
    }
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
        return unexpected(fmt::format("'{}': port '{}' is not a number from 0 to 65535", text, port_text));
    }
    return listen_address{std::string(host), static_cast<uint16_t>(port)};
}

// A request read from the connection, answered in arrival order once its handler finishes.
struct pending_request {
    size_t frame_bytes = 0;
    bool ready = false;
    handler_outcome outcome;
};

struct server::connection {
    connection(tcp::socket s, asio::io_context& io)
      : socket(std::move(s)), writer_wakeup(io), reader_wakeup(io) {}
    tcp::socket socket;
    connection_info info;
    std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
    // Requests in flight, oldest first; the writer answers from the front.
    std::deque<std::shared_ptr<pending_request>> in_flight;
    size_t in_flight_bytes = 0;
    // Timers used as condition variables (all on the shard's thread: set the state, then cancel).
    asio::steady_timer writer_wakeup;
    asio::steady_timer reader_wakeup;
    bool reader_done = false;
    bool finished = false; // stop reading and answering: closed, failed, or a handler asked to close
    std::list<std::shared_ptr<connection>>::iterator position;

    [[nodiscard]] bool busy() const noexcept { return !in_flight.empty(); }
    void wake_writer() { writer_wakeup.cancel(); }
    void wake_reader() { reader_wakeup.cancel(); }
};

namespace {
asio::awaitable<void> wait_for_wakeup(asio::steady_timer& timer) {
    timer.expires_at(std::chrono::steady_clock::time_point::max());
    co_await timer.async_wait(no_throw);
}
} // namespace

struct server::per_shard {
    explicit per_shard(shard& s) : home(s), sweeper(s.context()) {}
    shard& home;
    std::optional<tcp::acceptor> acceptor;
    asio::steady_timer sweeper;
    std::list<std::shared_ptr<connection>> connections;
    bool draining = false;
    std::atomic<size_t> served{0}; // connections this shard serves (read by the others' acceptors)
};

server::server(shard_set& shards, request_handler& handler, server_limits limits)
  : _shards(shards), _handler(handler), _limits(limits) {
    for (shard_id i = 0; i < shards.size(); ++i) {
        _locals.push_back(std::make_unique<per_shard>(shards.at(i)));
    }
}

server::~server() = default;

result<void, std::string> server::listen(const listen_address& address) {
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address.host, ec);
    if (ec) {
        return unexpected(fmt::format("listen address '{}' is not an IP address", address.host));
    }
    uint16_t port = address.port;
    for (auto& local : _locals) {
        tcp::acceptor acceptor(local->home.context());
        const tcp::endpoint endpoint(ip, port);
        if (acceptor.open(endpoint.protocol(), ec); !ec) {
            acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
            acceptor.set_option(reuse_port(true), ec);
            acceptor.bind(endpoint, ec);
        }
        if (!ec) {
            acceptor.listen(asio::socket_base::max_listen_connections, ec);
        }
        if (ec) {
            return unexpected(fmt::format("cannot listen on {}:{}: {} (is another broker running there? "
                                          "choose another port with --listen)",
                                          address.host, port, ec.message()));
        }
        port = acceptor.local_endpoint().port();
        local->acceptor.emplace(std::move(acceptor));
    }
    _bound_port = port;
    for (auto& local : _locals) {
        per_shard* l = local.get();
        asio::co_spawn(l->home.context(), accept_loop(*l), asio::detached);
        asio::co_spawn(l->home.context(), sweep_idle(*l), asio::detached);
    }
    return {};
}

asio::awaitable<void> server::accept_loop(per_shard& local) {
    auto log = logging::get("net");
    // Clients can trigger these as often as they like: a few lines per second per shard at most.
    thread_local logging::log_limiter accept_failures(warnings_per_second, std::chrono::seconds(1));
    thread_local logging::log_limiter refusals(warnings_per_second, std::chrono::seconds(1));
    while (!local.draining && local.acceptor) {
        auto [ec, socket] = co_await local.acceptor->async_accept(no_throw);
        if (ec) {
            if (local.draining || ec == asio::error::operation_aborted) {
                co_return;
            }
            // Out of descriptors or memory: back off instead of spinning on the error.
            logging::warn_limited(accept_failures, *log, "accept failed: {}; retrying in 100 ms",
                                  ec.message());
            asio::steady_timer pause(local.home.context(), std::chrono::milliseconds(100));
            co_await pause.async_wait(no_throw);
            continue;
        }
        if (_connections.load(std::memory_order_relaxed) >= _limits.max_connections) {
            logging::warn_limited(refusals, *log, "refusing a connection: max.connections ({}) reached",
                                  _limits.max_connections);
            socket.close(ec);
            continue;
        }
        _connections.fetch_add(1, std::memory_order_relaxed);
        per_shard& target = least_loaded();
        target.served.fetch_add(1, std::memory_order_relaxed);
        if (&target == &local) {
            start_serving(local, std::move(socket));
            continue;
        }
        // Hand the descriptor to the target shard: a socket belongs to one shard's io_context.
        const auto protocol = socket.local_endpoint(ec).protocol();
        const int fd = ec ? -1 : socket.release(ec);
        if (ec || fd < 0) {
            target.served.fetch_sub(1, std::memory_order_relaxed);
            local.served.fetch_add(1, std::memory_order_relaxed);
            start_serving(local, std::move(socket));
            continue;
        }
        target.home.post([this, &target, fd, protocol] {
            boost::system::error_code failed;
            tcp::socket moved(target.home.context());
            if (!target.draining) {
                moved.assign(protocol, fd, failed);
            }
            if (target.draining || failed) {
                ::close(fd);
                target.served.fetch_sub(1, std::memory_order_relaxed);
                _connections.fetch_sub(1, std::memory_order_relaxed);
                return;
            }
            start_serving(target, std::move(moved));
        });
    }
}

// The shard serving the fewest connections; ties go round in turn, so connections that stay
// open (a client's bootstrap connection, then one per producer or consumer) alternate. The
// kernel's SO_REUSEPORT spread is a hash of the addresses: a few busy connections often land on
// one shard while the other idles.
server::per_shard& server::least_loaded() {
    const size_t count = _locals.size();
    const size_t turn = _accepted.fetch_add(1, std::memory_order_relaxed) % count;
    per_shard* best = nullptr;
    size_t fewest = 0;
    for (size_t i = 0; i < count; ++i) {
        per_shard& candidate = *_locals[(turn + i) % count];
        const size_t n = candidate.served.load(std::memory_order_relaxed);
        if (best == nullptr || n < fewest) {
            best = &candidate;
            fewest = n;
        }
    }
    return *best;
}

// On `local`'s thread; `served` already counts the connection.
void server::start_serving(per_shard& local, tcp::socket socket) {
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    socket.non_blocking(true, ec); // sendfile(2) on it must not block the shard
    auto conn = std::make_shared<connection>(std::move(socket), local.home.context());
    conn->info.home = local.home.id();
    conn->info.id = _next_connection_id.fetch_add(1, std::memory_order_relaxed);
    const auto remote = conn->socket.remote_endpoint(ec);
    conn->info.peer =
      ec ? std::string("unknown") : fmt::format("{}:{}", remote.address().to_string(), remote.port());
    local.connections.push_front(conn);
    conn->position = local.connections.begin();
    asio::co_spawn(local.home.context(), serve(std::move(conn), local), asio::detached);
}

namespace {
asio::awaitable<bool> write_bytes(tcp::socket& socket, const iobuf& bytes,
                                  std::vector<asio::const_buffer>& gather) {
    if (bytes.empty()) {
        co_return true;
    }
    gather.clear();
    for (size_t i = 0; i < bytes.piece_count(); ++i) {
        const auto piece = bytes.piece_bytes(i);
        gather.emplace_back(piece.data(), piece.size());
    }
    auto [ec, n] = co_await asio::async_write(socket, gather, no_throw);
    co_return !ec;
}

// sendfile(2) from the file straight to the socket: the bytes never enter user space.
asio::awaitable<bool> send_file(tcp::socket& socket, const file_splice& splice) {
    auto offset = static_cast<off_t>(splice.file_offset);
    size_t left = splice.length;
    while (left > 0) {
        const ssize_t sent = ::sendfile(socket.native_handle(), splice.fd, &offset, left);
        if (sent > 0) {
            left -= static_cast<size_t>(sent);
            continue;
        }
        if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
            auto [ec] = co_await socket.async_wait(tcp::socket::wait_write, no_throw);
            if (ec) {
                co_return false;
            }
            continue;
        }
        // 0: the file ended early; the frame cannot be completed, so the connection must close.
        co_return false;
    }
    co_return true;
}
} // namespace

asio::awaitable<bool> server::write_outcome(connection& conn, const handler_outcome& outcome,
                                            std::vector<asio::const_buffer>& gather) {
    if (outcome.splices.empty()) {
        co_return co_await write_bytes(conn.socket, outcome.bytes, gather);
    }
    size_t position = 0;
    for (const file_splice& splice : outcome.splices) {
        if (!co_await write_bytes(conn.socket, outcome.bytes.share(position, splice.position - position),
                                  gather) ||
            !co_await send_file(conn.socket, splice)) {
            co_return false;
        }
        position = splice.position + splice.length;
    }
    co_return co_await write_bytes(conn.socket,
                                   outcome.bytes.share(position, outcome.bytes.size() - position), gather);
}

// The writer half of a connection: answers requests in arrival order as their handlers finish,
// then closes the socket and waits for the reader half to stop. Consecutive ready replies held in
// memory leave in one gather write (one syscall, and on loopback one TCP push, for many replies).
asio::awaitable<void> server::serve(std::shared_ptr<connection> conn, per_shard& local) {
    asio::co_spawn(local.home.context(), read_requests(conn), asio::detached);
    std::vector<asio::const_buffer> gather;
    std::vector<asio::const_buffer> coalesced;
    std::vector<std::shared_ptr<pending_request>> written; // owns the bytes `coalesced` points at
    const auto flush = [&]() -> asio::awaitable<bool> {
        if (coalesced.empty()) {
            co_return true;
        }
        auto [ec, n] = co_await asio::async_write(conn->socket, coalesced, no_throw);
        coalesced.clear();
        written.clear();
        co_return !ec;
    };
    while (!conn->finished) {
        while (!conn->finished && !conn->in_flight.empty() && conn->in_flight.front()->ready) {
            std::shared_ptr<pending_request> done = std::move(conn->in_flight.front());
            conn->in_flight.pop_front();
            conn->in_flight_bytes -= done->frame_bytes;
            conn->wake_reader();
            if (done->outcome.what == handler_outcome::action::close) {
                conn->finished = true;
                break;
            }
            if (done->outcome.what == handler_outcome::action::reply) {
                if (done->outcome.splices.empty() && written.size() < max_coalesced_replies) {
                    const iobuf& bytes = done->outcome.bytes;
                    for (size_t i = 0; i < bytes.piece_count(); ++i) {
                        const auto piece = bytes.piece_bytes(i);
                        coalesced.emplace_back(piece.data(), piece.size());
                    }
                    written.push_back(std::move(done));
                } else if (!co_await flush() || !co_await write_outcome(*conn, done->outcome, gather)) {
                    conn->finished = true;
                    break;
                }
            }
            conn->last_activity = std::chrono::steady_clock::now();
        }
        if (!coalesced.empty()) {
            if (!co_await flush()) {
                conn->finished = true;
            }
            continue; // replies that became ready during the write woke nobody: look again
        }
        if (conn->finished || (conn->reader_done && conn->in_flight.empty())) {
            break;
        }
        co_await wait_for_wakeup(conn->writer_wakeup);
    }
    conn->finished = true;
    boost::system::error_code ignored;
    conn->socket.close(ignored); // ends a read in progress
    conn->wake_reader();
    while (!conn->reader_done) {
        co_await wait_for_wakeup(conn->writer_wakeup);
    }
    local.connections.erase(conn->position);
    local.served.fetch_sub(1, std::memory_order_relaxed);
    _connections.fetch_sub(1, std::memory_order_relaxed);
}

// The reader half: reads frames while the in-flight budget allows and starts a handler for each.
// Handlers of one connection run concurrently, but each starts (and so reaches the partitions'
// owners) in arrival order, which keeps produce requests to a partition in order.
//
// Bytes are read as they come, as many as the socket has: a read usually brings a whole small
// request with its size prefix, or several pipelined ones, which are then shared out of the same
// fragments without copying. A large frame's remainder is read in pieces of up to read_piece_bytes.
asio::awaitable<void> server::read_requests(std::shared_ptr<connection> conn) {
    auto log = logging::get("net");
    thread_local logging::log_limiter bad_frames(warnings_per_second, std::chrono::seconds(1));
    boost::system::error_code ec;
    iobuf received; // read, not yet started as requests
    // Reads at least one more byte into `received`; false when the connection ends.
    const auto read_more = [&](size_t wanted) -> asio::awaitable<bool> {
        const std::span<std::byte> room = received.reserve(wanted >= read_piece_bytes ? read_piece_bytes : 1);
        size_t got = 0;
        std::tie(ec, got) =
          co_await conn->socket.async_read_some(asio::buffer(room.data(), room.size()), no_throw);
        received.commit(got);
        if (ec || conn->finished) {
            co_return false;
        }
        conn->last_activity = std::chrono::steady_clock::now();
        co_return true;
    };
    while (!conn->finished) {
        if (conn->in_flight.size() >= _limits.max_in_flight_requests ||
            conn->in_flight_bytes >= _limits.max_in_flight_bytes) {
            co_await wait_for_wakeup(conn->reader_wakeup); // back-pressure: TCP fills up
            continue;
        }
        std::array<std::byte, 4> size_prefix{};
        if (received.size() < size_prefix.size()) {
            if (!co_await read_more(size_prefix.size() - received.size())) {
                break;
            }
            continue;
        }
        received.copy_out(0, size_prefix);
        const auto size = load_be<int32_t>(size_prefix.data());
        if (size < min_request_bytes || static_cast<size_t>(size) > _limits.max_request_bytes) {
            logging::warn_limited(bad_frames, *log,
                                  "closing {}: frame size {} outside [{}, {}] (socket.request.max.bytes)",
                                  conn->info.peer, size, min_request_bytes, _limits.max_request_bytes);
            break;
        }
        const size_t whole = size_prefix.size() + static_cast<size_t>(size);
        if (received.size() < whole) {
            if (!co_await read_more(whole - received.size())) {
                break;
            }
            continue;
        }
        iobuf frame = received.share(size_prefix.size(), static_cast<size_t>(size));
        received.trim_front(whole);
        auto slot = std::make_shared<pending_request>();
        slot->frame_bytes = static_cast<size_t>(size);
        conn->in_flight.push_back(slot);
        conn->in_flight_bytes += slot->frame_bytes;
        asio::co_spawn(conn->socket.get_executor(), run_handler(conn, slot, std::move(frame)),
                       asio::detached);
    }
    conn->reader_done = true;
    conn->wake_writer();
}

asio::awaitable<void> server::run_handler(std::shared_ptr<connection> conn,
                                          std::shared_ptr<pending_request> slot, iobuf frame) {
    try {
        slot->outcome = co_await _handler.handle(std::move(frame), conn->info);
    } catch (const std::exception& e) {
        logging::get("net")->error("connection {}: internal error, closing it: {}", conn->info.peer,
                                   e.what());
        slot->outcome = handler_outcome{handler_outcome::action::close, {}, {}};
    }
    slot->ready = true;
    conn->wake_writer();
}

asio::awaitable<void> server::sweep_idle(per_shard& local) {
    const auto period =
      std::clamp(_limits.idle_timeout / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
    while (!local.draining) {
        local.sweeper.expires_after(period);
        auto [ec] = co_await local.sweeper.async_wait(no_throw);
        if (ec || local.draining) {
            co_return;
        }
        const auto cutoff = std::chrono::steady_clock::now() - _limits.idle_timeout;
        for (auto& conn : local.connections) {
            if (!conn->busy() && conn->last_activity < cutoff) {
                boost::system::error_code ignored;
                conn->socket.close(ignored); // its serve() loop ends and unregisters it
            }
        }
    }
}

void server::drain(std::chrono::milliseconds grace) {
    for (auto& local : _locals) {
        per_shard* l = local.get();
        l->home.post([l] {
            l->draining = true;
            l->sweeper.cancel();
            boost::system::error_code ignored;
            if (l->acceptor) {
                l->acceptor->close(ignored);
            }
            for (auto& conn : l->connections) {
                // No new requests; the writer answers the ones in flight, then closes.
                conn->socket.shutdown(tcp::socket::shutdown_receive, ignored);
                if (!conn->busy()) {
                    conn->finished = true;
                    conn->socket.close(ignored);
                    conn->wake_writer();
                }
            }
        });
    }
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (_connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& local : _locals) {
        per_shard* l = local.get();
        l->home.post([l] {
            boost::system::error_code ignored;
            for (auto& conn : l->connections) {
                conn->finished = true;
                conn->socket.close(ignored);
                conn->wake_writer();
                conn->wake_reader();
            }
        });
    }
    while (_connections.load() > 0 && std::chrono::steady_clock::now() < deadline + grace) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

} // namespace ms::net
