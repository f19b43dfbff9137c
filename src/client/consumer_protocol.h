#pragma once

// The "consumer" embedded protocol of Kafka groups (JoinGroup metadata and SyncGroup assignment
// bytes, version 0 layouts, which every Kafka client reads) and the range assignor.
//
//   Subscription: version int16 | topics [int32 count, (int16 len, bytes)*] | user_data int32 len (-1)
//   Assignment:   version int16 | [int32 count, (topic string, [int32 count, int32 partition*])*]
//                 | user_data int32 len (-1)
//
// Decoders accept newer versions (their extra fields follow and are ignored, as Kafka does) and
// refuse anything that does not fit the bytes.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ms::client {

using topic_partitions = std::map<std::string, std::vector<int32_t>>;

[[nodiscard]] std::vector<std::byte> encode_subscription(const std::vector<std::string>& topics);
[[nodiscard]] std::optional<std::vector<std::string>> decode_subscription(std::span<const std::byte> bytes);

[[nodiscard]] std::vector<std::byte> encode_assignment(const topic_partitions& assignment);
[[nodiscard]] std::optional<topic_partitions> decode_assignment(std::span<const std::byte> bytes);

// Kafka's RangeAssignor: for each topic, members subscribed to it sorted by member id; each gets
// partitions/members consecutive partitions, the first partitions%members one more.
// `subscriptions`: member id -> topics; `partition_counts`: topic -> partitions.
[[nodiscard]] std::map<std::string, topic_partitions>
range_assign(const std::map<std::string, std::vector<std::string>>& subscriptions,
             const std::map<std::string, int32_t>& partition_counts);

} // namespace ms::client
