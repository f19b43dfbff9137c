#pragma once
// partition_offsets_log: the group coordinator's offsets_log over this shard's partitions of
// __consumer_offsets. One batch per append (uncompressed, CreateTime = now), answered after the
// log's group commit made it durable; fetches parked on the partition are woken like for any
// produce, so the topic can be consumed.
//
// Threading: one per shard, used on that shard only.
#include <string>

#include "broker/groups/group_manager.h"
#include "broker/groups/offsets_log.h"
#include "broker/partition_manager.h"

namespace ms::broker::groups {

inline constexpr std::string_view offsets_topic = "__consumer_offsets";

class partition_offsets_log final : public offsets_log {
public:
    explicit partition_offsets_log(partition_manager& partitions) : _partitions(partitions) {}
    void append(int32_t partition, std::vector<log_record> records,
                std::function<void(store_errc)> done) override;

private:
    partition_manager& _partitions;
};

struct load_report {
    size_t partitions = 0;
    size_t records = 0;
    size_t skipped = 0; // records that did not decode (logged)
};

// Start-up, on the shard: replays every partition of __consumer_offsets this shard owns into
// `groups`, then calls loaded(). An error means a partition could not be read.
[[nodiscard]] result<load_report, std::string> load_groups(partition_manager& partitions,
                                                           int32_t partition_count, group_manager& groups);

} // namespace ms::broker::groups
