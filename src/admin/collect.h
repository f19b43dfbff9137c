#pragma once
// collect: what the admin API reports, gathered from every shard. Each shard runs one short task
// that copies its counters (broker/shard_metrics.h), sums its partitions' log sizes and reads its
// groups and its thread's CPU time; the summing and all rendering happen on the caller's thread
// (the admin server's), never on a shard.
//
// Call from a coroutine off the shards (the admin thread); the shards must be running.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/latency_histogram.h"
#include "broker/broker.h"
#include "broker/groups/group_manager.h"
#include "broker/shard_metrics.h"
#include "broker/topic_table.h"

namespace ms::admin {

struct topic_totals {
    broker::topic_stats traffic;
    int32_t partitions = 0; // configured
    uint64_t log_bytes = 0;
    uint64_t segments = 0;
};

struct shard_totals {
    uint32_t shard = 0;
    double cpu_seconds = 0; // the shard thread's CPU time since start
    uint64_t partitions = 0;
    uint64_t groups = 0;
};

struct broker_totals {
    std::array<broker::api_stats, broker::shard_metrics::api_slots + 1> apis{};
    std::map<std::string, topic_totals, std::less<>> topics; // every topic of the table
    std::vector<shard_totals> shards;
    uint64_t partitions = 0; // opened logs
    uint64_t groups = 0;
    uint64_t rebalances = 0;
    uint64_t connections = 0;
    latency_histogram sync_latency;
    broker::topic_snapshot table;
};

[[nodiscard]] boost::asio::awaitable<broker_totals> collect_totals(broker::broker& b);

struct group_entry {
    broker::groups::listed_group group;
    uint32_t shard = 0;
};
// Every group, ordered by id.
[[nodiscard]] boost::asio::awaitable<std::vector<group_entry>> collect_groups(broker::broker& b);

} // namespace ms::admin
