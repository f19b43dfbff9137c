#pragma once

// Consumer group administration for `memorystreamer group` and the group member of
// `consume --group`: finding a group's coordinator, ListGroups, DescribeGroups, DeleteGroups,
// OffsetFetch and OffsetCommit.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/broker_pool.h"
#include "client/consumer_protocol.h"

namespace ms::client {

// The connection to `group`'s coordinator (FindCoordinator on the bootstrap broker, retried a few
// times while the coordinator is not available yet).
[[nodiscard]] result<kafka_connection*, std::string> find_coordinator(broker_pool& pool,
                                                                      const std::string& group);

struct listed_group {
    std::string group_id;
    std::string protocol_type;
    std::string state; // empty when the broker does not say (ListGroups < v4)
};

// Every group of every broker in the cluster, ordered by id.
[[nodiscard]] result<std::vector<listed_group>, std::string> list_groups(broker_pool& pool);

struct group_member_description {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    topic_partitions assignment; // decoded when the group speaks the consumer protocol
};

struct group_description {
    std::string group_id;
    int16_t error_code = 0;
    std::string error;
    std::string state; // Empty, Stable, PreparingRebalance, CompletingRebalance, Dead
    std::string protocol_type;
    std::string protocol;
    std::vector<group_member_description> members;
};

[[nodiscard]] result<group_description, std::string> describe_group(broker_pool& pool,
                                                                    const std::string& group);

struct group_outcome {
    std::string group_id;
    int16_t error_code = 0;
    std::string error;
};

[[nodiscard]] result<std::vector<group_outcome>, std::string>
delete_groups(broker_pool& pool, const std::vector<std::string>& groups);

using committed_offsets = std::map<std::string, std::map<int32_t, int64_t>>; // topic -> partition -> offset

// The group's committed offsets: of `topic` only when given (partitions without one are left out),
// else of every topic (OffsetFetch v2+).
[[nodiscard]] result<committed_offsets, std::string> fetch_committed(kafka_connection& coordinator,
                                                                     const std::string& group,
                                                                     const std::optional<std::string>& topic,
                                                                     const std::vector<int32_t>& partitions,
                                                                     milliseconds timeout);

struct commit_failure {
    int16_t error_code = 0; // the first partition's Kafka error; 0 when the request itself failed
    std::string message;
};

// Commits `offsets` of `topic` for `group`. generation -1 and an empty member id commit for an
// empty group (a tool resetting offsets), as Kafka allows. Fails with the first partition error.
[[nodiscard]] result<void, commit_failure>
commit_offsets(kafka_connection& coordinator, const std::string& group, int32_t generation,
               const std::string& member_id, const std::string& topic,
               const std::map<int32_t, int64_t>& offsets, milliseconds timeout);

} // namespace ms::client
