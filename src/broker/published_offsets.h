#pragma once
// published_offsets: a partition's log start and log end as its owner shard last published them,
// readable from any shard without asking the owner.
//
// They are hints, never answers: a fetch on another shard that finds its position at the
// published log end parks on the owner with a one-way message instead of a round trip, and the
// owner checks the real log before it parks the fetch (see handlers/fetch.cc). A stale value can
// only cost the round trip it was meant to save or an immediate wake-up, not a wrong answer.
//
// remote_offsets: one shard's cache of the published_offsets of partitions other shards own,
// filled from the owners' fetch answers. Shard-local: used on one thread only.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ms::broker {

struct published_offsets {
    std::atomic<int64_t> log_start{-1};
    std::atomic<int64_t> log_end{-1}; // -1: not published yet
    std::atomic<bool> gone{false};    // the partition was closed or deleted on its owner
};

class remote_offsets {
public:
    // The cached offsets of topic/index, or null when none are cached or the partition is gone.
    [[nodiscard]] const published_offsets* find(std::string_view topic, int32_t index);
    void remember(std::string_view topic, int32_t index, std::shared_ptr<const published_offsets> offsets);
    [[nodiscard]] size_t size() const noexcept { return _count; }

private:
    void drop_gone();

    std::map<std::string, std::vector<std::shared_ptr<const published_offsets>>, std::less<>> _topics;
    size_t _count = 0;
    size_t _remembered_since_sweep = 0;
};

} // namespace ms::broker
