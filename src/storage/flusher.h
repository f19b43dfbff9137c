#pragma once

// flusher: background threads that make data durable, so that no shard ever blocks in
// fdatasync. A partition_log submits one job per group commit; the job's completion runs on a
// flusher thread and must only post to the log's owner (see executor.h).
//
// Jobs of different logs run concurrently on `threads` workers; a log never has two jobs in
// flight, so the steps of one job keep their order: data files, then index files, then the
// directory, then the checkpoint.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "base/latency_histogram.h"
#include "storage/file.h"

namespace ms::storage {

struct flush_job {
    std::vector<std::shared_ptr<const file>> data_files;  // fdatasync'ed through their descriptor
    std::vector<std::filesystem::path> index_files;       // fsync'ed by path; missing = removed, skipped
    std::optional<std::filesystem::path> directory;       // fsync'ed after the files
    std::optional<std::filesystem::path> checkpoint_path; // written atomically last
    std::vector<std::byte> checkpoint_bytes;
    std::function<void(result<void>)> done; // runs on the flusher thread
};

class flusher {
public:
    explicit flusher(size_t threads = 1);
    ~flusher();
    flusher(const flusher&) = delete;
    flusher& operator=(const flusher&) = delete;

    [[nodiscard]] size_t thread_count() const noexcept { return _threads.size(); }
    // Thread-safe. Queues the job (a short critical section; fdatasync happens elsewhere).
    void submit(flush_job job);
    // Runs a job on the calling thread (used at close, when the owner must wait anyway).
    static result<void> run(const flush_job& job);
    // Runs the final jobs of many logs at once (a shutdown), on up to `threads` threads, and
    // returns one outcome per job. Jobs on the filesystem of `filesystem` skip the file-by-file
    // syncs: one syncfs(2) makes all their data, index and directory changes durable, their
    // checkpoints are then renamed into place unsynced, and a second syncfs makes those durable.
    // With 10,000 logs that is two syncs instead of ~60,000, which also stops the journal commits
    // of those syncs from stalling every file creation meanwhile. `filesystem` must have been
    // opened before any of the jobs' data was written (when the broker started): syncfs reports
    // only the writeback errors since its descriptor was opened. Jobs on other filesystems, all of
    // them when a syncfs fails (it cannot say which file failed), and all of them without
    // `filesystem`, run alone (run()).
    static std::vector<result<void>> run_together(std::span<const flush_job* const> jobs,
                                                  const file* filesystem, size_t threads);
    // Thread-safe: how long the jobs run by the flusher threads took (one sample per job: the
    // fdatasync of its data files, then its index, directory and checkpoint syncs).
    [[nodiscard]] latency_histogram sync_latency() const noexcept { return _sync_latency.snapshot(); }

private:
    void work();

    std::mutex _mutex;
    std::condition_variable _wake;
    std::deque<flush_job> _jobs;
    bool _stopping = false;
    atomic_latency_histogram _sync_latency; // relaxed adds, once per job (not per record)
    std::vector<std::thread> _threads;
};

} // namespace ms::storage
