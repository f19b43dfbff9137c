#pragma once
// broker: a single-node Kafka broker. Owns the shards, the partitions (each on one shard), the
// topic table, and the Kafka listener.
//
// Threading: start() and stop() run on the main thread. Everything else runs on shards. The
// topic table is changed only on shard 0 (the controller) and published to each shard as an
// immutable snapshot by posting; a shard reads its own copy without locks. A partition is owned
// by shard_of(topic, partition); handlers on other shards reach it through net::call_on.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/broker_config.h"
#include "broker/config_description.h"
#include "broker/groups/group_manager.h"
#include "broker/groups/partition_offsets_log.h"
#include "broker/partition_manager.h"
#include "broker/shard_metrics.h"
#include "broker/topic_table.h"
#include "net/server.h"
#include "net/shard.h"
#include "storage/file.h"
#include "storage/flusher.h"
#include "storage/preallocator.h"

namespace ms::broker {

class dispatcher;

// One topic of a CreateTopics request, as the controller sees it.
struct topic_creation {
    std::string name;
    int32_t partitions = -1;          // -1: num.partitions
    int16_t replication_factor = -1;  // -1 or 1 on a single node
    bool manual_assignment_ok = true; // false when the request assigns replicas to another broker
    config_overrides configs;
};

struct topic_outcome {
    std::string name;
    int16_t error_code = 0;
    std::string error_message;
    std::optional<topic_metadata> topic; // the created (or deleted) topic when it succeeded
};

// One topic of an AlterConfigs (the overrides replaced by `changes`, all SET) or an
// IncrementalAlterConfigs request (`changes` applied to the overrides).
struct topic_config_update {
    std::string name;
    bool incremental = false;
    std::vector<config_change> changes;
};

// One topic of a CreatePartitions request.
struct partition_addition {
    std::string name;
    int32_t count = 0;              // the new total
    bool assignment_ok = true;      // false when the request assigns replicas to another broker
    bool assignment_size_ok = true; // false when it assigns a different number of new partitions
};

struct admin_outcome {
    int16_t error_code = 0;
    std::string error_message;
};

class broker {
public:
    explicit broker(broker_config config);
    ~broker();
    broker(const broker&) = delete;
    broker& operator=(const broker&) = delete;

    // Recovers the data directory, opens every partition and starts listening.
    [[nodiscard]] result<void, std::string> start();
    // Clean shutdown: stop accepting, finish requests in flight, sync and close every log.
    void stop();

    [[nodiscard]] const broker_config& config() const noexcept { return _config; }
    [[nodiscard]] uint16_t port() const noexcept { return _server ? _server->bound_port() : 0; }
    // The address clients are told to use: --advertise, else the listen address and bound port.
    [[nodiscard]] net::listen_address advertised() const {
        return _config.advertise ? *_config.advertise : net::listen_address{_config.listen.host, port()};
    }
    [[nodiscard]] net::shard_set& shards() noexcept { return _shards; }
    [[nodiscard]] const std::string& cluster_id() const noexcept { return _cluster_id; }
    [[nodiscard]] net::shard_id shard_of(std::string_view topic, int32_t partition) const noexcept;

    // On a shard: its partitions and its copy of the topic table.
    [[nodiscard]] partition_manager& partitions_here() noexcept;
    [[nodiscard]] const topic_map& topics_here() const noexcept;
    [[nodiscard]] partition_manager& partitions_on(net::shard_id id) noexcept { return *_managers[id]; }

    // The group coordinator: a group lives on the shard owning its partition of __consumer_offsets.
    [[nodiscard]] net::shard_id group_shard(std::string_view group_id) const noexcept;
    // On a shard: its groups.
    [[nodiscard]] groups::group_manager& groups_here() noexcept;
    [[nodiscard]] groups::group_manager& groups_on(net::shard_id id) noexcept { return *_group_managers[id]; }
    [[nodiscard]] int32_t offsets_partitions() const noexcept { return _offsets_partitions; }

    // On a shard: its request counters (written only there; see shard_metrics.h).
    [[nodiscard]] shard_metrics& metrics_here() noexcept;
    [[nodiscard]] shard_metrics& metrics_on(net::shard_id id) noexcept { return *_metrics[id]; }
    // On a shard: its current topic table snapshot (to keep beyond the call).
    [[nodiscard]] topic_snapshot topics_snapshot_here() const noexcept;
    // Thread-safe: open Kafka connections, and the durations of the flusher's syncs.
    [[nodiscard]] size_t connection_count() const noexcept {
        return _server ? _server->connection_count() : 0;
    }
    [[nodiscard]] latency_histogram sync_latency() const noexcept { return _flusher.sync_latency(); }
    // Thread-safe: false once stop() has begun.
    [[nodiscard]] bool serving() const noexcept { return _serving.load(std::memory_order_relaxed); }

    // Controller operations; call from any shard, they run on shard 0. Results in request order.
    boost::asio::awaitable<std::vector<topic_outcome>> create_topics(std::vector<topic_creation> topics,
                                                                     bool validate_only);
    boost::asio::awaitable<std::vector<topic_outcome>> delete_topics(std::vector<std::string> names);
    // Dynamic topic configs: saved in the topics file and applied to every partition at once
    // (retention runs right after, so a shortened retention deletes old segments without waiting).
    boost::asio::awaitable<std::vector<admin_outcome>>
    alter_topic_configs(std::vector<topic_config_update> updates, bool validate_only);
    // Raises partition counts: the table is saved first, then the new logs open on their shards.
    boost::asio::awaitable<std::vector<admin_outcome>>
    create_partitions(std::vector<partition_addition> additions, bool validate_only);

private:
    boost::asio::awaitable<std::vector<topic_outcome>> controller_create(std::vector<topic_creation> topics,
                                                                         bool validate_only);
    boost::asio::awaitable<std::vector<topic_outcome>> controller_delete(std::vector<std::string> names);
    boost::asio::awaitable<std::vector<admin_outcome>>
    controller_alter(std::vector<topic_config_update> updates, bool validate_only);
    boost::asio::awaitable<std::vector<admin_outcome>>
    controller_add_partitions(std::vector<partition_addition> additions, bool validate_only);
    // On shard 0: opens partitions [from, to) of `topic` on every shard at once; the first error.
    boost::asio::awaitable<std::string> open_partitions(const topic_metadata& topic, int32_t from);
    // On shard 0: hands the current table to every shard.
    void publish_topics();
    // Runs `work` every `interval` on the timer's shard until the broker stops.
    boost::asio::awaitable<void> periodic(boost::asio::steady_timer& timer,
                                          std::chrono::milliseconds interval, std::function<void()> work);
    // Adds __consumer_offsets to the topic table if missing (before the logs are opened).
    [[nodiscard]] result<void, std::string> ensure_offsets_topic();
    // On every shard: replays its partitions of __consumer_offsets into its group manager.
    [[nodiscard]] result<void, std::string> load_groups();
    [[nodiscard]] result<void, std::string> load_cluster_id();
    // One broker per data directory: an exclusive flock on <data dir>/.lock.
    [[nodiscard]] result<void, std::string> lock_data_dir();
    // Runs fn(shard_id) on every shard and waits (main thread only).
    void run_on_every_shard(const std::function<void(net::shard_id)>& fn);

    broker_config _config;
    net::shard_set _shards;
    storage::flusher _flusher;
    std::unique_ptr<storage::preallocator> _preallocator; // null with log.preallocate.bytes=0
    storage::compactor _compactor; // log compaction; outlives the managers (declared before them)
    std::vector<std::unique_ptr<partition_manager>> _managers; // indexed by shard
    std::vector<topic_snapshot> _snapshots;                    // indexed by shard; touched on that shard only
    topic_map _topics;                                         // the controller's table (shard 0)
    std::string _cluster_id;
    std::unique_ptr<dispatcher> _dispatcher;
    std::unique_ptr<net::server> _server;
    struct shard_timers {
        std::unique_ptr<boost::asio::steady_timer> retention;  // log.retention.check.interval.ms
        std::unique_ptr<boost::asio::steady_timer> groups;     // group session/rebalance timeouts
        std::unique_ptr<boost::asio::steady_timer> compaction; // log.cleaner.backoff.ms
    };
    std::vector<shard_timers> _timers;                                       // indexed by shard
    std::vector<std::unique_ptr<groups::partition_offsets_log>> _group_logs; // indexed by shard
    std::vector<std::unique_ptr<groups::group_manager>> _group_managers;     // indexed by shard
    std::vector<std::unique_ptr<shard_metrics>> _metrics;                    // indexed by shard
    int32_t _offsets_partitions = 0;
    std::atomic<bool> _stopping{false}; // read by the shards' retention loops
    std::atomic<bool> _serving{false};  // started and not stopping (the admin API's /v1/ready)
    bool _shards_running = false;
    storage::file _data_dir_lock; // data_dir/.lock, flock'ed; see lock_data_dir()
};

} // namespace ms::broker
