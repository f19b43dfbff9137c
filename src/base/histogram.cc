#include "base/histogram.h"

#include <cmath>

namespace ms {

void log_linear_histogram::merge(const log_linear_histogram& other) noexcept {
    for (size_t i = 0; i < bucket_count; ++i) {
        _buckets[i] += other._buckets[i];
    }
    _count += other._count;
    _sum += other._sum;
    _max = other._max > _max ? other._max : _max;
    _min = other._min < _min ? other._min : _min;
}

uint64_t log_linear_histogram::upper_bound_of(size_t index) noexcept {
    if (index < sub_count) {
        return index;
    }
    const size_t above = index - sub_count;
    const int exponent = static_cast<int>(above / half_count) + sub_bits;
    const uint64_t sub = (above % half_count) + half_count;
    const int shift = exponent - (sub_bits - 1);
    // Bucket covers [sub << shift, ((sub + 1) << shift) - 1]; the top bucket ends at UINT64_MAX.
    if (exponent == 63 && sub == sub_count - 1) {
        return UINT64_MAX;
    }
    return ((sub + 1) << shift) - 1;
}

uint64_t log_linear_histogram::quantile(double q) const noexcept {
    if (_count == 0) {
        return 0;
    }
    q = q < 0.0 ? 0.0 : (q > 1.0 ? 1.0 : q);
    // The rank of the sample at quantile q, 1-based: at least 1, at most count.
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(_count)));
    rank = rank == 0 ? 1 : rank;
    uint64_t seen = 0;
    for (size_t i = 0; i < bucket_count; ++i) {
        seen += _buckets[i];
        if (seen >= rank) {
            const uint64_t bound = upper_bound_of(i);
            return bound < _max ? bound : _max;
        }
    }
    return _max;
}

} // namespace ms
