#pragma once

// The consume side of a bench worker: one connection, one Fetch in flight at a time (as Kafka's
// consumers do per broker), for all the worker's partitions, every batch's CRC checked (as the
// Java consumer's check.crcs does by default) and every record parsed. The next Fetch leaves as
// soon as an answer arrives, before that answer's records are checked and parsed (Kafka's
// consumers prefetch the same way), so the broker and the network work while the client parses.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "base/histogram.h"
#include "cli/bench/bench_report.h"
#include "cli/bench/bench_session.h"
#include "model/record_batch.h"

namespace ms::cli::bench {

struct fetch_loop_settings {
    worker_plan plan;
    std::string topic;
    int32_t max_bytes = 50 * 1024 * 1024;
    int32_t partition_max_bytes = 1024 * 1024;
    int32_t max_wait_ms = 100;
    bool check_crc = true;
    // Start at the end of each partition (e2e) instead of its start (consume).
    bool from_end = false;
    // Stop once every partition is read up to the end it had when the worker started.
    bool stop_at_end = false;
    client::milliseconds timeout{30'000};
};

// The latency a fetch worker_outcome holds is Fetch sent -> answer.

// Called for every record read, with the time its Fetch answer arrived.
using record_visitor = std::function<void(const model::record_view&, std::chrono::steady_clock::time_point)>;

// `ready` is set once the start offsets are known (e2e starts producing after that).
void run_fetch_loop(const fetch_loop_settings& settings, const record_visitor& visit, stop_rule& stop,
                    live_counters& live, worker_outcome& out, std::atomic<int>* ready = nullptr);

} // namespace ms::cli::bench
