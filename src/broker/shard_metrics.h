#pragma once
// shard_metrics: the counters one shard keeps about the requests it serves. Owned by the broker,
// one per shard, written only on that shard's thread with plain increments (no atomics, no locks);
// the admin API reads them by running a function on the shard that copies them (see
// admin/collect.h), so a scrape costs the shard one short task, never a lock on the request path.
//
// Per-API counters live in an array indexed by API key (no allocation per request). Per-topic
// counters live in a map looked up once per topic-partition of a Produce or Fetch request, not per
// record; a topic's entry is created on its first request here and removed by the scrape once the
// topic no longer exists.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/latency_histogram.h"

namespace ms::broker {

struct api_stats {
    uint64_t requests = 0;
    uint64_t errors = 0;       // refused (connection closed) or answered with an error (see dispatcher.cc)
    latency_histogram latency; // from the decoded request to the encoded response
};

struct topic_stats {
    uint64_t produced_bytes = 0;   // record batch bytes appended
    uint64_t produced_records = 0; // records appended (the batches' record counts)
    uint64_t fetched_bytes = 0;    // record batch bytes sent to fetchers (consumers)
    uint64_t fetched_records = 0;  // offsets covered by the batches sent
};

class shard_metrics {
public:
    // API keys below this get their own slot; any other key (never valid) shares the last one.
    static constexpr int16_t api_slots = 128;
    static constexpr size_t unknown_api = api_slots;

    [[nodiscard]] api_stats& api(int16_t key) noexcept {
        return _apis[key >= 0 && key < api_slots ? static_cast<size_t>(key) : unknown_api];
    }
    [[nodiscard]] const std::array<api_stats, api_slots + 1>& apis() const noexcept { return _apis; }

    // The topic's counters; allocates only on a topic's first request on this shard.
    [[nodiscard]] topic_stats& topic(std::string_view name) {
        auto it = _topics.find(name);
        if (it == _topics.end()) {
            it = _topics.emplace(std::string(name), topic_stats{}).first;
        }
        return it->second;
    }
    [[nodiscard]] std::map<std::string, topic_stats, std::less<>>& topics() noexcept { return _topics; }

private:
    std::array<api_stats, api_slots + 1> _apis{};
    std::map<std::string, topic_stats, std::less<>> _topics;
};

} // namespace ms::broker
