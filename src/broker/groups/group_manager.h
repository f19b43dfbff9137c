#pragma once
// group_manager: the classic consumer-group coordinator for the groups of one shard.
//
// A group lives on the shard that owns its partition of __consumer_offsets (partition_for());
// handlers on other shards reach it with net::call_on. Every method runs on that shard's thread,
// so nothing here takes a lock. Answers that must wait (a JoinGroup until the rebalance
// completes, a SyncGroup until the leader's assignment is durable, an OffsetCommit until its
// records are on disk) are callbacks, called exactly once, on this shard.
//
// States (Kafka's classic protocol, KIP-62/KIP-345/KIP-394):
//
//   Empty ──join──► PreparingRebalance ──every member rejoined, or rebalance timeout──►
//   CompletingRebalance ──leader's SyncGroup stored──► Stable
//   Stable/CompletingRebalance ──join with new metadata, leave, session expiry──► PreparingRebalance
//   PreparingRebalance with no member left ──► Empty;  DeleteGroups: Empty ──► Dead (removed)
//
// Time: tick() is called periodically (about every 100 ms) by the owner and runs session expiry,
// rebalance and sync deadlines and offset retention; clocks are injected for tests.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "broker/groups/group_records.h"
#include "broker/groups/group_settings.h"
#include "broker/groups/offsets_log.h"

namespace ms::broker::groups {

enum class group_state : uint8_t { empty, preparing_rebalance, completing_rebalance, stable, dead };
// Kafka's names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
[[nodiscard]] std::string_view state_name(group_state s) noexcept;
[[nodiscard]] std::optional<group_state> parse_state(std::string_view name) noexcept;

// The partition of __consumer_offsets holding a group: Java's String.hashCode of the id (over its
// bytes) modulo the partition count — stable across builds and restarts.
[[nodiscard]] int32_t partition_for(std::string_view group_id, int32_t partitions) noexcept;

struct member_protocol {
    std::string name;
    bytes metadata;
};

struct join_params {
    std::string group_id;
    std::string member_id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    std::string protocol_type;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::vector<member_protocol> protocols;
    bool member_id_required = false; // JoinGroup v4+: a first join gets MEMBER_ID_REQUIRED
};

struct join_member {
    std::string member_id;
    std::optional<std::string> instance_id;
    bytes metadata;
};

struct join_result {
    int16_t error = 0;
    int32_t generation = -1;
    std::optional<std::string> protocol_name;
    std::string leader;
    std::string member_id;
    std::vector<join_member> members; // the leader's only
};

struct sync_params {
    std::string group_id;
    int32_t generation = -1;
    std::string member_id;
    std::optional<std::string> instance_id;
    std::vector<std::pair<std::string, bytes>> assignments; // the leader's only
};

struct sync_result {
    int16_t error = 0;
    bytes assignment;
};

struct member_ref {
    std::string member_id;
    std::optional<std::string> instance_id;
};

struct leave_result {
    int16_t error = 0;                  // group-level
    std::vector<int16_t> member_errors; // per member, in request order
};

struct commit_item {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    int32_t leader_epoch = -1;
    std::optional<std::string> metadata;
    int16_t error = 0; // set by the caller for partitions it refuses (unknown topic); kept
};

struct commit_params {
    std::string group_id;
    int32_t generation = -1;
    std::string member_id;
    std::optional<std::string> instance_id;
    int64_t retention_ms = -1; // OffsetCommit v2-4
    std::vector<commit_item> items;
};

struct topic_partitions {
    std::string topic;
    std::vector<int32_t> partitions;
};

struct fetched_offset {
    int32_t partition = 0;
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::string metadata;
};

struct fetched_topic {
    std::string topic;
    std::vector<fetched_offset> partitions;
};

struct listed_group {
    std::string group_id;
    std::string protocol_type;
    group_state state = group_state::empty;
};

struct described_member {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    bytes metadata;
    bytes assignment;
};

struct group_description {
    int16_t error = 0;
    std::string group_id;
    group_state state = group_state::dead;
    std::string protocol_type;
    std::string protocol_name; // "" unless Stable
    std::vector<described_member> members;
};

struct offset_delete_result {
    int16_t error = 0;
    std::vector<int16_t> item_errors; // per (topic, partition), in request order
};

// What tick() did, for logs and tests.
struct tick_report {
    size_t members_expired = 0;
    size_t offsets_expired = 0;
    size_t groups_removed = 0;
};

class group_manager {
public:
    using clock = std::chrono::steady_clock;
    using join_callback = std::function<void(join_result)>;
    using sync_callback = std::function<void(sync_result)>;

    group_manager(group_settings settings, offsets_log& log, std::function<clock::time_point()> now = {},
                  std::function<int64_t()> wall_ms = {});
    ~group_manager();
    group_manager(const group_manager&) = delete;
    group_manager& operator=(const group_manager&) = delete;

    // Start-up: the records of one partition of __consumer_offsets in log order, then loaded().
    // A record that does not decode is skipped with a warning (returned as the error).
    [[nodiscard]] result<void, std::string> replay(int32_t partition, std::span<const std::byte> key,
                                                   std::optional<std::span<const std::byte>> value);
    void loaded();

    void join(join_params params, join_callback done);
    void sync(sync_params params, sync_callback done);
    [[nodiscard]] int16_t heartbeat(std::string_view group_id, int32_t generation, std::string_view member_id,
                                    const std::optional<std::string>& instance_id);
    [[nodiscard]] leave_result leave(std::string_view group_id, const std::vector<member_ref>& members);
    // done(errors): one per item, in order.
    void commit(commit_params params, std::function<void(std::vector<int16_t>)> done);
    // nullopt topics: every offset the group has.
    [[nodiscard]] std::vector<fetched_topic>
    fetch_offsets(std::string_view group_id,
                  const std::optional<std::vector<topic_partitions>>& topics) const;
    [[nodiscard]] std::vector<listed_group> list(const std::vector<group_state>& states) const;
    [[nodiscard]] group_description describe(std::string_view group_id) const;
    // done(errors): one per group id, in order.
    void delete_groups(std::vector<std::string> group_ids, std::function<void(std::vector<int16_t>)> done);
    // `items` flattened as (topic, partition); per-item errors set by the caller are kept.
    void delete_offsets(std::string_view group_id, std::vector<commit_item> items,
                        std::function<void(offset_delete_result)> done);

    tick_report tick();
    // Answers every waiting JoinGroup and SyncGroup with NOT_COORDINATOR (the client finds the
    // coordinator again) and refuses further work. Called before the shard stops.
    void shutdown();

    [[nodiscard]] size_t group_count() const noexcept { return _groups.size(); }
    // Rebalances started here since start (every entry into PreparingRebalance).
    [[nodiscard]] uint64_t rebalances() const noexcept { return _rebalances; }
    [[nodiscard]] const group_settings& settings() const noexcept { return _settings; }

private:
    struct member {
        std::string id;
        std::optional<std::string> instance_id;
        std::string client_id;
        std::string client_host;
        std::string protocol_type;
        int32_t session_timeout_ms = 0;
        int32_t rebalance_timeout_ms = 0;
        std::vector<member_protocol> protocols;
        bytes assignment;
        join_callback awaiting_join;
        sync_callback awaiting_sync;
        clock::time_point last_heard;
        bool synced = false; // sent SyncGroup for the current generation
    };

    struct group {
        std::string id;
        int32_t partition = 0;
        group_state state = group_state::empty;
        int32_t generation = 0;
        std::string protocol_type;
        std::optional<std::string> protocol_name;
        std::optional<std::string> leader;
        std::map<std::string, member, std::less<>> members;
        std::map<std::string, std::string, std::less<>> static_members; // instance id -> member id
        std::map<std::string, clock::time_point, std::less<>> pending;  // MEMBER_ID_REQUIRED ids
        std::map<std::pair<std::string, int32_t>, offset_value> offsets;
        int64_t state_ms = 0;                           // wall clock of the last state change (retention)
        clock::time_point deadline;                     // PreparingRebalance: join; CompletingRebalance: sync
        std::optional<clock::time_point> initial_until; // initial rebalance delay in force
        bool joined_during_delay = false;
        bool storing_assignment = false;
        bool metadata_stored = false; // a group record is in the log (deletion writes a tombstone)
    };

    [[nodiscard]] clock::time_point now() const { return _now ? _now() : clock::now(); }
    [[nodiscard]] int64_t wall_ms() const;
    group* find(std::string_view id) noexcept;
    [[nodiscard]] const group* find(std::string_view id) const noexcept;
    group& create(std::string_view id);
    std::string new_member_id(std::string_view prefix);

    void join_new_member(group& g, join_params& p, join_callback& done);
    void join_known_member(group& g, join_params& p, join_callback& done);
    void add_member_and_rebalance(group& g, std::string id, join_params& p, join_callback& done);
    void replace_static_member(group& g, const std::string& old_id, join_params& p, join_callback& done);
    void update_member(member& m, join_params& p, join_callback& done);
    void prepare_rebalance(group& g);
    void try_complete_join(group& g);
    void complete_join(group& g);
    void remove_member(group& g, const std::string& id, int16_t answer);
    void expire_members(group& g, clock::time_point t, tick_report& report);
    void expire_offsets(tick_report& report);
    void remove_group_if_unused(group& g, tick_report& report);

    [[nodiscard]] join_result current_join_result(const group& g, const member& m) const;
    [[nodiscard]] bool supports_protocols(const group& g, const join_params& p) const;
    [[nodiscard]] std::string select_protocol(const group& g) const;
    [[nodiscard]] bool all_joined(const group& g) const;
    [[nodiscard]] int32_t rebalance_timeout_ms(const group& g) const;
    [[nodiscard]] static const bytes* protocol_metadata(const member& m, std::string_view protocol);
    [[nodiscard]] std::set<std::string> subscribed_topics(const group& g) const;
    [[nodiscard]] log_record group_record(const group& g) const;
    // Appends through the log; `then` runs only while this manager and the group still exist.
    void store(const group& g, std::vector<log_record> records, std::function<void(group*, store_errc)> then);

    group_settings _settings;
    offsets_log& _log;
    std::function<clock::time_point()> _now;
    std::function<int64_t()> _wall_ms;
    std::map<std::string, std::unique_ptr<group>, std::less<>> _groups;
    uint64_t _rebalances = 0;
    // Start-up only: group records read by replay(), turned into groups by loaded().
    std::map<std::string, std::pair<int32_t, group_value>, std::less<>> _loading;
    std::shared_ptr<group_manager*> _alive;
    std::mt19937_64 _random;
    int64_t _next_retention_check_ms = 0;
    bool _shut_down = false;
};

} // namespace ms::broker::groups
