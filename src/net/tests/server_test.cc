// The listener and connection loop with a scripted handler: framing limits, in-order answers to
// pipelined requests, idle timeout, the connection limit and draining.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "base/endian.h"
#include "net/server.h"

namespace ms::net {
namespace {

// Answers each frame with its own bytes after a delay taken from the frame's first byte (in ms),
// so later requests would overtake earlier ones if the server did not keep the order. A frame
// starting with 'C' closes the connection; one starting with 'N' gets no answer; one starting
// with 'H' is answered with the id of the shard serving the connection.
class echo_handler final : public request_handler {
public:
    asio::awaitable<handler_outcome> handle(iobuf frame, const connection_info& conn) override {
        std::string text = frame.to_string();
        if (text[0] == 'H') {
            EXPECT_EQ(shard::current()->id(), conn.home);
            text = std::to_string(conn.home);
            frame = iobuf::copy_of(std::as_bytes(std::span(text)));
        }
        if (text[0] == 'C') {
            co_return handler_outcome{handler_outcome::action::close, {}, {}};
        }
        if (text[0] == 'N') {
            co_return handler_outcome{handler_outcome::action::no_reply, {}, {}};
        }
        const int delay_ms = text[0] >= '0' && text[0] <= '9' ? text[0] - '0' : 0;
        asio::steady_timer delay(shard::current()->context(), std::chrono::milliseconds(delay_ms));
        co_await delay.async_wait(asio::use_awaitable);
        handler_outcome out;
        std::array<std::byte, 4> size{};
        store_be<int32_t>(size.data(), static_cast<int32_t>(text.size()));
        out.bytes.append(size);
        out.bytes.append(std::move(frame));
        co_return out;
    }
};

class client {
public:
    explicit client(uint16_t port) : _fd(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval timeout{5, 0};
        ::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        _connected = ::connect(_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~client() { ::close(_fd); }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    [[nodiscard]] bool connected() const { return _connected; }
    void send_raw(const std::string& bytes) const {
        ASSERT_EQ(::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
    }
    void send_frame(const std::string& body) const {
        std::string frame(4, '\0');
        store_be<int32_t>(reinterpret_cast<std::byte*>(frame.data()), static_cast<int32_t>(body.size()));
        send_raw(frame + body);
    }
    // The next frame's body, or nullopt when the server closed the connection.
    [[nodiscard]] std::optional<std::string> receive_frame() const {
        std::string size(4, '\0');
        if (!read_exact(size)) {
            return std::nullopt;
        }
        std::string body(
          static_cast<size_t>(load_be<int32_t>(reinterpret_cast<const std::byte*>(size.data()))), '\0');
        if (!read_exact(body)) {
            return std::nullopt;
        }
        return body;
    }
    // True when the server closed the connection (EOF) within the receive timeout.
    [[nodiscard]] bool closed_by_server() const {
        char byte = 0;
        return ::recv(_fd, &byte, 1, 0) == 0;
    }

private:
    bool read_exact(std::string& out) const {
        size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::recv(_fd, out.data() + done, out.size() - done, 0);
            if (n <= 0) {
                return false;
            }
            done += static_cast<size_t>(n);
        }
        return true;
    }
    int _fd;
    bool _connected = false;
};

class server_test : public ::testing::Test {
protected:
    void start(server_limits limits) {
        _shards.start();
        _server = std::make_unique<server>(_shards, _handler, limits);
        ASSERT_TRUE(_server->listen({"127.0.0.1", 0}).has_value());
    }
    void TearDown() override {
        if (_server) {
            _server->drain(std::chrono::milliseconds(1000));
        }
        _shards.stop();
    }
    uint16_t port() const { return _server->bound_port(); }

    shard_set _shards{2, false};
    echo_handler _handler;
    std::unique_ptr<server> _server;
};

const std::string ten_bytes = "0123456789"; // a valid minimum-size request body

TEST_F(server_test, answers_pipelined_requests_in_order) {
    start({});
    client c(port());
    ASSERT_TRUE(c.connected());
    // The first request takes longest; answers must still come back in request order.
    const std::vector<std::string> bodies{"9slow-request", "0fast-request", "5medium-request",
                                          "0last-request"};
    for (const auto& b : bodies) {
        c.send_frame(b);
    }
    for (const auto& b : bodies) {
        EXPECT_EQ(c.receive_frame(), b);
    }
}

// Many frames arrive in few reads (and some span the reader's fragments); replies become ready
// while earlier ones are being written. Every reply must still leave, in order.
TEST_F(server_test, answers_thousands_of_pipelined_requests_of_mixed_sizes_in_order) {
    start({});
    client c(port());
    ASSERT_TRUE(c.connected());
    std::vector<std::string> bodies;
    std::string wire;
    for (int i = 0; i < 3000; ++i) {
        const size_t extra =
          i % 97 == 0 ? size_t{70} * 1024 + static_cast<size_t>(i) : static_cast<size_t>(i % 300);
        std::string body = std::to_string(i % 3) + "-request-" + std::to_string(i) + std::string(extra, 'x');
        std::string frame(4, '\0');
        store_be<int32_t>(reinterpret_cast<std::byte*>(frame.data()), static_cast<int32_t>(body.size()));
        wire += frame + body;
        bodies.push_back(std::move(body));
    }
    std::thread sender([&] { c.send_raw(wire); });
    for (const auto& b : bodies) {
        const auto got = c.receive_frame();
        ASSERT_TRUE(got.has_value());
        ASSERT_EQ(*got, b);
    }
    sender.join();
}

// The second reply becomes ready while the first (larger than the socket buffers, and the client
// not reading yet) is still being written; it must not wait for a third request to be sent.
TEST_F(server_test, a_reply_ready_during_a_long_write_is_sent) {
    start({});
    client c(port());
    const std::string large = "0" + std::string(size_t{16} << 20, 'L');
    c.send_frame(large);
    c.send_frame("5-ready-during-the-write");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(c.receive_frame(), large);
    EXPECT_EQ(c.receive_frame(), "5-ready-during-the-write");
}

// Replies to the requests before a closing one are sent before the connection closes.
TEST_F(server_test, replies_before_a_close_are_sent) {
    start({});
    client c(port());
    std::string wire;
    for (const std::string body : {"0-first-one", "1-second-one", "C-close-me", "0-never-read"}) {
        std::string frame(4, '\0');
        store_be<int32_t>(reinterpret_cast<std::byte*>(frame.data()), static_cast<int32_t>(body.size()));
        wire += frame + body;
    }
    c.send_raw(wire);
    EXPECT_EQ(c.receive_frame(), "0-first-one");
    EXPECT_EQ(c.receive_frame(), "1-second-one");
    EXPECT_TRUE(c.closed_by_server());
}

TEST_F(server_test, no_reply_requests_send_nothing_and_keep_the_connection) {
    start({});
    client c(port());
    c.send_frame("N-acks-zero");
    c.send_frame("0-next-one");
    EXPECT_EQ(c.receive_frame(), "0-next-one");
}

TEST_F(server_test, handler_can_close_the_connection) {
    start({});
    client c(port());
    c.send_frame("C-close-me");
    EXPECT_TRUE(c.closed_by_server());
}

TEST_F(server_test, rejects_negative_tiny_and_oversized_frames_without_reading_them) {
    start({.max_request_bytes = 1024});
    for (const int32_t size : {-1, 0, 9, 1025, std::numeric_limits<int32_t>::max()}) {
        client c(port());
        std::string prefix(4, '\0');
        store_be<int32_t>(reinterpret_cast<std::byte*>(prefix.data()), size);
        c.send_raw(prefix);
        EXPECT_TRUE(c.closed_by_server()) << "size " << size;
    }
    client ok(port());
    ok.send_frame(ten_bytes);
    EXPECT_EQ(ok.receive_frame(), ten_bytes);
}

TEST_F(server_test, reads_a_frame_sent_one_byte_at_a_time) {
    start({});
    client c(port());
    std::string frame(4, '\0');
    store_be<int32_t>(reinterpret_cast<std::byte*>(frame.data()), static_cast<int32_t>(ten_bytes.size()));
    frame += ten_bytes;
    for (char byte : frame) {
        c.send_raw(std::string(1, byte));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(c.receive_frame(), ten_bytes);
}

TEST_F(server_test, closes_idle_connections) {
    start({.idle_timeout = std::chrono::milliseconds(200)});
    client c(port());
    c.send_frame(ten_bytes);
    EXPECT_EQ(c.receive_frame(), ten_bytes);
    EXPECT_TRUE(c.closed_by_server());
}

TEST_F(server_test, refuses_connections_beyond_the_limit) {
    start({.max_connections = 2});
    client a(port());
    client b(port());
    a.send_frame(ten_bytes);
    b.send_frame(ten_bytes);
    ASSERT_EQ(a.receive_frame(), ten_bytes);
    ASSERT_EQ(b.receive_frame(), ten_bytes);
    client c(port());
    EXPECT_TRUE(c.closed_by_server());
    EXPECT_EQ(_server->connection_count(), 2U);
}

TEST_F(server_test, drain_lets_the_request_in_flight_finish) {
    start({});
    client c(port());
    c.send_frame("9in-flight");
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    std::thread drainer([this] { _server->drain(std::chrono::milliseconds(2000)); });
    EXPECT_EQ(c.receive_frame(), "9in-flight");
    EXPECT_TRUE(c.closed_by_server());
    drainer.join();
    EXPECT_EQ(_server->connection_count(), 0U);
}

// The kernel spreads SO_REUSEPORT connections by a hash of their addresses; the server then
// places each on the shard serving the fewest, so a few connections use every shard.
TEST_F(server_test, spreads_connections_evenly_over_shards) {
    start({});
    std::vector<std::unique_ptr<client>> clients;
    std::map<std::string, int> per_shard;
    for (int i = 0; i < 10; ++i) {
        clients.push_back(std::make_unique<client>(port()));
        ASSERT_TRUE(clients.back()->connected());
        clients.back()->send_frame("H-which-shard");
        const auto home = clients.back()->receive_frame();
        ASSERT_TRUE(home.has_value());
        ++per_shard[*home];
        // Requests on a connection that moved to another shard are served there.
        clients.back()->send_frame("0echo-request");
        EXPECT_EQ(clients.back()->receive_frame(), "0echo-request");
    }
    EXPECT_EQ(per_shard, (std::map<std::string, int>{{"0", 5}, {"1", 5}}));
}

TEST(listen_address, parses_host_and_port) {
    auto a = parse_listen_address("127.0.0.1:9092");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 9092);
    auto v6 = parse_listen_address("[::1]:0");
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_FALSE(parse_listen_address("127.0.0.1").has_value());
    EXPECT_FALSE(parse_listen_address("host:99999").has_value());
    EXPECT_FALSE(parse_listen_address(":9092").has_value());
}

} // namespace
} // namespace ms::net
