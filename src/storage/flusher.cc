#include "storage/flusher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

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
