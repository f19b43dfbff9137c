#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/latency_histogram.h"

namespace ms {
namespace {

using namespace std::chrono_literals;

TEST(latency_histogram, bounds_are_inclusive_upper_bounds) {
    EXPECT_EQ(latency_bucket_of(0), 0U);
    EXPECT_EQ(latency_bucket_of(50'000), 0U);
    EXPECT_EQ(latency_bucket_of(50'001), 1U);
    EXPECT_EQ(latency_bucket_of(10'000'000'000), latency_bucket_bounds_ns.size() - 1);
    EXPECT_EQ(latency_bucket_of(10'000'000'001), latency_bucket_bounds_ns.size()); // +Inf
}

TEST(latency_histogram, record_and_merge_keep_count_and_sum) {
    latency_histogram a;
    a.record(1ms);
    a.record(-5ns); // clamped to 0
    latency_histogram b;
    b.record(20s);
    a.merge(b);
    EXPECT_EQ(a.count, 3U);
    EXPECT_EQ(a.sum_ns, 1'000'000U + 20'000'000'000U);
    EXPECT_EQ(a.buckets[0], 1U);
    EXPECT_EQ(a.buckets[latency_bucket_of(1'000'000)], 1U);
    EXPECT_EQ(a.buckets.back(), 1U);
}

TEST(atomic_latency_histogram, counts_from_several_threads) {
    atomic_latency_histogram h;
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&h] {
            for (int i = 0; i < 1000; ++i) {
                h.record(200us);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const latency_histogram s = h.snapshot();
    EXPECT_EQ(s.count, 4000U);
    EXPECT_EQ(s.buckets[latency_bucket_of(200'000)], 4000U);
    EXPECT_EQ(s.sum_ns, 4000U * 200'000U);
}

} // namespace
} // namespace ms
