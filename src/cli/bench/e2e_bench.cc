#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/clock.h"
#include "base/endian.h"
#include "cli/bench/bench_modes.h"
#include "cli/bench/bench_report.h"
#include "cli/bench/bench_session.h"
#include "cli/bench/fetch_loop.h"
#include "cli/bench/produce_loop.h"
#include "model/record_batch_builder.h"

namespace ms::cli::bench {

namespace {

using steady = std::chrono::steady_clock;

// Each value starts with a marker and the steady-clock time (ns) the message was due, so the
// consumer measures due -> delivered without trusting the broker's timestamps.
constexpr uint64_t e2e_marker = 0x4d5345324530314bULL; // "MSE2E01K"
constexpr size_t e2e_header = 16;

int64_t steady_ns(steady::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

} // namespace

int run_e2e(const e2e_options& o) {
    auto acks = parse_acks(o.acks);
    if (!acks) {
        return fail("e2e", acks.error(), 2);
    }
    if (o.size < static_cast<int32_t>(e2e_header)) {
        return fail(
          "e2e", fmt::format("--size must be at least {} (the send time rides in the value)", e2e_header), 2);
    }
    if (o.rate <= 0) {
        return fail("e2e", "--rate must be positive (messages per second)", 2);
    }
    auto s = open_session(o.common, o.partitions);
    if (!s) {
        return fail("e2e", s.error(), 1);
    }
    auto plans = plan_workers(*s, 1);
    if (!plans) {
        return fail("e2e", plans.error(), 1);
    }
    live_counters sent_live;
    live_counters received_live;
    // Producing stops at the deadline; the consumer goes on until it has everything or waits a
    // grace period past the deadline.
    stop_rule produce_stop(o.common.duration_s, o.common.messages);
    const double grace_s = 5.0;
    stop_rule consume_stop(o.common.duration_s > 0 ? o.common.duration_s + grace_s : 0, 0);
    std::vector<worker_outcome> produced(plans->size());
    std::vector<worker_outcome> consumed(plans->size());
    std::vector<log_linear_histogram> e2e_latency(plans->size());
    std::atomic<int> consumers_ready{0};
    std::atomic<uint64_t> total_sent{0};
    std::atomic<uint64_t> received{0};
    const auto start = steady::now();
    auto produced_by = start;
    {
        progress_printer progress("e2e received", received_live, o.common.progress);
        std::vector<std::thread> threads;
        for (size_t i = 0; i < plans->size(); ++i) {
            fetch_loop_settings fetch;
            fetch.plan = (*plans)[i];
            fetch.topic = o.common.topic;
            fetch.max_wait_ms = o.fetch_max_wait_ms;
            fetch.from_end = true;
            fetch.timeout = s->timeout;
            threads.emplace_back([&, i, fetch] {
                auto& histogram = e2e_latency[i];
                const record_visitor visit = [&histogram, &received](const model::record_view& rec,
                                                                     steady::time_point) {
                    if (!rec.value || rec.value->size() < e2e_header ||
                        load_be<uint64_t>(rec.value->data()) != e2e_marker) {
                        return;
                    }
                    const auto now_ns = steady_ns(steady::now());
                    const auto due_ns = load_be<int64_t>(rec.value->data() + 8);
                    histogram.record(static_cast<uint64_t>(std::max<int64_t>(0, now_ns - due_ns)));
                    received.fetch_add(1, std::memory_order_relaxed);
                };
                run_fetch_loop(fetch, visit, consume_stop, received_live, consumed[i], &consumers_ready);
            });
        }
        while (consumers_ready.load(std::memory_order_acquire) < static_cast<int>(plans->size())) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        for (size_t i = 0; i < plans->size(); ++i) {
            produce_loop_settings settings;
            settings.plan = (*plans)[i];
            settings.topic = o.common.topic;
            settings.acks = *acks;
            settings.records_per_batch = 1;
            settings.payload_per_batch = static_cast<uint64_t>(o.size);
            settings.rate = o.rate / static_cast<double>(plans->size());
            settings.max_in_flight = 1024;
            settings.timeout = s->timeout;
            threads.emplace_back([&, i, settings] {
                std::string value(static_cast<size_t>(o.size), 'x');
                const batch_source source = [&value](steady::time_point due) {
                    store_be<uint64_t>(reinterpret_cast<std::byte*>(value.data()), e2e_marker);
                    store_be<int64_t>(reinterpret_cast<std::byte*>(value.data() + 8), steady_ns(due));
                    model::record_batch_builder builder{model::timestamp(ms::wall_clock_ms())};
                    builder.add(std::nullopt, value);
                    return builder.build();
                };
                run_produce_loop(settings, source, produce_stop, sent_live, produced[i]);
                total_sent.fetch_add(produced[i].messages);
            });
        }
        for (size_t i = plans->size(); i < threads.size(); ++i) {
            threads[i].join();
        }
        produced_by = steady::now();
        while (received.load(std::memory_order_relaxed) < total_sent.load() && !consume_stop.expired()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        consume_stop.stop();
        for (size_t i = 0; i < plans->size(); ++i) {
            threads[i].join();
        }
    }
    bench_result r;
    // Throughput over the producing time (the consumer's wait for stragglers is not part of it).
    r.seconds = std::chrono::duration<double>(produced_by - start).count();
    r.command = "e2e";
    r.topic = o.common.topic;
    r.latency_meaning = "message due at the producer -> parsed by the consumer";
    int exit_code = 0;
    uint64_t sent = 0;
    for (size_t i = 0; i < plans->size(); ++i) {
        sent += produced[i].messages;
        r.messages += consumed[i].messages;
        r.bytes += consumed[i].bytes;
        r.errors += produced[i].errors + consumed[i].errors;
        r.latency_ns.merge(e2e_latency[i]);
        for (const auto* failure : {&produced[i].failure, &consumed[i].failure}) {
            if (!failure->empty()) {
                r.notes.push_back("stopped early: " + *failure);
                exit_code = 1;
            }
        }
    }
    if (r.messages < sent) {
        r.notes.push_back(fmt::format("received {} of {} messages acknowledged", with_thousands(r.messages),
                                      with_thousands(sent)));
        exit_code = 1;
    }
    r.settings = {{"partitions", std::to_string(s->layout.topic->partitions.size())},
                  {"size", std::to_string(o.size)},
                  {"rate", fmt::format("{}", o.rate)},
                  {"acks", fmt::format("\"{}\"", o.acks)},
                  {"sent", std::to_string(sent)},
                  {"fetch_max_wait_ms", std::to_string(o.fetch_max_wait_ms)}};
    print_result(r, o.common.format);
    return exit_code;
}

} // namespace ms::cli::bench
