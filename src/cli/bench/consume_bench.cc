#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/bench/bench_modes.h"
#include "cli/bench/bench_report.h"
#include "cli/bench/bench_session.h"
#include "cli/bench/fetch_loop.h"

namespace ms::cli::bench {

int run_consume(const consume_options& o) {
    auto s = open_session(o.common, 0);
    if (!s) {
        return fail("consume", s.error(), 1);
    }
    auto plans = plan_workers(*s, o.consumers);
    if (!plans) {
        return fail("consume", plans.error(), 1);
    }
    live_counters live;
    std::vector<worker_outcome> outcomes(plans->size());
    stop_rule stop(o.common.duration_s, o.common.messages);
    const auto start = std::chrono::steady_clock::now();
    {
        progress_printer progress("consume", live, o.common.progress);
        std::vector<std::thread> threads;
        for (size_t i = 0; i < plans->size(); ++i) {
            fetch_loop_settings settings;
            settings.plan = (*plans)[i];
            settings.topic = o.common.topic;
            settings.max_bytes = o.fetch_max_bytes;
            settings.partition_max_bytes = o.partition_max_bytes;
            settings.max_wait_ms = o.fetch_max_wait_ms;
            settings.check_crc = o.check_crc;
            // Without a message count, read what the topic held at the start and stop.
            settings.stop_at_end = o.common.messages == 0;
            settings.timeout = s->timeout;
            threads.emplace_back([&, i, settings] {
                run_fetch_loop(settings, {}, stop, live, outcomes[i]);
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
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.command = "consume";
    r.topic = o.common.topic;
    r.latency_meaning = "Fetch request sent -> answer";
    const int exit_code = add_outcomes(r, outcomes, "consumer");
    if (o.common.messages > 0 && r.messages < static_cast<uint64_t>(o.common.messages)) {
        r.notes.push_back(fmt::format("read {} of the {} messages asked for before the time ran out",
                                      with_thousands(r.messages),
                                      with_thousands(static_cast<uint64_t>(o.common.messages))));
    }
    r.settings = {{"partitions", std::to_string(s->layout.topic->partitions.size())},
                  {"consumers", std::to_string(plans->size())},
                  {"fetch_max_bytes", std::to_string(o.fetch_max_bytes)},
                  {"partition_max_bytes", std::to_string(o.partition_max_bytes)},
                  {"fetch_max_wait_ms", std::to_string(o.fetch_max_wait_ms)},
                  {"check_crc", o.check_crc ? "true" : "false"}};
    print_result(r, o.common.format);
    return exit_code;
}

} // namespace ms::cli::bench
