#pragma once

// kafka_connection: one TCP connection to a Kafka broker for tools (the CLI, `memorystreamer
// bench`), on a blocking thread: plain calls with a timeout, or pipelined requests (send many,
// take the answers in order). The protocol library encodes and decodes; this class moves frames.
//
// Reads go into a staging buffer; an answer larger than what is staged gets one buffer of its exact
// size that the socket reads into directly, so a fetch response's records are contiguous and copied
// at most once. Writes go straight from the request's fragments with writev (no copy of records).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "base/iobuf.h"
#include "base/result.h"
#include "client/endpoint.h"
#include "protocol/frame.h"
#include "protocol/messages/any_message.h"

namespace ms::client {

using std::chrono::microseconds;
using std::chrono::milliseconds;

class kafka_connection {
public:
    // Largest answer accepted; a broker announcing more is treated as broken.
    static constexpr size_t max_response_bytes = size_t{512} * 1024 * 1024;

    // Connects (trying each address the host resolves to) and asks the broker which API versions it
    // speaks. Fails with a message that names the broker and says what went wrong.
    [[nodiscard]] static result<kafka_connection, std::string> open(const endpoint& to, milliseconds timeout,
                                                                    std::string client_id = "memorystreamer");

    kafka_connection(kafka_connection&& other) noexcept;
    kafka_connection& operator=(kafka_connection&& other) noexcept;
    kafka_connection(const kafka_connection&) = delete;
    kafka_connection& operator=(const kafka_connection&) = delete;
    ~kafka_connection();

    [[nodiscard]] const endpoint& peer() const noexcept { return _peer; }

    // The highest version of `key` both this build and the broker speak, at most `highest_wanted`;
    // nullopt when there is none.
    [[nodiscard]] std::optional<protocol::api_version>
    version_for(int16_t key, protocol::api_version highest_wanted = 32767) const;

    // Encodes and queues a request and writes what the socket takes now. `expects_answer` is false
    // only for Produce with acks=0. Returns the correlation id.
    int32_t send(const protocol::any_request& body, protocol::api_version version,
                 bool expects_answer = true);
    // Requests sent whose answers have not been received yet.
    [[nodiscard]] size_t in_flight() const noexcept { return _pending.size(); }
    // Bytes queued but not yet taken by the socket.
    [[nodiscard]] size_t unsent_bytes() const noexcept { return _unsent_bytes; }

    // Writes queued bytes and waits up to `timeout` for the answer to the oldest request in flight.
    // nullopt when it has not arrived in time; an error when the connection failed or the answer
    // does not decode (the connection is unusable afterwards).
    [[nodiscard]] result<std::optional<protocol::any_response>, std::string> receive(microseconds timeout);

    // Writes queued bytes until none are left or `timeout` passes (for requests without answers).
    [[nodiscard]] result<void, std::string> flush(milliseconds timeout);

    // send + receive: the answer, or an error when it did not come within `timeout`.
    template<typename Response, typename Request>
    [[nodiscard]] result<Response, std::string> call(Request body, protocol::api_version version,
                                                     milliseconds timeout) {
        if (in_flight() != 0) {
            return unexpected(std::string("call() while pipelined requests are in flight"));
        }
        send(protocol::any_request(std::move(body)), version);
        auto answer = receive(timeout);
        if (!answer) {
            return unexpected(std::move(answer.error()));
        }
        if (!answer->has_value()) {
            return unexpected(timeout_message(Request::message_name, timeout));
        }
        return std::get<Response>(std::move(**answer));
    }

    // Totals for reports: frame bytes written and read.
    [[nodiscard]] uint64_t bytes_sent() const noexcept { return _bytes_sent; }
    [[nodiscard]] uint64_t bytes_received() const noexcept { return _bytes_received; }

private:
    struct pending_request {
        int16_t key;
        protocol::api_version version;
        int32_t correlation_id;
    };

    kafka_connection(int fd, endpoint peer, std::string client_id) noexcept;
    [[nodiscard]] std::string timeout_message(std::string_view what, milliseconds timeout) const;
    [[nodiscard]] result<void, std::string> negotiate_versions(milliseconds timeout);
    // Writes queued bytes until the socket would block. An error when the connection failed.
    [[nodiscard]] result<void, std::string> write_some();
    // Reads what the socket has (without blocking) and completes frames into _frames.
    [[nodiscard]] result<void, std::string> read_some();
    [[nodiscard]] result<void, std::string> take_frames();
    void close() noexcept;

    int _fd = -1;
    endpoint _peer;
    std::string _client_id;
    int32_t _next_correlation_id = 1;
    std::deque<pending_request> _pending;
    // Highest version the broker speaks per API key (-1: not spoken), indexed by key.
    std::vector<protocol::api_version> _broker_max;
    std::vector<protocol::api_version> _broker_min;

    std::deque<iobuf> _unsent;
    size_t _unsent_bytes = 0;

    std::vector<std::byte> _staging;
    size_t _staged_begin = 0;
    size_t _staged_end = 0;
    // An answer larger than the staging buffer, being read straight into its own buffer.
    iobuf _large;
    size_t _large_missing = 0;
    std::deque<iobuf> _frames;

    uint64_t _bytes_sent = 0;
    uint64_t _bytes_received = 0;
};

} // namespace ms::client
