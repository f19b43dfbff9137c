#pragma once

// Cluster and topic questions every tool asks first, over one kafka_connection: which brokers and
// partitions exist, who leads each partition, and "create this topic unless it exists".

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/endpoint.h"
#include "client/kafka_connection.h"

namespace ms::client {

struct partition_leader {
    int32_t partition = 0;
    int32_t leader = -1; // node id; -1 when the partition has no leader right now
};

struct topic_layout {
    std::string name;
    std::vector<partition_leader> partitions; // ordered by partition id
};

struct cluster_layout {
    std::map<int32_t, endpoint> brokers; // by node id
    std::optional<topic_layout> topic;   // when one was asked for and exists
};

// Metadata for one topic (without creating it). `topic` is nullopt when it does not exist; a
// topic-level error other than UNKNOWN_TOPIC_OR_PARTITION is returned as an error.
[[nodiscard]] result<cluster_layout, std::string>
describe_topic(kafka_connection& conn, const std::string& topic, milliseconds timeout);

// Creates `topic` with `partitions` partitions (replication factor 1 unless told otherwise), or
// does nothing when it exists already. Returns the layout afterwards (waiting until every
// partition has a leader, within the timeout).
[[nodiscard]] result<cluster_layout, std::string> ensure_topic(kafka_connection& conn,
                                                               const std::string& topic, int32_t partitions,
                                                               int16_t replication_factor,
                                                               milliseconds timeout);

} // namespace ms::client
