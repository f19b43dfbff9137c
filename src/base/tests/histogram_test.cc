#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/histogram.h"

namespace ms {
namespace {

TEST(histogram, empty_reports_zero) {
    const log_linear_histogram h;
    EXPECT_EQ(h.count(), 0U);
    EXPECT_EQ(h.quantile(0.5), 0U);
    EXPECT_EQ(h.max(), 0U);
    EXPECT_EQ(h.min(), 0U);
}

TEST(histogram, small_values_are_exact) {
    log_linear_histogram h;
    for (uint64_t v = 1; v <= 100; ++v) {
        h.record(v);
    }
    EXPECT_EQ(h.quantile(0.5), 50U);
    EXPECT_EQ(h.quantile(0.99), 99U);
    EXPECT_EQ(h.quantile(1.0), 100U);
    EXPECT_EQ(h.min(), 1U);
    EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(histogram, buckets_tile_the_range) {
    // Every bucket starts right after the previous one ends, up to UINT64_MAX.
    uint64_t next = 0;
    for (size_t i = 0; i < log_linear_histogram::bucket_count; ++i) {
        ASSERT_EQ(log_linear_histogram::index_of(next), i) << next;
        const uint64_t upper = log_linear_histogram::upper_bound_of(i);
        ASSERT_EQ(log_linear_histogram::index_of(upper), i) << upper;
        if (i + 1 < log_linear_histogram::bucket_count) {
            ASSERT_LT(upper, UINT64_MAX);
            next = upper + 1;
        } else {
            EXPECT_EQ(upper, UINT64_MAX);
        }
    }
}

TEST(histogram, merge_adds_counts) {
    log_linear_histogram a;
    log_linear_histogram b;
    a.record(10);
    b.record(1'000'000);
    b.record(5);
    a.merge(b);
    EXPECT_EQ(a.count(), 3U);
    EXPECT_EQ(a.min(), 5U);
    EXPECT_EQ(a.max(), 1'000'000U);
}

// Against the exact sorted-sample quantile: the reported value is never below it and at most
// 1/128 above it (the bucket width), and never above max.
RC_GTEST_PROP(histogram, quantiles_within_bucket_error, (std::vector<uint64_t> samples, uint8_t permille)) {
    RC_PRE(!samples.empty());
    log_linear_histogram h;
    for (const uint64_t s : samples) {
        h.record(s);
    }
    std::sort(samples.begin(), samples.end());
    const double q = static_cast<double>(permille % 101) / 100.0;
    const auto rank =
      std::max<size_t>(1, static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size()))));
    const uint64_t exact = samples[rank - 1];
    const uint64_t reported = h.quantile(q);
    RC_ASSERT(reported >= exact);
    RC_ASSERT(reported <= samples.back());
    RC_ASSERT(static_cast<double>(reported - exact) <= static_cast<double>(exact) / 128.0 + 1.0);
    RC_ASSERT(h.max() == samples.back());
    RC_ASSERT(h.min() == samples.front());
}

} // namespace
} // namespace ms
