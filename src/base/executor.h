#pragma once

// executor: where a component delivers work to the thread that owns an object. Background
// threads (the storage flusher, for one) never touch an owner's state; they post a task to its
// executor. The broker's shards implement it with their io_context; tests and tools use
// manual_executor.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace ms {

class executor {
public:
    executor() = default;
    executor(const executor&) = delete;
    executor& operator=(const executor&) = delete;
    virtual ~executor() = default;
    // Thread-safe. The task runs later on the executor's thread, never inside post().
    virtual void post(std::function<void()> task) = 0;
};

// A queue drained by whoever calls run_*: the calling thread becomes the owner thread.
class manual_executor final : public executor {
public:
    void post(std::function<void()> task) override {
        {
            std::lock_guard lock(_mutex);
            _tasks.push_back(std::move(task));
        }
        _ready.notify_one();
    }

    // Runs the tasks queued now; returns how many ran.
    size_t run_pending() {
        std::deque<std::function<void()>> batch;
        {
            std::lock_guard lock(_mutex);
            batch.swap(_tasks);
        }
        for (auto& task : batch) {
            task();
        }
        return batch.size();
    }

    // Runs tasks as they arrive until `done()` holds or `timeout` passes; returns done().
    template<typename Predicate>
    bool run_until(Predicate done, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            {
                std::unique_lock lock(_mutex);
                if (!_ready.wait_until(lock, deadline, [this] { return !_tasks.empty(); })) {
                    return done();
                }
            }
            run_pending();
        }
        return true;
    }

private:
    std::mutex _mutex;
    std::condition_variable _ready;
    std::deque<std::function<void()>> _tasks;
};

} // namespace ms
