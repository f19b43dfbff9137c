#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/clock.h"
#include "cli/bench/batch_pool.h"
#include "cli/bench/bench_modes.h"
#include "cli/bench/bench_report.h"
#include "cli/bench/bench_session.h"
#include "cli/bench/produce_loop.h"

namespace ms::cli::bench {

namespace {

using steady = std::chrono::steady_clock;

// Distinct batches each producer cycles through: enough that codecs and caches do not see one
// batch over and over, few enough to build in a blink.
constexpr size_t batch_variety = 16;

const char* key_mode_name(key_mode k) {
    switch (k) {
    case key_mode::none: return "none";
    case key_mode::sequential: return "sequential";
    case key_mode::random: return "random";
    }
    return "none";
}

} // namespace

int run_produce(const produce_options& o) {
    auto acks = parse_acks(o.acks);
    auto codec = parse_codec(o.compression);
    if (!acks || !codec) {
        return fail("produce", !acks ? acks.error() : codec.error(), 2);
    }
    auto s = open_session(o.common, o.partitions);
    if (!s) {
        return fail("produce", s.error(), 1);
    }
    auto plans = plan_workers(*s, o.producers);
    if (!plans) {
        return fail("produce", plans.error(), 1);
    }
    std::vector<batch_pool> pools;
    for (size_t i = 0; i < plans->size(); ++i) {
        auto pool = batch_pool::build(o.batch, o.size, o.keys, *codec, batch_variety, 0x5eed + i);
        if (!pool) {
            return fail("produce", pool.error(), 1);
        }
        pools.push_back(std::move(*pool));
    }

    live_counters live;
    std::vector<worker_outcome> outcomes(plans->size());
    stop_rule stop(o.common.duration_s, o.common.messages);
    const auto start = steady::now();
    {
        progress_printer progress("produce", live, o.common.progress);
        std::vector<std::thread> threads;
        for (size_t i = 0; i < plans->size(); ++i) {
            produce_loop_settings settings;
            settings.plan = (*plans)[i];
            settings.topic = o.common.topic;
            settings.acks = *acks;
            settings.records_per_batch = o.batch;
            settings.payload_per_batch = pools[i].payload_bytes_per_batch();
            settings.rate = o.rate / static_cast<double>(plans->size());
            settings.max_in_flight = o.max_in_flight;
            settings.timeout = s->timeout;
            threads.emplace_back([&, i, settings] {
                batch_pool& pool = pools[i];
                const batch_source source = [&pool](steady::time_point) {
                    return pool.next(ms::wall_clock_ms());
                };
                run_produce_loop(settings, source, stop, live, outcomes[i]);
                if (!outcomes[i].failure.empty()) {
                    stop.stop();
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
    }
    bench_result r;
    r.seconds = std::chrono::duration<double>(steady::now() - start).count();
    r.command = "produce";
    r.topic = o.common.topic;
    r.latency_meaning = o.rate > 0 ? "Produce request due -> answer" : "Produce request sent -> answer";
    const int exit_code = add_outcomes(r, outcomes, "producer");
    r.settings = {{"partitions", std::to_string(s->layout.topic->partitions.size())},
                  {"producers", std::to_string(plans->size())},
                  {"size", std::to_string(o.size)},
                  {"batch", std::to_string(o.batch)},
                  {"acks", fmt::format("\"{}\"", o.acks)},
                  {"compression", fmt::format("\"{}\"", o.compression)},
                  {"keys", fmt::format("\"{}\"", key_mode_name(o.keys))},
                  {"rate", fmt::format("{}", o.rate)},
                  {"max_in_flight", std::to_string(o.max_in_flight)},
                  {"batch_wire_bytes", std::to_string(pools.front().wire_bytes_per_batch())}};
    print_result(r, o.common.format);
    return exit_code;
}

} // namespace ms::cli::bench
