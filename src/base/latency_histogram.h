#pragma once
// latency_histogram: durations counted in fixed buckets, 50 us to 10 s, the shape Prometheus
// histograms expose (`le` upper bounds, a sum and a count). Unlike log_linear_histogram it is
// small (18 counters) so every shard can keep one per Kafka API, and its buckets are the same in
// every process, so histograms from many brokers aggregate.
//
// latency_histogram is plain: one owner thread writes it (a shard), and readers get a copy made on
// that thread. atomic_latency_histogram is for samples recorded on several threads at once (the
// flusher's): relaxed atomic adds per sample, a snapshot() that may be torn between buckets by a
// concurrent record (a scrape tolerates that; each counter itself is exact).
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ms {

// Upper bounds of the buckets in nanoseconds; a last, implicit bucket holds everything above.
inline constexpr std::array<uint64_t, 17> latency_bucket_bounds_ns{
  50'000,      100'000,       250'000,       500'000,       1'000'000,     2'500'000,
  5'000'000,   10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000,
  500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

// The bucket of a duration: the first whose bound is >= it (Prometheus `le` is inclusive).
[[nodiscard]] constexpr size_t latency_bucket_of(uint64_t ns) noexcept {
    size_t i = 0;
    while (i < latency_bucket_bounds_ns.size() && ns > latency_bucket_bounds_ns[i]) {
        ++i;
    }
    return i;
}

struct latency_histogram {
    std::array<uint64_t, latency_bucket_bounds_ns.size() + 1> buckets{}; // per bucket, not cumulative
    uint64_t count = 0;
    uint64_t sum_ns = 0;

    void record(std::chrono::nanoseconds d) noexcept {
        const auto ns = static_cast<uint64_t>(d.count() < 0 ? 0 : d.count());
        ++buckets[latency_bucket_of(ns)];
        ++count;
        sum_ns += ns;
    }
    void merge(const latency_histogram& other) noexcept {
        for (size_t i = 0; i < buckets.size(); ++i) {
            buckets[i] += other.buckets[i];
        }
        count += other.count;
        sum_ns += other.sum_ns;
    }
};

class atomic_latency_histogram {
public:
    // Thread-safe.
    void record(std::chrono::nanoseconds d) noexcept {
        const auto ns = static_cast<uint64_t>(d.count() < 0 ? 0 : d.count());
        _buckets[latency_bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
        _sum_ns.fetch_add(ns, std::memory_order_relaxed);
    }
    // Thread-safe. The count is the sum of the buckets, so _count and the buckets always agree.
    [[nodiscard]] latency_histogram snapshot() const noexcept {
        latency_histogram out;
        for (size_t i = 0; i < _buckets.size(); ++i) {
            out.buckets[i] = _buckets[i].load(std::memory_order_relaxed);
            out.count += out.buckets[i];
        }
        out.sum_ns = _sum_ns.load(std::memory_order_relaxed);
        return out;
    }

private:
    std::array<std::atomic<uint64_t>, latency_bucket_bounds_ns.size() + 1> _buckets{};
    std::atomic<uint64_t> _sum_ns{0};
};

} // namespace ms
