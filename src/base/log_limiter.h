#pragma once
// log_limiter: lets a warning through at most `burst` times per `interval` and counts the rest, so
// a client that can trigger a warning (a bad frame, a refused connection) cannot flood the log or
// slow the broker down with logging. The first message let through after some were held back
// says how many: "... (suppressed 1234 similar messages)".
//
// Not thread-safe: keep one per call site and thread (a `thread_local` in a shard's code, or a
// member of an object owned by one thread). The clock is injected for tests.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace ms::logging {

class log_limiter {
public:
    using clock = std::chrono::steady_clock;

    log_limiter(uint32_t burst, std::chrono::milliseconds interval,
                std::function<clock::time_point()> now = {})
      : _burst(burst), _interval(interval), _now(std::move(now)) {}

    struct decision {
        bool allowed = false;
        uint64_t suppressed = 0; // messages held back since the last one let through (when allowed)
    };

    // Whether to log this occurrence.
    [[nodiscard]] decision admit();

    // "" or " (suppressed K similar messages)", to append to an allowed message.
    [[nodiscard]] static std::string suffix(const decision& d);

private:
    uint32_t _burst;
    std::chrono::milliseconds _interval;
    std::function<clock::time_point()> _now;
    clock::time_point _window_start{};
    bool _started = false;
    uint32_t _in_window = 0;
    uint64_t _suppressed = 0;
};

// Logs a warning through `limiter`, with the count of suppressed ones appended.
template<typename Logger, typename... Args>
void warn_limited(log_limiter& limiter, Logger& logger, fmt::format_string<Args...> text, Args&&... args) {
    const log_limiter::decision d = limiter.admit();
    if (d.allowed) {
        logger.warn("{}{}", fmt::format(text, std::forward<Args>(args)...), log_limiter::suffix(d));
    }
}

} // namespace ms::logging
