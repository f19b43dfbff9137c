#pragma once

// What every bench mode does before its load: find a reachable broker, make sure the topic exists,
// and split the topic's partitions among worker threads so that each worker talks to one broker
// (the leader of all its partitions) over one connection.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/bench/bench_options.h"
#include "client/admin.h"
#include "client/endpoint.h"
#include "client/kafka_connection.h"

namespace ms::cli::bench {

struct worker_plan {
    client::endpoint broker;
    std::vector<int32_t> partitions;
};

struct session {
    client::cluster_layout layout;
    std::vector<client::endpoint> bootstrap;
    client::milliseconds timeout{30'000};
};

// Connects to the first broker of --brokers that answers and describes (or, when `create_partitions`
// is positive, creates if missing) the topic.
[[nodiscard]] result<session, std::string> open_session(const common_options& options,
                                                        int32_t create_partitions);

// Splits partitions among `workers` threads (at least one per leader broker): worker i of a broker
// takes every n-th of that broker's partitions.
[[nodiscard]] result<std::vector<worker_plan>, std::string> plan_workers(const session& s, int32_t workers);

// When to stop: a deadline and a message budget shared by every worker.
class stop_rule {
public:
    stop_rule(double duration_s, int64_t messages);
    // Claims `n` messages of the budget before sending them: false when the run is over.
    [[nodiscard]] bool claim(int64_t n) noexcept;
    // The deadline passed, stop() was called or the message budget is used up.
    [[nodiscard]] bool expired() const noexcept;
    // The whole message budget has been claimed.
    [[nodiscard]] bool exhausted() const noexcept {
        return _claimed.load(std::memory_order_relaxed) >= _budget;
    }
    void stop() noexcept { _stopped.store(true, std::memory_order_relaxed); }
    [[nodiscard]] std::chrono::steady_clock::time_point deadline() const noexcept { return _deadline; }

private:
    std::chrono::steady_clock::time_point _deadline;
    int64_t _budget;
    std::atomic<int64_t> _claimed{0};
    std::atomic<bool> _stopped{false};
};

} // namespace ms::cli::bench
