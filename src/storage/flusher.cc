#include "storage/flusher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "base/logging.h"
#include "base/parallel.h"
#include "storage/fault_injection.h"

namespace ms::storage {

flusher::flusher(size_t threads) {
    if (threads == 0) {
        threads = 1;
    }
    _threads.reserve(threads);
    for (size_t i = 0; i < threads; ++i) {
        _threads.emplace_back([this] { work(); });
    }
}

flusher::~flusher() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_all();
    for (std::thread& t : _threads) {
        t.join();
    }
}

void flusher::submit(flush_job job) {
    {
        std::lock_guard lock(_mutex);
        _jobs.push_back(std::move(job));
    }
    _wake.notify_one();
}

result<void> flusher::run(const flush_job& job) {
    for (const auto& f : job.data_files) {
        if (auto r = f->datasync(); !r) {
            return r;
        }
    }
    for (const auto& path : job.index_files) {
        const int fd =
          fault_injection::injected(fault_op::open, path) ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) {
                continue; // removed by retention since the job was made
            }
            return unexpected(system_error(errno, fmt::format("open {}", path.string())));
        }
        const int rc = fault_injection::injected(fault_op::datasync, path) ? -1 : ::fsync(fd);
        const int fsync_errno = errno;
        ::close(fd);
        if (rc != 0) {
            return unexpected(system_error(fsync_errno, fmt::format("fsync {}", path.string())));
        }
    }
    if (job.directory) {
        if (auto r = sync_directory(*job.directory); !r) {
            return r;
        }
    }
    if (job.checkpoint_path) {
        if (auto r = write_file_atomic(*job.checkpoint_path, job.checkpoint_bytes); !r) {
            return r;
        }
    }
    return {};
}

namespace {

// The directory a job's files live in; nullopt for a job with nothing to do.
std::optional<std::filesystem::path> directory_of(const flush_job& job) {
    if (job.checkpoint_path) {
        return job.checkpoint_path->parent_path();
    }
    if (job.directory) {
        return job.directory;
    }
    if (!job.index_files.empty()) {
        return job.index_files.front().parent_path();
    }
    if (!job.data_files.empty()) {
        return job.data_files.front()->path().parent_path();
    }
    return std::nullopt;
}

} // namespace

std::vector<result<void>> flusher::run_together(std::span<const flush_job* const> jobs,
                                                const file* filesystem, size_t threads) {
    std::vector<result<void>> outcomes(jobs.size());
    std::vector<size_t> together;
    std::vector<size_t> alone;
    std::optional<uint64_t> device;
    if (filesystem != nullptr) {
        if (auto d = filesystem->device()) {
            device = *d;
        }
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
        const auto dir = directory_of(*jobs[i]);
        if (!dir) {
            continue; // nothing to sync
        }
        bool same_filesystem = false;
        if (device) {
            const auto where = stat_file(*dir);
            same_filesystem = where && where->device == *device;
        }
        (same_filesystem ? together : alone).push_back(i);
    }
    if (filesystem != nullptr && !together.empty()) { // together is empty without a filesystem
        if (auto synced = filesystem->sync_filesystem(); synced) {
            // Every job's data, indexes and directory are durable: the checkpoints may say so.
            parallel_for(together.size(), threads, [&](size_t k) {
                const flush_job& job = *jobs[together[k]];
                if (job.checkpoint_path) {
                    outcomes[together[k]] = replace_file_unsynced(*job.checkpoint_path, job.checkpoint_bytes);
                }
            });
            if (!filesystem->sync_filesystem()) {
                // Write them again one by one, synced, so that a failure names its file.
                parallel_for(together.size(), threads, [&](size_t k) {
                    const flush_job& job = *jobs[together[k]];
                    if (job.checkpoint_path && outcomes[together[k]]) {
                        outcomes[together[k]] = write_file_atomic(*job.checkpoint_path, job.checkpoint_bytes);
                    }
                });
            }
        } else {
            // Perhaps another file's writeback error: the file-by-file syncs find whose, if any.
            logging::get("storage")->warn("{}; syncing each log's files instead", synced.error().message);
            alone.insert(alone.end(), together.begin(), together.end());
        }
    }
    parallel_for(alone.size(), threads, [&](size_t k) { outcomes[alone[k]] = run(*jobs[alone[k]]); });
    return outcomes;
}

void flusher::work() {
    for (;;) {
        flush_job job;
        {
            std::unique_lock lock(_mutex);
            _wake.wait(lock, [this] { return _stopping || !_jobs.empty(); });
            if (_jobs.empty()) {
                return; // stopping, and every queued job has run
            }
            job = std::move(_jobs.front());
            _jobs.pop_front();
        }
        const auto started = std::chrono::steady_clock::now();
        auto outcome = run(job);
        _sync_latency.record(std::chrono::steady_clock::now() - started);
        if (job.done) {
            job.done(std::move(outcome));
        }
    }
}

} // namespace ms::storage
