#include "cli/bench/bench_session.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace ms::cli::bench {

using steady = std::chrono::steady_clock;

result<session, std::string> open_session(const common_options& options, int32_t create_partitions) {
    auto endpoints = client::parse_endpoints(options.brokers);
    if (!endpoints) {
        return unexpected(fmt::format("--brokers: {}", endpoints.error()));
    }
    session s;
    s.bootstrap = *endpoints;
    s.timeout = client::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
    std::string failures;
    for (const auto& e : s.bootstrap) {
        auto conn = client::kafka_connection::open(e, s.timeout, "memorystreamer-bench");
        if (!conn) {
            failures += (failures.empty() ? "" : "; ") + conn.error();
            continue;
        }
        auto layout = create_partitions > 0
                        ? client::ensure_topic(*conn, options.topic, create_partitions, 1, s.timeout)
                        : client::describe_topic(*conn, options.topic, s.timeout);
        if (!layout) {
            return unexpected(std::move(layout.error()));
        }
        if (!layout->topic) {
            return unexpected(fmt::format("topic '{}' does not exist (produce to it first, e.g. with "
                                          "`memorystreamer bench produce --topic {}`)",
                                          options.topic, options.topic));
        }
        s.layout = std::move(*layout);
        return s;
    }
    return unexpected(failures);
}

result<std::vector<worker_plan>, std::string> plan_workers(const session& s, int32_t workers) {
    std::map<int32_t, std::vector<int32_t>> by_leader;
    for (const auto& p : s.layout.topic->partitions) {
        if (p.leader < 0) {
            return unexpected(
              fmt::format("partition {} of '{}' has no leader", p.partition, s.layout.topic->name));
        }
        by_leader[p.leader].push_back(p.partition);
    }
    std::vector<worker_plan> plans;
    const auto leaders = static_cast<int32_t>(by_leader.size());
    int32_t index = 0;
    for (const auto& [leader, partitions] : by_leader) {
        const auto found = s.layout.brokers.find(leader);
        if (found == s.layout.brokers.end()) {
            return unexpected(fmt::format("the leader {} of topic '{}' is not in the broker list", leader,
                                          s.layout.topic->name));
        }
        // Workers for this leader: an even share of the total, at least one, at most one per partition.
        int32_t share = workers / leaders + (index < workers % leaders ? 1 : 0);
        share = std::clamp<int32_t>(share, 1, static_cast<int32_t>(partitions.size()));
        for (int32_t w = 0; w < share; ++w) {
            worker_plan plan{found->second, {}};
            for (size_t i = static_cast<size_t>(w); i < partitions.size(); i += static_cast<size_t>(share)) {
                plan.partitions.push_back(partitions[i]);
            }
            plans.push_back(std::move(plan));
        }
        ++index;
    }
    return plans;
}

stop_rule::stop_rule(double duration_s, int64_t messages)
  : _deadline(duration_s > 0 ? steady::now() + std::chrono::duration_cast<steady::duration>(
                                                 std::chrono::duration<double>(duration_s))
                             : steady::time_point::max()),
    _budget(messages > 0 ? messages : INT64_MAX) {}

bool stop_rule::claim(int64_t n) noexcept {
    if (expired()) {
        return false;
    }
    return _claimed.fetch_add(n, std::memory_order_relaxed) < _budget;
}

bool stop_rule::expired() const noexcept {
    return _stopped.load(std::memory_order_relaxed) || exhausted() || steady::now() >= _deadline;
}

} // namespace ms::cli::bench
