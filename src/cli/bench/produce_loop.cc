#include "cli/bench/produce_loop.h"

#include <sys/prctl.h>

#include <deque>
#include <thread>

#include <fmt/format.h>

#include "protocol/kafka_error.h"
#include "protocol/messages/all.h"

namespace ms::cli::bench {

namespace {

using steady = std::chrono::steady_clock;
constexpr int16_t produce_key = 0;
constexpr size_t max_unsent_without_acks = size_t{8} * 1024 * 1024;

} // namespace

result<int16_t, std::string> parse_acks(std::string_view text) {
    if (text == "0") {
        return int16_t{0};
    }
    if (text == "1") {
        return int16_t{1};
    }
    if (text == "all" || text == "-1") {
        return int16_t{-1};
    }
    return unexpected(fmt::format("--acks {}: use 0, 1 or all", text));
}

void run_produce_loop(const produce_loop_settings& settings, const batch_source& next_batch, stop_rule& stop,
                      live_counters& live, worker_outcome& out) {
    if (settings.rate > 0) {
        // Sends are scheduled to the microsecond and latency counts from when a send was due; the
        // default 50 us timer slack would wake this thread late and charge that to the broker.
        (void)::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    }
    auto conn =
      client::kafka_connection::open(settings.plan.broker, settings.timeout, "memorystreamer-bench");
    if (!conn) {
        out.failure = conn.error();
        return;
    }
    const auto version = conn->version_for(produce_key, 9);
    if (!version) {
        out.failure = fmt::format("{} does not speak a Produce version this tool knows",
                                  settings.plan.broker.to_string());
        return;
    }
    const bool answered = settings.acks != 0;
    const auto interval = settings.rate > 0
                            ? std::chrono::duration_cast<steady::duration>(
                                std::chrono::duration<double>(settings.records_per_batch / settings.rate))
                            : steady::duration::zero();
    std::deque<steady::time_point> started; // per request in flight: when it was due
    size_t partition_turn = 0;
    auto due = steady::now();
    bool sending = true;
    // Kept inside the variant send() takes, so each send moves nothing but the new batch in.
    protocol::any_request wrapped{protocol::produce_request{}};
    auto& request = std::get<protocol::produce_request>(wrapped);
    request.acks = settings.acks;
    request.timeout_ms = static_cast<int32_t>(settings.timeout.count());
    request.topic_data.resize(1);
    request.topic_data[0].name = settings.topic;
    request.topic_data[0].partition_data.resize(1);

    while (sending || conn->in_flight() > 0) {
        while (sending && std::cmp_less(conn->in_flight(), settings.max_in_flight)) {
            if (settings.rate > 0 && steady::now() < due) {
                break;
            }
            if (!stop.claim(settings.records_per_batch)) {
                sending = false;
                break;
            }
            const auto sent_at = settings.rate > 0 ? due : steady::now();
            auto& partition = request.topic_data[0].partition_data[0];
            partition.index = model::partition_id(settings.plan.partitions[partition_turn]);
            partition_turn = (partition_turn + 1) % settings.plan.partitions.size();
            partition.records = next_batch(sent_at);
            conn->send(wrapped, *version, answered);
            partition.records.reset();
            due += interval;
            if (answered) {
                started.push_back(sent_at);
            } else {
                out.messages += static_cast<uint64_t>(settings.records_per_batch);
                out.bytes += settings.payload_per_batch;
                live.messages.fetch_add(static_cast<uint64_t>(settings.records_per_batch),
                                        std::memory_order_relaxed);
                live.bytes.fetch_add(settings.payload_per_batch, std::memory_order_relaxed);
                if (conn->unsent_bytes() > max_unsent_without_acks) {
                    if (auto flushed = conn->flush(settings.timeout); !flushed) {
                        out.failure = flushed.error();
                        return;
                    }
                }
            }
        }
        if (!answered) {
            if (!sending) {
                if (auto flushed = conn->flush(settings.timeout); !flushed) {
                    out.failure = flushed.error();
                }
                return;
            }
            std::this_thread::sleep_until(std::min(due, stop.deadline()));
            continue;
        }
        if (conn->in_flight() == 0) {
            if (sending) {
                std::this_thread::sleep_until(std::min(due, stop.deadline()));
            }
            continue;
        }
        // Wait for an answer, but wake when the schedule wants the next send.
        client::microseconds wait = settings.timeout;
        if (sending && settings.rate > 0 && std::cmp_less(conn->in_flight(), settings.max_in_flight)) {
            wait = std::clamp(std::chrono::duration_cast<client::microseconds>(due - steady::now()),
                              client::microseconds(0), client::microseconds(settings.timeout));
        }
        auto answer = conn->receive(wait);
        if (!answer) {
            out.failure = answer.error();
            return;
        }
        const auto now = steady::now();
        if (!answer->has_value()) {
            if (!started.empty() && now - started.front() > settings.timeout + interval) {
                out.failure = fmt::format("{}: no answer to a Produce request within {} ms",
                                          settings.plan.broker.to_string(), settings.timeout.count());
                return;
            }
            continue;
        }
        out.latency_ns.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - started.front()).count()));
        started.pop_front();
        const auto& response = std::get<protocol::produce_response>(**answer);
        for (const auto& topic : response.responses) {
            for (const auto& p : topic.partition_responses) {
                if (p.error_code == 0) {
                    out.messages += static_cast<uint64_t>(settings.records_per_batch);
                    out.bytes += settings.payload_per_batch;
                    live.messages.fetch_add(static_cast<uint64_t>(settings.records_per_batch),
                                            std::memory_order_relaxed);
                    live.bytes.fetch_add(settings.payload_per_batch, std::memory_order_relaxed);
                } else {
                    out.errors += static_cast<uint64_t>(settings.records_per_batch);
                    ++out.error_names[std::string(protocol::name(protocol::to_kafka_error(p.error_code)))];
                    live.errors.fetch_add(static_cast<uint64_t>(settings.records_per_batch),
                                          std::memory_order_relaxed);
                }
            }
        }
    }
}

} // namespace ms::cli::bench
