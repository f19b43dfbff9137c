#pragma once

// fetcher: reads partitions of one topic for `memorystreamer consume` and `group seek`: offsets by
// timestamp (ListOffsets), and Fetch rounds that return decoded records. One Fetch in flight per
// leader; every leader's request is sent before the answers are read. Positions move past every
// whole batch returned. Single-threaded.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/broker_pool.h"
#include "client/records.h"
#include "client/topic_admin.h"

namespace ms::client {

inline constexpr int64_t latest_timestamp = -1;
inline constexpr int64_t earliest_timestamp = -2;

// The offset of each partition at `timestamp` (-1 latest, -2 earliest, else the first offset whose
// timestamp is at or after it; -1 when there is none). Asks each partition's leader.
[[nodiscard]] result<std::map<int32_t, int64_t>, std::string>
list_offsets(broker_pool& pool, const topic_metadata& topic, const std::vector<int32_t>& partitions,
             int64_t timestamp);

struct fetch_settings {
    int32_t max_wait_ms = 500;
    int32_t max_bytes = 16 * 1024 * 1024;
    int32_t partition_max_bytes = 1024 * 1024;
};

class fetcher {
public:
    // REQUIRES: `pool` outlives the fetcher and knows the brokers (broker_pool::learn).
    fetcher(broker_pool& pool, topic_metadata topic, fetch_settings settings) noexcept
      : _pool(&pool), _topic(std::move(topic)), _settings(settings) {}

    // Reads `positions` (partition -> next offset) from now on; replaces the previous assignment.
    void assign(std::map<int32_t, int64_t> positions);
    [[nodiscard]] const std::map<int32_t, int64_t>& positions() const noexcept { return _positions; }

    // One Fetch round. A partition whose position is out of range moves to its log start (or end,
    // when past it), as auto.offset.reset=earliest would.
    [[nodiscard]] result<std::vector<client_record>, std::string> poll();

    // True once every assigned partition's position reached the high watermark the last Fetch
    // reported (false before a partition was fetched once).
    [[nodiscard]] bool at_end() const;

private:
    broker_pool* _pool;
    topic_metadata _topic;
    fetch_settings _settings;
    std::map<int32_t, int64_t> _positions;
    std::map<int32_t, int64_t> _high_watermarks;
    // Per-partition fetch size, raised (up to max_bytes) when an answer held only part of a batch.
    std::map<int32_t, int32_t> _partition_limits;
};

} // namespace ms::client
