#pragma once

// A scripted Kafka broker for client tests: accepts one connection on 127.0.0.1 and calls a
// handler for every request frame, which answers with answer(). Test-only code.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/endian.h"
#include "client/endpoint.h"
#include "protocol/frame.h"
#include "protocol/messages/all.h"
#include "protocol/messages/any_message.h"

namespace ms::client::test_support {

// Reads exactly n bytes; false at end of stream.
inline bool read_exact(int fd, std::byte* out, size_t n) {
    while (n > 0) {
        const ssize_t got = ::read(fd, out, n);
        if (got <= 0) {
            return false;
        }
        out += got;
        n -= static_cast<size_t>(got);
    }
    return true;
}

inline void write_all(int fd, const iobuf& bytes) {
    for (size_t i = 0; i < bytes.piece_count(); ++i) {
        auto piece = bytes.piece_bytes(i);
        while (!piece.empty()) {
            const ssize_t n = ::write(fd, piece.data(), piece.size());
            if (n <= 0) {
                return;
            }
            piece = piece.subspan(static_cast<size_t>(n));
        }
    }
}

// Accepts one connection and calls `answer` for every request frame it reads.
class scripted_broker {
public:
    using handler = std::function<void(int fd, const protocol::decoded_request&)>;

    explicit scripted_broker(handler answer) : _answer(std::move(answer)) {
        _listen = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(_listen, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        socklen_t len = sizeof(addr);
        EXPECT_EQ(::getsockname(_listen, reinterpret_cast<sockaddr*>(&addr), &len), 0);
        _port = ntohs(addr.sin_port);
        EXPECT_EQ(::listen(_listen, 4), 0);
        _thread = std::thread([this] { serve(); });
    }
    scripted_broker(const scripted_broker&) = delete;
    scripted_broker& operator=(const scripted_broker&) = delete;
    ~scripted_broker() {
        ::shutdown(_listen, SHUT_RDWR);
        if (_client >= 0) {
            ::shutdown(_client, SHUT_RDWR);
        }
        _thread.join();
        ::close(_listen);
        if (_client >= 0) {
            ::close(_client);
        }
    }
    [[nodiscard]] endpoint address() const { return {"127.0.0.1", _port}; }
    void close_client() { ::shutdown(_client, SHUT_RDWR); }

private:
    void serve() {
        _client = ::accept(_listen, nullptr, nullptr);
        if (_client < 0) {
            return;
        }
        for (;;) {
            std::array<std::byte, 4> size_bytes{};
            if (!read_exact(_client, size_bytes.data(), 4)) {
                return;
            }
            std::vector<std::byte> body(static_cast<size_t>(load_be<int32_t>(size_bytes.data())));
            if (!read_exact(_client, body.data(), body.size())) {
                return;
            }
            auto request = protocol::decode_request(iobuf::copy_of(body));
            ASSERT_TRUE(request);
            _answer(_client, *request);
        }
    }

    handler _answer;
    int _listen = -1;
    std::atomic<int> _client{-1};
    uint16_t _port = 0;
    std::thread _thread;
};

inline void answer(int fd, const protocol::decoded_request& request, const protocol::any_response& body) {
    iobuf out;
    protocol::encode_response(request.header.correlation_id, request.header.request_api_version, body, out);
    write_all(fd, out);
}

inline protocol::api_versions_response::api_version_data api(int16_t key, int16_t min, int16_t max) {
    protocol::api_versions_response::api_version_data out;
    out.api_key = protocol::api_key(key);
    out.min_version = min;
    out.max_version = max;
    return out;
}

} // namespace ms::client::test_support
