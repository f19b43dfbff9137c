#pragma once
// offsets_log: where the group coordinator makes its state durable — the partitions of the
// internal topic __consumer_offsets. An interface so the coordinator's state machine can be
// tested without a broker.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "broker/groups/group_records.h"

namespace ms::broker::groups {

struct log_record {
    bytes key;
    std::optional<bytes> value; // nullopt: a tombstone
};

enum class store_errc : uint8_t {
    none,
    too_large,   // the records do not fit in one batch of the topic's max.message.bytes
    unavailable, // the partition is missing or its log refuses writes (a failed disk, shutdown)
};

class offsets_log {
public:
    virtual ~offsets_log() = default;
    // Appends the records to `partition` as one batch and calls `done` once they are durable (or
    // failed), on the calling shard. REQUIRES: the partition is owned by the calling shard.
    virtual void append(int32_t partition, std::vector<log_record> records,
                        std::function<void(store_errc)> done) = 0;
};

} // namespace ms::broker::groups
