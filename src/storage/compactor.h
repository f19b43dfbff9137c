#pragma once

// compactor: background threads that run log compaction (compaction.h), so that no shard ever
// reads or rewrites whole segments. A partition_log submits one task per compaction run; the task
// reads the sealed segments' immutable files, writes cleaned copies, and posts the swap to the
// log's owner executor. A log never has two runs in flight.
//
// The compactor must outlive every log that submitted to it (logs wait for their run at close).
// On destruction, queued tasks still run, told that the compactor is stopping (they give up at
// once and clean up after themselves).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/compaction.h"

namespace ms::storage {

class compactor {
public:
    // `key_map_bytes` bounds the key map of each run (one run per thread at a time).
    explicit compactor(size_t threads = 1, size_t key_map_bytes = default_key_map_bytes);
    ~compactor();
    compactor(const compactor&) = delete;
    compactor& operator=(const compactor&) = delete;

    // A run; `stopping` is true when the compactor is being destroyed.
    using task = std::function<void(bool stopping)>;

    // Thread-safe. Queues the task (a short critical section).
    void submit(task t);
    [[nodiscard]] size_t key_map_bytes() const noexcept { return _key_map_bytes; }

private:
    void work();

    size_t _key_map_bytes;
    std::mutex _mutex;
    std::condition_variable _wake;
    std::deque<task> _tasks;
    bool _stopping = false;
    std::vector<std::thread> _threads;
};

} // namespace ms::storage
