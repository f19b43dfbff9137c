#include "client/kafka_connection.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "base/endian.h"
#include "protocol/kafka_error.h"

namespace ms::client {

namespace {

using steady = std::chrono::steady_clock;

constexpr size_t staging_size = size_t{256} * 1024;
constexpr size_t max_iovecs = 64;

int remaining_ms(steady::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now()).count();
    return static_cast<int>(std::clamp<int64_t>(left, 0, 1'000'000));
}

// poll() with a deadline to the microsecond: a rate schedule wakes the caller every 100 us, and
// rounding that down to 0 ms would spin a core the broker needs.
int poll_until(pollfd& p, steady::time_point deadline) {
    const auto left = std::max(steady::duration::zero(), deadline - steady::now());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec wait{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    return ::ppoll(&p, 1, &wait, nullptr);
}

std::string errno_text(int err) {
    return std::string(std::strerror(err)); // NOLINT(concurrency-mt-unsafe): tools report, rarely
}

// Connects one resolved address without blocking longer than the deadline.
result<int, std::string> connect_address(const addrinfo& ai, steady::time_point deadline) {
    const int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
    if (fd < 0) {
        return unexpected(errno_text(errno));
    }
    if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0 && errno != EINPROGRESS) {
        const int err = errno;
        ::close(fd);
        return unexpected(errno_text(err));
    }
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    int err = 0;
    socklen_t len = sizeof(err);
    if (ready <= 0) {
        err = ready == 0 ? ETIMEDOUT : errno;
    } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
    }
    if (err != 0) {
        ::close(fd);
        return unexpected(errno_text(err));
    }
    const int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

} // namespace

kafka_connection::kafka_connection(int fd, endpoint peer, std::string client_id) noexcept
  : _fd(fd), _peer(std::move(peer)), _client_id(std::move(client_id)) {}

kafka_connection::kafka_connection(kafka_connection&& other) noexcept
  : _fd(std::exchange(other._fd, -1)), _peer(std::move(other._peer)), _client_id(std::move(other._client_id)),
    _next_correlation_id(other._next_correlation_id), _pending(std::move(other._pending)),
    _broker_max(std::move(other._broker_max)), _broker_min(std::move(other._broker_min)),
    _unsent(std::move(other._unsent)), _unsent_bytes(other._unsent_bytes),
    _staging(std::move(other._staging)), _staged_begin(other._staged_begin), _staged_end(other._staged_end),
    _large(std::move(other._large)), _large_missing(other._large_missing), _frames(std::move(other._frames)),
    _bytes_sent(other._bytes_sent), _bytes_received(other._bytes_received) {}

kafka_connection& kafka_connection::operator=(kafka_connection&& other) noexcept {
    if (this != &other) {
        close();
        _fd = std::exchange(other._fd, -1);
        _peer = std::move(other._peer);
        _client_id = std::move(other._client_id);
        _next_correlation_id = other._next_correlation_id;
        _pending = std::move(other._pending);
        _broker_max = std::move(other._broker_max);
        _broker_min = std::move(other._broker_min);
        _unsent = std::move(other._unsent);
        _unsent_bytes = other._unsent_bytes;
        _staging = std::move(other._staging);
        _staged_begin = other._staged_begin;
        _staged_end = other._staged_end;
        _large = std::move(other._large);
        _large_missing = other._large_missing;
        _frames = std::move(other._frames);
        _bytes_sent = other._bytes_sent;
        _bytes_received = other._bytes_received;
    }
    return *this;
}

kafka_connection::~kafka_connection() {
    close();
}

void kafka_connection::close() noexcept {
    if (_fd >= 0) {
        ::close(_fd);
        _fd = -1;
    }
}

std::string kafka_connection::timeout_message(std::string_view what, milliseconds timeout) const {
    return fmt::format("{}: no answer to {} within {} ms", _peer.to_string(), what, timeout.count());
}

result<kafka_connection, std::string> kafka_connection::open(const endpoint& to, milliseconds timeout,
                                                             std::string client_id) {
    const auto deadline = steady::now() + timeout;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(to.port);
    if (const int rc = ::getaddrinfo(to.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        return unexpected(fmt::format("{}: cannot resolve the host: {}", to.to_string(), ::gai_strerror(rc)));
    }
    std::string last_error = "no address";
    int fd = -1;
    for (const addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
        auto connected = connect_address(*ai, deadline);
        if (connected) {
            fd = *connected;
        } else {
            last_error = std::move(connected.error());
        }
    }
    ::freeaddrinfo(found);
    if (fd < 0) {
        return unexpected(fmt::format("cannot connect to {}: {} (is a broker running there? see --brokers)",
                                      to.to_string(), last_error));
    }
    kafka_connection conn(fd, to, std::move(client_id));
    conn._staging.resize(staging_size);
    if (auto negotiated =
          conn.negotiate_versions(std::chrono::duration_cast<milliseconds>(deadline - steady::now()));
        !negotiated) {
        return unexpected(std::move(negotiated.error()));
    }
    return conn;
}

result<void, std::string> kafka_connection::negotiate_versions(milliseconds timeout) {
    // v0: every broker answers it, and its answer lists every API with its version range.
    auto answer = call<protocol::api_versions_response>(protocol::api_versions_request{}, 0,
                                                        std::max(timeout, milliseconds(1)));
    if (!answer) {
        return unexpected(fmt::format("{} (while asking for API versions)", answer.error()));
    }
    if (answer->error_code != 0) {
        return unexpected(fmt::format("{}: ApiVersions failed: {}", _peer.to_string(),
                                      protocol::name(protocol::to_kafka_error(answer->error_code))));
    }
    _broker_max.assign(128, -1);
    _broker_min.assign(128, -1);
    for (const auto& api : answer->api_keys) {
        const auto key = static_cast<size_t>(api.api_key.value());
        if (key < _broker_max.size()) {
            _broker_max[key] = api.max_version;
            _broker_min[key] = api.min_version;
        }
    }
    return {};
}

std::optional<protocol::api_version>
kafka_connection::version_for(int16_t key, protocol::api_version highest_wanted) const {
    const protocol::api_info* ours = nullptr;
    for (const auto& info : protocol::api_table) {
        if (info.key == key) {
            ours = &info;
        }
    }
    if (ours == nullptr || key < 0 || static_cast<size_t>(key) >= _broker_max.size() ||
        _broker_max[key] < 0) {
        return std::nullopt;
    }
    const auto top = std::min({ours->max_version, _broker_max[key], highest_wanted});
    const auto bottom = std::max(ours->min_version, _broker_min[key]);
    if (top < bottom) {
        return std::nullopt;
    }
    return top;
}

int32_t kafka_connection::send(const protocol::any_request& body, protocol::api_version version,
                               bool expects_answer) {
    const int32_t correlation_id = _next_correlation_id++;
    protocol::request_header header;
    header.request_api_key = protocol::api_key(protocol::api_key_of(body));
    header.request_api_version = version;
    header.correlation_id = correlation_id;
    header.client_id = _client_id;
    iobuf frame;
    protocol::encode_request(header, body, frame);
    _unsent_bytes += frame.size();
    _unsent.push_back(std::move(frame));
    if (expects_answer) {
        _pending.push_back({header.request_api_key.value(), version, correlation_id});
    }
    // Errors surface at the next receive(); a send never throws away the caller's bookkeeping.
    (void)write_some();
    return correlation_id;
}

result<void, std::string> kafka_connection::write_some() {
    while (!_unsent.empty() && _fd >= 0) {
        std::array<iovec, max_iovecs> iov{};
        size_t n = 0;
        for (const iobuf& buf : _unsent) {
            for (size_t i = 0; i < buf.piece_count() && n < max_iovecs; ++i) {
                const auto bytes = buf.piece_bytes(i);
                // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): writev does not write
                iov[n++] = iovec{const_cast<std::byte*>(bytes.data()), bytes.size()};
            }
            if (n == max_iovecs) {
                break;
            }
        }
        const ssize_t written = ::writev(_fd, iov.data(), static_cast<int>(n));
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) { // EWOULDBLOCK is the same value on Linux
                return {};
            }
            return unexpected(
              fmt::format("{}: connection lost while sending: {}", _peer.to_string(), errno_text(errno)));
        }
        auto left = static_cast<size_t>(written);
        _bytes_sent += left;
        _unsent_bytes -= left;
        while (left > 0) {
            iobuf& front = _unsent.front();
            const size_t take = std::min(left, front.size());
            front.trim_front(take);
            left -= take;
            if (front.empty()) {
                _unsent.pop_front();
            }
        }
    }
    return {};
}

result<void, std::string> kafka_connection::read_some() {
    for (;;) {
        std::span<std::byte> into;
        if (_large_missing > 0) {
            into = _large.reserve(_large_missing).first(_large_missing);
        } else {
            if (_staged_begin == _staged_end) {
                _staged_begin = _staged_end = 0;
            } else if (_staging.size() - _staged_end < 4096) {
                std::memmove(_staging.data(), _staging.data() + _staged_begin, _staged_end - _staged_begin);
                _staged_end -= _staged_begin;
                _staged_begin = 0;
            }
            into = std::span(_staging).subspan(_staged_end);
        }
        const ssize_t got = ::read(_fd, into.data(), into.size());
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) { // EWOULDBLOCK is the same value on Linux
                return {};
            }
            return unexpected(fmt::format("{}: connection lost: {}", _peer.to_string(), errno_text(errno)));
        }
        if (got == 0) {
            return unexpected(fmt::format("{}: the broker closed the connection", _peer.to_string()));
        }
        const auto n = static_cast<size_t>(got);
        _bytes_received += n;
        if (_large_missing > 0) {
            _large.commit(n);
            _large_missing -= n;
            if (_large_missing == 0) {
                _frames.push_back(std::move(_large));
                _large = iobuf{};
            }
        } else {
            _staged_end += n;
        }
        if (auto framed = take_frames(); !framed) {
            return framed;
        }
        if (n < into.size()) {
            return {}; // the socket had no more for now
        }
    }
}

result<void, std::string> kafka_connection::take_frames() {
    while (_large_missing == 0 && _staged_end - _staged_begin >= 4) {
        const auto size = load_be<int32_t>(_staging.data() + _staged_begin);
        if (size < 4 || static_cast<size_t>(size) > max_response_bytes) {
            return unexpected(fmt::format("{}: the broker sent a frame of {} bytes; expected 4 to {}",
                                          _peer.to_string(), size, max_response_bytes));
        }
        const auto frame_size = static_cast<size_t>(size);
        const size_t staged = _staged_end - _staged_begin - 4;
        const auto* start = _staging.data() + _staged_begin + 4;
        if (staged >= frame_size) {
            _frames.push_back(iobuf::copy_of(std::span(start, frame_size)));
            _staged_begin += 4 + frame_size;
            continue;
        }
        // Larger than what is staged: one buffer of the frame's size, filled straight from the socket.
        _large = iobuf{};
        auto space = _large.reserve(frame_size);
        std::memcpy(space.data(), start, staged);
        _large.commit(staged);
        _large_missing = frame_size - staged;
        _staged_begin = _staged_end = 0;
    }
    return {};
}

result<void, std::string> kafka_connection::flush(milliseconds timeout) {
    const auto deadline = steady::now() + timeout;
    while (!_unsent.empty()) {
        if (_fd < 0) {
            return unexpected(fmt::format("{}: the connection is closed", _peer.to_string()));
        }
        if (auto wrote = write_some(); !wrote) {
            close();
            return wrote;
        }
        if (_unsent.empty()) {
            break;
        }
        if (steady::now() >= deadline) {
            return unexpected(fmt::format("{}: could not send {} bytes within {} ms", _peer.to_string(),
                                          _unsent_bytes, timeout.count()));
        }
        pollfd p{_fd, POLLOUT, 0};
        (void)poll_until(p, deadline);
    }
    return {};
}

result<std::optional<protocol::any_response>, std::string> kafka_connection::receive(microseconds timeout) {
    if (_pending.empty()) {
        return unexpected(std::string("receive() with no request in flight"));
    }
    if (_fd < 0) {
        return unexpected(fmt::format("{}: the connection is closed", _peer.to_string()));
    }
    const auto deadline = steady::now() + timeout;
    while (_frames.empty()) {
        if (auto wrote = write_some(); !wrote) {
            close();
            return unexpected(std::move(wrote.error()));
        }
        pollfd p{_fd, static_cast<int16_t>(POLLIN | (_unsent.empty() ? 0 : POLLOUT)), 0};
        const int ready = poll_until(p, deadline);
        if (ready < 0 && errno != EINTR) {
            close();
            return unexpected(fmt::format("poll: {}", errno_text(errno)));
        }
        if (ready > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            if (auto got = read_some(); !got) {
                close();
                return unexpected(std::move(got.error()));
            }
        }
        if (_frames.empty() && ready == 0 && steady::now() >= deadline) {
            return std::optional<protocol::any_response>{};
        }
    }
    iobuf frame = std::move(_frames.front());
    _frames.pop_front();
    const pending_request expected = _pending.front();
    _pending.pop_front();
    int32_t correlation_id = 0;
    auto decoded = protocol::decode_response(frame, expected.key, expected.version, &correlation_id);
    if (!decoded) {
        close();
        return unexpected(fmt::format("{}: cannot decode the answer to API {} v{}: {}", _peer.to_string(),
                                      expected.key, expected.version, protocol::describe(decoded.error())));
    }
    if (correlation_id != expected.correlation_id) {
        close();
        return unexpected(fmt::format("{}: answer with correlation id {} where {} was expected",
                                      _peer.to_string(), correlation_id, expected.correlation_id));
    }
    return std::optional<protocol::any_response>(std::move(*decoded));
}

} // namespace ms::client
