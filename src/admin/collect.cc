#include "admin/collect.h"

#include <time.h>

#include <algorithm>

#include "net/shard.h"

namespace ms::admin {

namespace {

struct topic_here {
    std::string name;
    broker::topic_stats traffic;
    uint64_t log_bytes = 0;
    uint64_t segments = 0;
};

struct shard_report {
    std::array<broker::api_stats, broker::shard_metrics::api_slots + 1> apis{};
    std::vector<topic_here> topics; // in name order
    shard_totals totals;
    uint64_t rebalances = 0;
    broker::topic_snapshot table;
    std::vector<group_entry> groups; // when asked for
};

double thread_cpu_seconds() {
    timespec ts{};
    if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return 0;
    }
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// On shard `id`: a copy of what it counts. Also forgets the counters of deleted topics.
shard_report report_here(broker::broker& b, net::shard_id id, bool with_groups) {
    shard_report r;
    if (with_groups) {
        for (auto& g : b.groups_on(id).list({})) {
            r.groups.push_back({std::move(g), id});
        }
    }
    broker::shard_metrics& metrics = b.metrics_on(id);
    r.apis = metrics.apis();
    r.table = b.topics_snapshot_here();
    auto& counters = metrics.topics();
    std::erase_if(counters, [&r](const auto& entry) { return !r.table->contains(entry.first); });
    std::map<std::string, topic_here, std::less<>> here;
    for (const auto& [name, stats] : counters) {
        here[name].traffic = stats;
    }
    b.partitions_on(id).for_each([&here, &r](const std::string& topic, int32_t, const broker::partition& p) {
        topic_here& t = here[topic];
        t.log_bytes += p.log->size_bytes();
        t.segments += p.log->segment_count();
        ++r.totals.partitions;
    });
    r.topics.reserve(here.size());
    for (auto& [name, t] : here) {
        t.name = name;
        r.topics.push_back(std::move(t));
    }
    r.totals.shard = id;
    r.totals.cpu_seconds = thread_cpu_seconds();
    r.totals.groups = b.groups_on(id).group_count();
    r.rebalances = b.groups_on(id).rebalances();
    return r;
}

std::vector<net::shard_id> every_shard(broker::broker& b) {
    std::vector<net::shard_id> ids(b.shards().size());
    for (net::shard_id i = 0; i < ids.size(); ++i) {
        ids[i] = i;
    }
    return ids;
}

// One report per shard, in shard order.
boost::asio::awaitable<std::vector<shard_report>> gather(broker::broker& b, bool with_groups) {
    // Named, not a temporary inside the co_await expression: GCC 12 destroys those twice.
    auto copy_here = [&b, with_groups](net::shard_id id, auto reply) {
        reply(report_here(b, id, with_groups));
    };
#ifdef __clang_analyzer__
    // clang-analyzer (clang-tidy 14) follows this co_await into Asio's awaitable machinery and
    // reports null dereferences there that cannot happen; it checks everything else in this file.
    (void)copy_here;
    co_return std::vector<shard_report>{};
#else
    co_return co_await net::call_on_each<shard_report>(b.shards(), every_shard(b), copy_here);
#endif
}

} // namespace

boost::asio::awaitable<broker_totals> collect_totals(broker::broker& b) {
    const std::vector<shard_report> reports = co_await gather(b, false);

    broker_totals out;
    out.connections = b.connection_count();
    out.sync_latency = b.sync_latency();
    // The table as shard 0 (the controller) has it; topics created since other shards copied
    // theirs simply show zeros there.
    out.table = reports.empty() ? nullptr : reports[0].table;
    if (out.table) {
        for (const auto& [name, meta] : *out.table) {
            out.topics[name].partitions = meta.partitions;
        }
    }
    for (const shard_report& r : reports) {
        for (size_t i = 0; i < r.apis.size(); ++i) {
            out.apis[i].requests += r.apis[i].requests;
            out.apis[i].errors += r.apis[i].errors;
            out.apis[i].latency.merge(r.apis[i].latency);
        }
        for (const topic_here& t : r.topics) {
            auto it = out.topics.find(t.name);
            if (it == out.topics.end()) {
                continue; // deleted meanwhile
            }
            topic_totals& sum = it->second;
            sum.traffic.produced_bytes += t.traffic.produced_bytes;
            sum.traffic.produced_records += t.traffic.produced_records;
            sum.traffic.fetched_bytes += t.traffic.fetched_bytes;
            sum.traffic.fetched_records += t.traffic.fetched_records;
            sum.log_bytes += t.log_bytes;
            sum.segments += t.segments;
        }
        out.shards.push_back(r.totals);
        out.partitions += r.totals.partitions;
        out.groups += r.totals.groups;
        out.rebalances += r.rebalances;
    }
    co_return out;
}

boost::asio::awaitable<std::vector<group_entry>> collect_groups(broker::broker& b) {
    std::vector<shard_report> reports = co_await gather(b, true);
    std::vector<group_entry> all;
    for (shard_report& r : reports) {
        std::move(r.groups.begin(), r.groups.end(), std::back_inserter(all));
    }
    std::sort(all.begin(), all.end(),
              [](const group_entry& x, const group_entry& y) { return x.group.group_id < y.group.group_id; });
    co_return all;
}

} // namespace ms::admin
