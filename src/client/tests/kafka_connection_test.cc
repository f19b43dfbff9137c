// kafka_connection against a scripted broker on 127.0.0.1: version negotiation, pipelining,
// answers larger than the staging buffer, and every way a broker can misbehave.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "base/endian.h"
#include "client/kafka_connection.h"
#include "client/tests/scripted_broker.h"
#include "protocol/messages/all.h"

namespace ms::client {
namespace {

using namespace std::chrono_literals;
using test_support::answer;
using test_support::api;
using test_support::scripted_broker;
using test_support::write_all;

// ApiVersions: Produce 3-7 and Metadata 0-8; everything else unknown.
void answer_versions(int fd, const protocol::decoded_request& request) {
    protocol::api_versions_response versions;
    versions.api_keys.push_back(api(0, 3, 7));
    versions.api_keys.push_back(api(3, 0, 8));
    answer(fd, request, protocol::any_response(std::move(versions)));
}

bool is_api_versions(const protocol::decoded_request& request) {
    return request.header.request_api_key.value() == 18;
}

TEST(kafka_connection, refused_connection_names_the_broker) {
    // Bind and close a socket to get a port nobody listens on.
    const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    ::close(probe);
    const endpoint nowhere{"127.0.0.1", ntohs(addr.sin_port)};
    auto conn = kafka_connection::open(nowhere, 2000ms);
    ASSERT_FALSE(conn);
    EXPECT_NE(conn.error().find("cannot connect to " + nowhere.to_string()), std::string::npos)
      << conn.error();
}

TEST(kafka_connection, negotiates_versions) {
    scripted_broker broker([](int fd, const protocol::decoded_request& r) {
        if (is_api_versions(r)) {
            answer_versions(fd, r);
        }
    });
    auto conn = kafka_connection::open(broker.address(), 5000ms);
    ASSERT_TRUE(conn) << conn.error();
    EXPECT_EQ(conn->version_for(0), 7);               // ours go to 9, the broker's to 7
    EXPECT_EQ(conn->version_for(0, 5), 5);            // capped by the caller
    EXPECT_EQ(conn->version_for(0, 2), std::nullopt); // below both minimums
    EXPECT_EQ(conn->version_for(1), std::nullopt);    // Fetch: the broker does not speak it
}

TEST(kafka_connection, pipelined_answers_come_back_in_order) {
    scripted_broker broker([](int fd, const protocol::decoded_request& r) {
        if (is_api_versions(r)) {
            answer_versions(fd, r);
            return;
        }
        // Echo the topic count back as the controller id, so each answer can be matched.
        const auto& metadata = std::get<protocol::metadata_request>(r.body);
        protocol::metadata_response out;
        out.controller_id = model::node_id(static_cast<int32_t>(metadata.topics->size()));
        answer(fd, r, protocol::any_response(std::move(out)));
    });
    auto conn = kafka_connection::open(broker.address(), 5000ms);
    ASSERT_TRUE(conn) << conn.error();
    constexpr int count = 200;
    for (int i = 0; i < count; ++i) {
        protocol::metadata_request request;
        request.topics.emplace(static_cast<size_t>(i));
        conn->send(request, 8);
    }
    EXPECT_EQ(conn->in_flight(), size_t{count});
    for (int i = 0; i < count; ++i) {
        auto got = conn->receive(5000ms);
        ASSERT_TRUE(got) << got.error();
        ASSERT_TRUE(got->has_value());
        EXPECT_EQ(std::get<protocol::metadata_response>(**got).controller_id.value(), i);
    }
    EXPECT_EQ(conn->in_flight(), 0U);
}

TEST(kafka_connection, answer_larger_than_staging_arrives_whole_and_contiguous) {
    std::vector<std::byte> big(size_t{3} * 1024 * 1024 + 17);
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<std::byte>(i * 7 + 3);
    }
    scripted_broker broker([&big](int fd, const protocol::decoded_request& r) {
        if (is_api_versions(r)) {
            protocol::api_versions_response versions;
            versions.api_keys.push_back(api(1, 4, 12));
            answer(fd, r, protocol::any_response(std::move(versions)));
            return;
        }
        protocol::fetch_response out;
        out.responses.resize(1);
        out.responses[0].topic = "t";
        out.responses[0].partitions.resize(1);
        out.responses[0].partitions[0].records = iobuf::copy_of(big);
        answer(fd, r, protocol::any_response(std::move(out)));
    });
    auto conn = kafka_connection::open(broker.address(), 5000ms);
    ASSERT_TRUE(conn) << conn.error();
    for (int round = 0; round < 3; ++round) {
        auto got = conn->call<protocol::fetch_response>(protocol::fetch_request{}, 11, 10000ms);
        ASSERT_TRUE(got) << got.error();
        const auto& records = got->responses.at(0).partitions.at(0).records;
        ASSERT_TRUE(records.has_value());
        ASSERT_EQ(records->piece_count(), 1U);
        const auto bytes = records->piece_bytes(0);
        ASSERT_EQ(bytes.size(), big.size());
        EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), big.begin()));
    }
}

TEST(kafka_connection, timeout_is_reported_and_a_late_answer_still_arrives) {
    std::atomic<bool> hold{true};
    scripted_broker broker([&hold](int fd, const protocol::decoded_request& r) {
        if (is_api_versions(r)) {
            answer_versions(fd, r);
            return;
        }
        while (hold.load()) {
            std::this_thread::sleep_for(1ms);
        }
        answer(fd, r, protocol::metadata_response{});
    });
    auto conn = kafka_connection::open(broker.address(), 5000ms);
    ASSERT_TRUE(conn) << conn.error();
    conn->send(protocol::metadata_request{}, 8);
    auto none = conn->receive(50ms);
    ASSERT_TRUE(none) << none.error();
    EXPECT_FALSE(none->has_value());
    hold = false;
    auto late = conn->receive(5000ms);
    ASSERT_TRUE(late) << late.error();
    EXPECT_TRUE(late->has_value());
}

// A broker that answers with raw bytes instead of a proper frame.
void expect_failure(const std::function<void(int fd, const protocol::decoded_request&)>& misbehave,
                    std::string_view expected) {
    scripted_broker broker([&misbehave](int fd, const protocol::decoded_request& r) {
        if (is_api_versions(r)) {
            answer_versions(fd, r);
            return;
        }
        misbehave(fd, r);
    });
    auto conn = kafka_connection::open(broker.address(), 5000ms);
    ASSERT_TRUE(conn) << conn.error();
    auto got = conn->call<protocol::metadata_response>(protocol::metadata_request{}, 8, 5000ms);
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().find(expected), std::string::npos) << got.error();
    // Unusable afterwards: a further request fails at once instead of hanging.
    auto again = conn->call<protocol::metadata_response>(protocol::metadata_request{}, 8, 5000ms);
    EXPECT_FALSE(again);
}

TEST(kafka_connection, hostile_or_broken_brokers_fail_the_call) {
    expect_failure(
      [](int fd, const protocol::decoded_request&) {
          std::array<std::byte, 4> size{};
          store_be<int32_t>(size.data(), -5);
          write_all(fd, iobuf::copy_of(size));
      },
      "frame of -5 bytes");
    expect_failure(
      [](int fd, const protocol::decoded_request&) {
          std::array<std::byte, 4> size{};
          store_be<int32_t>(size.data(), 0x7fffffff);
          write_all(fd, iobuf::copy_of(size));
      },
      "frame of 2147483647 bytes");
    expect_failure([](int fd, const protocol::decoded_request&) { ::shutdown(fd, SHUT_RDWR); },
                   "closed the connection");
    expect_failure(
      [](int fd, const protocol::decoded_request& r) {
          iobuf out;
          protocol::encode_response(r.header.correlation_id + 1, r.header.request_api_version,
                                    protocol::metadata_response{}, out);
          write_all(fd, out);
      },
      "correlation id");
    expect_failure(
      [](int fd, const protocol::decoded_request& r) {
          // A frame holding only the correlation id and three stray bytes: not a Metadata answer.
          std::array<std::byte, 11> frame{};
          store_be<int32_t>(frame.data(), 7);
          store_be<int32_t>(frame.data() + 4, r.header.correlation_id);
          write_all(fd, iobuf::copy_of(frame));
      },
      "cannot decode");
}

} // namespace
} // namespace ms::client
