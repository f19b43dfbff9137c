#pragma once

// Per-partition log settings. Names and defaults follow Kafka's topic configs so that the broker
// can pass topic configuration straight through.

#include <cstdint>
#include <optional>

#include "storage/errors.h"

namespace ms::storage {

struct log_config {
    // segment.bytes: roll the active segment before it would grow past this size.
    uint64_t segment_bytes = 1024ULL * 1024 * 1024;
    // segment.ms: roll the active segment once it is this old (and not empty).
    int64_t segment_ms = 7LL * 24 * 3600 * 1000;
    // retention.bytes: delete the oldest closed segments while the log stays at least this big
    // without them; -1 = no size limit.
    int64_t retention_bytes = -1;
    // retention.ms: delete closed segments whose newest timestamp is older than this; -1 = forever.
    int64_t retention_ms = 7LL * 24 * 3600 * 1000;
    // index.interval.bytes: bytes of log between two sparse index entries.
    uint32_t index_interval_bytes = 4096;
    // max.message.bytes: the largest batch accepted.
    uint32_t max_batch_bytes = 1048588;
    // cleanup.policy, as two switches: `compact` (compact or compact,delete) keeps the newest
    // record of each key (docs/compaction.md) and refuses records without a key;
    // `delete_by_retention` (delete or compact,delete) applies retention.ms / retention.bytes.
    // At least one is on.
    bool compact = false;
    bool delete_by_retention = true;
    // delete.retention.ms: how long a tombstone (a record with a null value) of a compacted log
    // stays readable after its batch's max timestamp before the cleaner may drop it.
    int64_t delete_retention_ms = 24LL * 3600 * 1000;
    // min.cleanable.dirty.ratio: compaction starts when the bytes of closed segments not yet
    // cleaned are at least this fraction of all closed segments' bytes (0..1).
    double min_cleanable_dirty_ratio = 0.5;

    // Checks the ranges; the message names the offending key.
    [[nodiscard]] result<void> validate() const;
};

} // namespace ms::storage
