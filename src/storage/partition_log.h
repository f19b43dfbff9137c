#pragma once

// partition_log: the durable log of one partition, a directory of segments.
//
//   data/<topic>-<partition>/
//     00000000000000000000.log  .index  .timeindex    sealed segment
//     00000000000000052311.log  .index  .timeindex    active segment (appends go here)
//     checkpoint                                      see checkpoint.h
//
// Threading: a partition_log belongs to one owner thread (its shard); every method must be called
// there. Durability work runs on a flusher thread, whose completions come back through the
// owner's executor. Nothing here takes a lock.
//
// Durability: append() writes to the page cache and returns. sync() starts (or joins) a group
// commit: one fdatasync covers every batch appended before it started, and callers that arrive
// while it runs share the next one. Its callback gets the durable end offset (every offset below
// it survives a crash). After a failed fdatasync the log refuses writes (errc::log_failed): the
// kernel may have dropped the dirty pages, so retrying could acknowledge lost data. It refuses
// them too after a failed write whose partial batch could not be cut off: appending after it would
// bury that partial batch inside the segment. Reads keep working; reopening recovers.
//
// Recovery on open: trusts everything when the last close was clean (checkpoint.h); otherwise
// scans every segment from the recovery point batch by batch, truncates at the first batch that
// fails its length, CRC or offset checks, deletes any later segments (and any segment that does
// not start where the one before it ends), and rebuilds the indexes. A file recovery must remove
// but cannot makes open() fail: kept, its stale data would come back.
//
// Compaction (cleanup.policy=compact; docs/compaction.md): sealed segments are rewritten on a
// compactor thread and swapped in on the owner thread; see start_compaction().

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "base/executor.h"
#include "base/iobuf.h"
#include "model/fundamental.h"
#include "model/record_batch.h"
#include "storage/checkpoint.h"
#include "storage/compactor.h"
#include "storage/errors.h"
#include "storage/flusher.h"
#include "storage/log_config.h"
#include "storage/preallocator.h"
#include "storage/segment.h"

namespace ms::storage {

// What a partition_log needs from its surroundings.
struct log_services {
    executor* owner = nullptr;       // where flush completions run; REQUIRES: not null
    flusher* flush = nullptr;        // REQUIRES: not null
    std::function<int64_t()> now_ms; // wall clock in ms since the epoch; the system clock if empty
    preallocator* space = nullptr;   // reserves blocks ahead of busy segments; null: none
};

struct append_result {
    model::offset base_offset;
    model::offset last_offset;
    model::timestamp max_timestamp;
    size_t bytes = 0;
};

// A byte range of a segment file, ready for sendfile(2). The shared_ptr keeps the descriptor open
// even if retention deletes the file meanwhile.
struct file_slice {
    std::shared_ptr<const file> source;
    uint64_t position = 0;
    uint64_t length = 0;
};

struct read_result {
    std::vector<file_slice> slices; // whole batches, in offset order
    model::offset first_offset;     // base offset of the first batch returned
    model::offset next_offset;      // one past the last offset returned (= start when empty)
    uint64_t bytes = 0;

    [[nodiscard]] bool empty() const noexcept { return bytes == 0; }
};

struct recovery_report {
    bool clean = false; // the last close was clean: nothing was scanned
    size_t segments_scanned = 0;
    size_t batches_scanned = 0;
    uint64_t bytes_truncated = 0;
    size_t segments_removed = 0;
};

struct retention_report {
    size_t segments_removed = 0;
    uint64_t bytes_removed = 0;
};

struct segment_info {
    model::offset base_offset;
    model::offset next_offset;
    uint64_t size = 0;
    model::timestamp max_timestamp;
    bool sealed = false;
};

// What the last compaction run did (docs/compaction.md).
struct compaction_report {
    std::optional<error> failure;  // set when the run failed or was discarded; nothing changed then
    size_t segments_cleaned = 0;   // examined by the cleaner
    size_t segments_rewritten = 0; // swapped for their cleaned copy
    uint64_t bytes_before = 0;     // of the segments examined
    uint64_t bytes_after = 0;
    uint64_t records_before = 0;
    uint64_t records_after = 0;
    uint64_t tombstones_removed = 0;
    int64_t duration_ms = 0;     // from start_compaction to the swap
    model::offset cleaned_up_to; // the key map covered every record below this
};

// The first record at or after a timestamp: its offset and its own timestamp.
struct timestamp_hit {
    model::offset offset;
    model::timestamp timestamp;
};

using sync_callback = std::function<void(result<model::offset>)>;

class partition_log {
public:
    // Opens the log in `dir` (created if missing), recovering as described above.
    static result<std::unique_ptr<partition_log>> open(std::filesystem::path dir, log_config config,
                                                       log_services services);
    ~partition_log();
    partition_log(const partition_log&) = delete;
    partition_log& operator=(const partition_log&) = delete;

    // Validates `batch` (one record batch v2) and appends it at the log end. The base offset
    // field is set to the next offset (and the leader epoch, when given) without touching the
    // caller's bytes; the CRC does not cover them. An invalid batch writes nothing.
    result<append_result> append(const iobuf& batch, std::optional<model::leader_epoch> epoch = std::nullopt);

    // Whole batches starting with the one that contains `start`, up to `max_bytes` (but always at
    // least one batch), and none reaching `upper_bound` (exclusive; e.g. the high watermark).
    // start == log end gives an empty result; start outside [log start, log end] is
    // offset_out_of_range.
    result<read_result> read(model::offset start, uint64_t max_bytes,
                             model::offset upper_bound = model::offset::max()) const;

    // Group commit; see the header comment. `done` runs on the owner thread, possibly before
    // sync() returns when everything is already durable.
    void sync(sync_callback done);

    // The offset of the first record with a timestamp >= ts, or nullopt if none.
    result<std::optional<model::offset>> offset_for_timestamp(model::timestamp ts) const;
    // The same record with its timestamp (Kafka's ListOffsets answers both). Reads the batch that
    // the time index points to, decompressing it if needed.
    result<std::optional<timestamp_hit>> find_by_timestamp(model::timestamp ts) const;

    // Applies retention.bytes and retention.ms, deleting whole closed segments (the active one is
    // rolled first when all of its data has expired) and advancing the log start offset. If a
    // segment's files cannot be removed, the error names it; that segment and the ones after it
    // stay in the log, readable, and the log start stays at it (also after a restart).
    result<retention_report> apply_retention();
    // Seals the active segment and starts a new one (if the active one holds data).
    result<void> roll();

    // Kafka's DeleteRecords: makes `new_start` the log start offset, so reads below it fail with
    // offset_out_of_range, and removes the segments that lie wholly below it. A `new_start` at or
    // below the log start changes nothing. REQUIRES: new_start <= log end (callers check: Kafka
    // answers OFFSET_OUT_OF_RANGE). `done` runs on the owner thread with the log start offset once
    // the new start is in the durable checkpoint (a crash before that may bring the records back;
    // they were not reported deleted).
    void delete_records_before(model::offset new_start, sync_callback done);

    // Log compaction (cleanup.policy=compact; docs/compaction.md). Starts a run on `c` when the
    // log is compacted, no run is in flight, it has sealed segments, and the bytes of sealed
    // segments not cleaned since the last run (all of them after open) are at least
    // min.cleanable.dirty.ratio of all sealed bytes, or `force`. Returns whether a run started.
    // The run reads and rewrites sealed segments on a compactor thread; its result is swapped in
    // on the owner thread (segments removed meanwhile by retention are skipped), logged, and
    // kept in last_compaction(). Appends, reads, retention and sync continue meanwhile; close()
    // and the destructor cancel a run and wait for its thread to let go of the directory.
    // REQUIRES: `c` outlives the run (it outlives the log).
    bool start_compaction(compactor& c, bool force = false);
    [[nodiscard]] bool compacting() const noexcept { return _compaction != nullptr; }
    [[nodiscard]] const std::optional<compaction_report>& last_compaction() const noexcept {
        return _last_compaction;
    }
    // Sealed bytes not cleaned since the last run, over all sealed bytes (0 when none).
    [[nodiscard]] double dirty_ratio() const noexcept;

    // Clean shutdown: waits for the flush in flight, syncs everything, writes the indexes and the
    // clean checkpoint. Pending sync callbacks complete. The log is unusable afterwards. On an
    // error nothing appended is lost, but the checkpoint is not clean, so the next open scans.
    result<void> close();
    // close() in steps, so that many logs can run their final I/O at once (shutdown with
    // thousands of partitions): begin_close() on the owner returns the final flush job, or the
    // outcome when there is nothing to run; the job may run on any thread (flusher::run); its
    // result goes to finish_close() on the owner. close() is begin + run + finish.
    std::variant<flush_job, result<void>> begin_close();
    result<void> finish_close(result<void> synced);

    [[nodiscard]] model::offset log_start_offset() const noexcept { return _log_start; }
    // The next offset to be assigned (Kafka's log end offset).
    [[nodiscard]] model::offset log_end_offset() const noexcept { return _segments.back()->next_offset(); }
    // Every offset below this is on disk.
    [[nodiscard]] model::offset durable_offset() const noexcept { return _durable; }
    [[nodiscard]] model::timestamp max_timestamp() const noexcept;
    [[nodiscard]] uint64_t size_bytes() const noexcept;
    [[nodiscard]] std::vector<segment_info> segments() const;
    [[nodiscard]] size_t segment_count() const noexcept { return _segments.size(); }
    [[nodiscard]] const recovery_report& recovery() const noexcept { return _recovery; }
    [[nodiscard]] const std::filesystem::path& dir() const noexcept { return _dir; }
    [[nodiscard]] const log_config& config() const noexcept { return _config; }
    // Dynamic config change (retention, segment size...); takes effect on the next append/retention.
    result<void> set_config(const log_config& config);

private:
    struct waiter {
        model::offset target;
        sync_callback done;
        model::offset start_target = model::offset::min(); // delete_records_before: checkpointed start
    };
    // The group commit in flight: what it covers, so its completion can update the segments.
    struct flush_in_flight {
        uint64_t sequence = 0;
        model::offset target;                                 // log end when it started
        std::vector<std::pair<model::offset, uint64_t>> data; // segment base, size synced
        std::vector<model::offset> indexes;                   // segments whose index files it syncs
        std::optional<model::offset> recovery_point;          // written to the checkpoint
        std::optional<model::offset> log_start;               // written to the checkpoint
        std::optional<uint64_t> directory_version;            // directory state it fsyncs
        std::optional<error> index_error;                     // clean close only: an index write failed
        std::shared_future<result<void>> finished;            // set on the flusher thread
    };
    // Shared with posted flush completions, which must not touch a destroyed log.
    struct liveness {
        partition_log* log;
    };
    // A compaction run, shared by the owner and the compactor thread.
    struct compaction_run {
        std::atomic<bool> cancel{false};
        // Written by the compactor thread before it posts the swap and sets `stopped`.
        std::optional<result<compaction_output>> output;
        std::promise<void> stopped_promise;
        std::shared_future<void> stopped; // the thread no longer touches the directory
        bool taken = false;               // owner only: the output was swapped in or discarded
        std::chrono::steady_clock::time_point started;
    };

    partition_log(std::filesystem::path dir, log_config config, log_services services);
    result<void> recover();
    result<void> roll_active();
    // Asks the preallocator for blocks ahead of the active segment when it needs more.
    void reserve_ahead(segment& active);
    [[nodiscard]] int64_t now_ms() const;
    [[nodiscard]] result<void> check_writable() const;
    [[nodiscard]] segment* find_segment(model::offset base) const noexcept;
    // The segment holding `target`, by base offset; REQUIRES: log start <= target < log end.
    [[nodiscard]] size_t segment_index_for(model::offset target) const noexcept;
    flush_job make_flush_job(flush_in_flight& flight, bool clean_close);
    void start_flush();
    void on_flushed(uint64_t sequence, const result<void>& outcome);
    void apply_flush(const flush_in_flight& flight);
    void complete_waiters();
    void fail_waiters(const error& e);
    result<void> remove_front_segment(retention_report& report);
    // apply_retention()'s work; `report` counts what was removed even when it fails part way.
    result<void> remove_expired_segments(retention_report& report);
    // Sealed bytes and the part of them not cleaned yet.
    [[nodiscard]] std::pair<uint64_t, uint64_t> sealed_and_dirty_bytes() const noexcept;
    void finish_compaction(compaction_run& run);
    // Swaps in the cleaned segments, front to back, stopping at the first that cannot be.
    void install_cleaned(compaction_output& out, compaction_report& report);
    result<void> swap_segment(size_t index, cleaned_segment& cleaned);
    // Cancels a run in flight and waits for its thread (close and destruction).
    void abandon_compaction() noexcept;

    std::filesystem::path _dir;
    log_config _config;
    log_services _services;
    std::vector<std::unique_ptr<segment>> _segments; // ordered by base offset; never empty once open
    model::offset _log_start;
    model::offset _durable;
    model::offset _recovery_point;       // as last written to the checkpoint
    model::offset _checkpoint_log_start; // the log start a reopen would find
    uint64_t _directory_version = 0;     // bumped when files are created or removed
    uint64_t _directory_synced_version = 0;
    bool _closing = false;
    std::optional<flush_in_flight> _flight;
    std::optional<flush_in_flight> _close_flight; // between begin_close() and finish_close()
    // The clean checkpoint on disk (read at a clean open, or written when the log was created),
    // and the directory version it describes: a close with nothing changed since writes nothing.
    std::optional<log_checkpoint> _clean_on_disk;
    uint64_t _clean_directory_version = 0;
    [[nodiscard]] bool unchanged_since_clean_checkpoint() const noexcept;
    uint64_t _flush_sequence = 0;
    std::optional<error> _failure;
    bool _closed = false;
    std::vector<waiter> _waiters;
    std::shared_ptr<liveness> _alive;
    recovery_report _recovery;
    std::shared_ptr<compaction_run> _compaction; // the run in flight
    model::offset _cleaned_up_to;                // in memory: after open, everything is dirty
    std::optional<compaction_report> _last_compaction;
    bool _sync_directory_soon = false; // a swap renamed files: sync the directory after this flush
};

} // namespace ms::storage
