#pragma once

// parallel_for: blocking work over many independent items (opening or closing thousands of
// partition logs, each a few fsyncs) on a few threads at once, so the waits overlap. Not for hot
// paths: it starts its threads on every call.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace ms {

// Calls work(i) once for every i in [0, count), on up to `threads` threads (the caller's among
// them), and returns when every call has returned. `work` must be safe to call concurrently for
// different i.
template<typename Work>
void parallel_for(size_t count, size_t threads, const Work& work) {
    std::atomic<size_t> next{0};
    const auto drain = [&] {
        for (size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
            work(i);
        }
    };
    const size_t helpers = std::min(count, std::max<size_t>(threads, 1)) - (count > 0 ? 1 : 0);
    std::vector<std::thread> pool;
    pool.reserve(helpers);
    for (size_t t = 0; t < helpers; ++t) {
        pool.emplace_back(drain);
    }
    drain();
    for (auto& t : pool) {
        t.join();
    }
}

} // namespace ms
