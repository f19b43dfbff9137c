#pragma once

// group_member: a minimal consumer-group member for `memorystreamer consume --group`. It joins
// through the group's coordinator (JoinGroup, with the MEMBER_ID_REQUIRED round of KIP-394),
// assigns partitions with the range assignor when it is the leader, takes its assignment from
// SyncGroup, heartbeats when called often enough, commits offsets, and leaves. It never runs a
// background thread: the caller polls heartbeat() between fetches, so a caller blocked longer than
// the session timeout loses its membership (and sees it on the next heartbeat or commit).

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/broker_pool.h"
#include "client/consumer_protocol.h"

namespace ms::client {

struct group_member_settings {
    int32_t session_timeout_ms = 10'000;
    int32_t rebalance_timeout_ms = 30'000;
    milliseconds heartbeat_interval{3'000};
};

enum class membership : uint8_t { stable, rejoin_needed };

class group_member {
public:
    // REQUIRES: `pool` outlives the member.
    group_member(broker_pool& pool, std::string group, std::vector<std::string> topics,
                 group_member_settings settings) noexcept
      : _pool(&pool), _group(std::move(group)), _topics(std::move(topics)), _settings(settings) {}

    // Joins (or rejoins) and returns this member's assignment.
    [[nodiscard]] result<topic_partitions, std::string> join();
    // Sends a heartbeat when one is due. rejoin_needed when the group is rebalancing or forgot us.
    [[nodiscard]] result<membership, std::string> heartbeat();
    // The committed offsets of `topic`'s `partitions` (those without a commit are left out).
    [[nodiscard]] result<std::map<int32_t, int64_t>, std::string>
    committed(const std::string& topic, const std::vector<int32_t>& partitions);
    // Commits with this member's generation. rejoin_needed (nothing committed) when the group moved
    // to a new generation or forgot this member.
    [[nodiscard]] result<membership, std::string> commit(const std::string& topic,
                                                         const std::map<int32_t, int64_t>& offsets);
    // LeaveGroup, best effort (errors are ignored: the session timeout removes us anyway).
    void leave() noexcept;

    [[nodiscard]] const std::string& member_id() const noexcept { return _member_id; }
    [[nodiscard]] int32_t generation() const noexcept { return _generation; }

private:
    [[nodiscard]] result<topic_partitions, std::string> join_once(kafka_connection& coordinator, bool& retry);
    // True when a Heartbeat or OffsetCommit error means "join again" (the group is rebalancing,
    // forgot this member, or moved to another coordinator); forgets what the error invalidates.
    [[nodiscard]] bool needs_rejoin(int16_t code);

    broker_pool* _pool;
    std::string _group;
    std::vector<std::string> _topics;
    group_member_settings _settings;
    kafka_connection* _coordinator = nullptr;
    std::string _member_id;
    int32_t _generation = -1;
    std::chrono::steady_clock::time_point _last_heartbeat;
};

} // namespace ms::client
