#include <chrono>

#include <gtest/gtest.h>

#include "base/log_limiter.h"

namespace ms::logging {
namespace {

using namespace std::chrono_literals;

struct fake_clock {
    log_limiter::clock::time_point now{};
    auto fn() {
        return [this] { return now; };
    }
};

TEST(log_limiter, lets_burst_through_then_suppresses_until_the_interval_ends) {
    fake_clock clock;
    log_limiter limiter(3, 1000ms, clock.fn());
    for (int i = 0; i < 3; ++i) {
        const auto d = limiter.admit();
        EXPECT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.suppressed, 0U);
    }
    for (int i = 0; i < 5; ++i) {
        EXPECT_FALSE(limiter.admit().allowed) << i;
    }
    clock.now += 999ms;
    EXPECT_FALSE(limiter.admit().allowed); // still the same window: 6 held back now
    clock.now += 1ms;
    const auto d = limiter.admit();
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.suppressed, 6U);
    EXPECT_EQ(log_limiter::suffix(d), " (suppressed 6 similar messages)");
    // The count was reported once: the next allowed message carries none.
    const auto next = limiter.admit();
    EXPECT_TRUE(next.allowed);
    EXPECT_EQ(next.suppressed, 0U);
    EXPECT_EQ(log_limiter::suffix(next), "");
}

TEST(log_limiter, singular_suffix) {
    EXPECT_EQ(log_limiter::suffix({true, 1}), " (suppressed 1 similar message)");
}

TEST(log_limiter, zero_burst_suppresses_everything) {
    fake_clock clock;
    log_limiter limiter(0, 10ms, clock.fn());
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(limiter.admit().allowed);
        clock.now += 1ms;
    }
}

TEST(log_limiter, a_quiet_period_resets_the_window) {
    fake_clock clock;
    log_limiter limiter(1, 100ms, clock.fn());
    EXPECT_TRUE(limiter.admit().allowed);
    EXPECT_FALSE(limiter.admit().allowed);
    clock.now += 10s;
    const auto d = limiter.admit();
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.suppressed, 1U);
}

} // namespace
} // namespace ms::logging
