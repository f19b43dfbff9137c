#pragma once
// partition_manager: the partitions one shard owns, with their logs and the fetches waiting for
// new data on them.
//
// Threading: one per shard; every method runs on that shard's thread. Other shards reach a
// partition by posting work to its owner (broker::shard_of tells which one).
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/published_offsets.h"
#include "broker/topic_table.h"
#include "net/shard.h"
#include "net/shard_waiter.h"
#include "storage/compactor.h"
#include "storage/flusher.h"
#include "storage/partition_log.h"

namespace ms::broker {

// A fetch parked until data arrives or its deadline passes (see net::shard_waiter): the owner
// of the partition that got data reads, right there, what the fetch wants from that shard and
// hands the outcome over with the wake-up, so the fetch answers without another round trip to
// the owners (one hop from the append to the answer, not three).
using fetch_waiter = net::shard_waiter;

struct partition {
    std::unique_ptr<storage::partition_log> log;
    topic_config config;
    std::vector<std::weak_ptr<fetch_waiter>> waiters;
    // For fetches on other shards (see published_offsets.h).
    std::shared_ptr<published_offsets> published = std::make_shared<published_offsets>();

    // Wakes (and forgets) every parked fetch: after each append (`with_data`, which also
    // publishes the new log end; every append comes through here), or when the partition goes
    // away.
    void wake_fetches(bool with_data = true);
    void publish_offsets() noexcept;
};

class partition_manager {
public:
    // REQUIRES: `flush`, `compact` and `space` (when not null) outlive the manager.
    partition_manager(net::shard& home, storage::flusher& flush, storage::compactor& compact,
                      std::filesystem::path data_dir, storage::preallocator* space = nullptr);
    ~partition_manager();
    partition_manager(const partition_manager&) = delete;
    partition_manager& operator=(const partition_manager&) = delete;

    // Opens (creating if needed) the log of topic/partition; recovery runs here.
    [[nodiscard]] result<void, std::string> open(const std::string& topic, int32_t index,
                                                 const topic_config& config);
    // Opens several partitions of one topic, their logs' I/O (creation or recovery) on the
    // flusher's thread count of threads at once. Returns the first error ("" when none).
    [[nodiscard]] std::string open_many(const std::string& topic, const std::vector<int32_t>& indexes,
                                        const topic_config& config);
    // Closes the log and deletes its directory.
    [[nodiscard]] result<void, std::string> remove(std::string_view topic, int32_t index);
    [[nodiscard]] partition* find(std::string_view topic, int32_t index) noexcept;
    // Applies a topic's new config to its partitions here, and runs retention on them.
    void reconfigure(std::string_view topic, const topic_config& config);
    // Retention and time-based rolls for every partition here.
    void apply_retention();
    // Starts log compaction (on the compactor's threads) of every compacted partition here whose
    // min.cleanable.dirty.ratio is reached and that is not already compacting. Cheap when nothing
    // is due: one pass over the segment sizes of each compacted log. Call it periodically.
    void run_compaction();
    // Clean shutdown: syncs and closes every log (writing the clean checkpoints), the final I/O of
    // many logs at once. `filesystem`, when given, is a descriptor on the data directory's
    // filesystem opened before any log was written (see flusher::run_together).
    void close_all(const storage::file* filesystem);
    [[nodiscard]] size_t size() const noexcept { return _count; }
    // Calls fn(topic, index, partition) for every partition here, topics in name order.
    template<typename Fn>
    void for_each(Fn&& fn) const {
        for (const auto& [topic, parts] : _topics) {
            for (size_t i = 0; i < parts.size(); ++i) {
                if (parts[i]) {
                    fn(topic, static_cast<int32_t>(i), *parts[i]);
                }
            }
        }
    }
    [[nodiscard]] const std::filesystem::path& data_dir() const noexcept { return _data_dir; }
    // What this shard has learned of other shards' partitions (fetch handlers here).
    [[nodiscard]] remote_offsets& remote() noexcept { return _remote; }

private:
    void apply_retention_to(partition& p);

    net::shard& _home;
    storage::flusher& _flush;
    storage::compactor& _compact;
    std::filesystem::path _data_dir;
    storage::preallocator* _space; // null: logs allocate their blocks as they append
    // topic -> partitions indexed by number; null where another shard owns the partition
    std::map<std::string, std::vector<std::unique_ptr<partition>>, std::less<>> _topics;
    size_t _count = 0;
    remote_offsets _remote;
};

// The directory of a partition's log: <data dir>/<topic>-<partition>.
[[nodiscard]] std::filesystem::path partition_dir(const std::filesystem::path& data_dir,
                                                  std::string_view topic, int32_t index);

} // namespace ms::broker
