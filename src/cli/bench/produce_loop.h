#pragma once

// The produce side of a bench worker: one connection, up to max_in_flight pipelined Produce
// requests of one batch each, partitions taken in turn. With a rate the sends follow a fixed
// schedule (open loop) and each latency is measured from the moment the batch was due, so a broker
// that stalls is charged for the whole backlog it caused (no coordinated omission).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "base/histogram.h"
#include "base/iobuf.h"
#include "cli/bench/bench_report.h"
#include "cli/bench/bench_session.h"

namespace ms::cli::bench {

struct produce_loop_settings {
    worker_plan plan;
    std::string topic;
    int16_t acks = 1;
    int32_t records_per_batch = 1;
    uint64_t payload_per_batch = 0;
    double rate = 0; // msg/s for this worker; 0 = as fast as answers come back
    int32_t max_in_flight = 8;
    client::milliseconds timeout{30'000};
};

// Makes the batch to send; `due` is when the schedule wanted it sent.
using batch_source = std::function<iobuf(std::chrono::steady_clock::time_point due)>;

void run_produce_loop(const produce_loop_settings& settings, const batch_source& next_batch, stop_rule& stop,
                      live_counters& live, worker_outcome& out);

[[nodiscard]] result<int16_t, std::string> parse_acks(std::string_view text);

} // namespace ms::cli::bench
