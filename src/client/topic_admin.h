#pragma once

// Topic and cluster administration over the Kafka admin APIs, as `memorystreamer topic|cluster`
// use them: Metadata, CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs,
// IncrementalAlterConfigs (AlterConfigs when the broker lacks it) and DescribeCluster (Metadata when
// the broker lacks it). Requests go to the connection given (the broker the CLI bootstrapped from;
// a broker that is not the controller answers NOT_CONTROLLER, reported as such).
//
// Every function returns an error string when the request could not be made or answered (no
// connection, API not supported, timeout); per-topic failures are returned in the outcomes.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/endpoint.h"
#include "client/kafka_connection.h"

namespace ms::client {

struct partition_metadata {
    int32_t id = 0;
    int16_t error_code = 0;
    int32_t leader = -1;
    int32_t leader_epoch = -1;
    std::vector<int32_t> replicas;
    std::vector<int32_t> isr;
};

struct topic_metadata {
    std::string name;
    int16_t error_code = 0;
    bool internal = false;
    std::vector<partition_metadata> partitions; // ordered by id
};

struct broker_address {
    int32_t id = -1;
    endpoint address;
    std::optional<std::string> rack;
};

struct cluster_metadata {
    std::vector<broker_address> brokers; // ordered by id
    std::optional<std::string> cluster_id;
    int32_t controller = -1;
    std::vector<topic_metadata> topics; // ordered by name
    [[nodiscard]] std::map<int32_t, endpoint> addresses() const;
    [[nodiscard]] const topic_metadata* find(const std::string& topic) const;
};

// Metadata for `topics` (all topics when nullopt). Never creates a topic.
[[nodiscard]] result<cluster_metadata, std::string>
fetch_metadata(kafka_connection& conn, const std::optional<std::vector<std::string>>& topics,
               milliseconds timeout);

// Per-topic result of a create/delete/add-partitions/alter request.
struct topic_outcome {
    std::string name;
    int16_t error_code = 0;
    std::string error; // empty when it succeeded
};

struct new_topic {
    std::string name;
    int32_t partitions = -1;         // -1: the broker's default
    int16_t replication_factor = -1; // -1: the broker's default
    std::vector<std::pair<std::string, std::string>> configs;
};

[[nodiscard]] result<std::vector<topic_outcome>, std::string>
create_topics(kafka_connection& conn, const std::vector<new_topic>& topics, bool validate_only,
              milliseconds timeout);

[[nodiscard]] result<std::vector<topic_outcome>, std::string>
delete_topics(kafka_connection& conn, const std::vector<std::string>& topics, milliseconds timeout);

// Grows each topic to `total` partitions.
[[nodiscard]] result<std::vector<topic_outcome>, std::string>
create_partitions(kafka_connection& conn, const std::vector<std::pair<std::string, int32_t>>& totals,
                  bool validate_only, milliseconds timeout);

struct config_entry {
    std::string name;
    std::optional<std::string> value; // nullopt when sensitive or unset
    std::string source;               // DEFAULT_CONFIG, DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, ...
    bool read_only = false;
    bool sensitive = false;
};

struct topic_configs {
    std::string topic;
    int16_t error_code = 0;
    std::string error;
    std::vector<config_entry> configs; // ordered by name
};

// DescribeConfigs for topic resources (v1+ for config sources; v0 reports DEFAULT_CONFIG or
// UNKNOWN from its is_default flag).
[[nodiscard]] result<std::vector<topic_configs>, std::string>
describe_topic_configs(kafka_connection& conn, const std::vector<std::string>& topics, milliseconds timeout);

// The name of a DescribeConfigs config source (-1 .. 7, Kafka's ConfigSource).
[[nodiscard]] std::string config_source_name(int8_t source);

struct config_change {
    std::string name;
    std::optional<std::string> value; // nullopt: delete (back to the default)
};

// Sets and deletes topic configs. IncrementalAlterConfigs when the broker speaks it; otherwise
// AlterConfigs, which replaces the topic's whole dynamic config: the current dynamic values are
// read with DescribeConfigs first and sent back with the changes applied.
[[nodiscard]] result<topic_outcome, std::string>
alter_topic_configs(kafka_connection& conn, const std::string& topic,
                    const std::vector<config_change>& changes, milliseconds timeout);

struct cluster_description {
    std::optional<std::string> cluster_id;
    int32_t controller = -1;
    std::vector<broker_address> brokers;
    std::string source; // "DescribeCluster" or "Metadata"
};

[[nodiscard]] result<cluster_description, std::string> describe_cluster(kafka_connection& conn,
                                                                        milliseconds timeout);

} // namespace ms::client
