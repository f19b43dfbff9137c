#pragma once
// Broker settings of the group coordinator (Kafka's names, as `serve` flags and config keys).
#include <cstdint>
#include <limits>

namespace ms::broker::groups {

struct group_settings {
    // offsets.topic.num.partitions: partitions of __consumer_offsets (used when it is created).
    int32_t offsets_partitions = 16;
    // offsets.topic.segment.bytes: segment.bytes of __consumer_offsets (used when it is created).
    // Small enough that compaction, which rewrites closed segments only, keeps it small.
    int64_t offsets_segment_bytes = 104'857'600;
    // group.min/max.session.timeout.ms: the session timeouts a JoinGroup may ask for.
    int32_t min_session_timeout_ms = 6000;
    int32_t max_session_timeout_ms = 1'800'000;
    // group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for
    // more members (extended by the same delay while members keep arriving, up to the rebalance
    // timeout), so a starting fleet of consumers causes one rebalance instead of one per member.
    int32_t initial_rebalance_delay_ms = 3000;
    // group.max.size: members per group.
    int32_t max_group_size = std::numeric_limits<int32_t>::max();
    // offsets.retention.minutes (in ms here): how long the offsets of a group stay after it
    // became empty (or, for groups that only commit, after their last commit).
    int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;
    // offsets.retention.check.interval.ms
    int64_t offsets_retention_check_interval_ms = 600'000;
    // offset.metadata.max.bytes: the longest metadata string of a committed offset.
    int32_t offset_metadata_max_bytes = 4096;
};

} // namespace ms::broker::groups
