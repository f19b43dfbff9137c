#pragma once

// log_linear_histogram: counts non-negative integer samples (latencies in nanoseconds, sizes) in
// buckets whose width grows with the value, so any recorded value is reported within 1/128 (0.8 %)
// of itself over the whole uint64 range, in a fixed 58 KiB table and O(1) per sample.
//
// Layout: values below 2^sub_bits go to exact buckets; above, each power of two [2^e, 2^(e+1)) is
// split into 2^(sub_bits-1) equal buckets (the scheme of HdrHistogram).
// Not thread-safe: one histogram per thread, merged at the end.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace ms {

class log_linear_histogram {
public:
    static constexpr int sub_bits = 8;
    static constexpr uint64_t sub_count = uint64_t{1} << sub_bits; // exact values below this
    static constexpr uint64_t half_count = sub_count / 2;
    static constexpr size_t bucket_count = sub_count + (64 - sub_bits) * half_count;

    void record(uint64_t value) noexcept {
        ++_buckets[index_of(value)];
        ++_count;
        _sum += value;
        _max = value > _max ? value : _max;
        _min = value < _min ? value : _min;
    }
    void merge(const log_linear_histogram& other) noexcept;
    void clear() noexcept { *this = log_linear_histogram{}; }

    [[nodiscard]] uint64_t count() const noexcept { return _count; }
    [[nodiscard]] uint64_t max() const noexcept { return _max; }
    [[nodiscard]] uint64_t min() const noexcept { return _count == 0 ? 0 : _min; }
    [[nodiscard]] double mean() const noexcept {
        return _count == 0 ? 0.0 : static_cast<double>(_sum) / static_cast<double>(_count);
    }
    // The smallest recorded bucket's upper bound below which at least q (0..1) of the samples
    // lie, capped at max(); 0 when empty.
    [[nodiscard]] uint64_t quantile(double q) const noexcept;

    [[nodiscard]] static size_t index_of(uint64_t value) noexcept {
        if (value < sub_count) {
            return static_cast<size_t>(value);
        }
        const int exponent = 63 - std::countl_zero(value); // >= sub_bits
        const int shift = exponent - (sub_bits - 1);
        const uint64_t sub = (value >> shift) - half_count; // 0 .. half_count-1
        return static_cast<size_t>(sub_count + static_cast<uint64_t>(exponent - sub_bits) * half_count + sub);
    }
    // The largest value that lands in bucket `index`.
    [[nodiscard]] static uint64_t upper_bound_of(size_t index) noexcept;

private:
    std::array<uint64_t, bucket_count> _buckets{};
    uint64_t _count = 0;
    uint64_t _sum = 0;
    uint64_t _max = 0;
    uint64_t _min = UINT64_MAX;
};

} // namespace ms
