#include "storage/compactor.h"

namespace ms::storage {

compactor::compactor(size_t threads, size_t key_map_bytes) : _key_map_bytes(key_map_bytes) {
    if (threads == 0) {
        threads = 1;
    }
    _threads.reserve(threads);
    for (size_t i = 0; i < threads; ++i) {
        _threads.emplace_back([this] { work(); });
    }
}

compactor::~compactor() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_all();
    for (std::thread& t : _threads) {
        t.join();
    }
}

void compactor::submit(task t) {
    {
        std::lock_guard lock(_mutex);
        _tasks.push_back(std::move(t));
    }
    _wake.notify_one();
}

void compactor::work() {
    for (;;) {
        task t;
        bool stopping = false;
        {
            std::unique_lock lock(_mutex);
            _wake.wait(lock, [this] { return _stopping || !_tasks.empty(); });
            if (_tasks.empty()) {
                return; // stopping, and every queued task has run
            }
            t = std::move(_tasks.front());
            _tasks.pop_front();
            stopping = _stopping;
        }
        t(stopping);
    }
}

} // namespace ms::storage
