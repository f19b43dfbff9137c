#pragma once
// The topics of a broker: names, partition counts, ids and per-topic config overrides, and their
// file on disk.
//
// The table is changed only by the controller (shard 0) and handed to every shard as an
// immutable snapshot (topic_snapshot); a shard reads its own copy without locks.
//
// File format (data/topics, written atomically; one topic per line, fields separated by tabs):
//   memorystreamer-topics 1
//   <name> \t <partition count> \t <topic id, 32 hex digits> [\t <config key>=<value>]...
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "protocol/wire.h"
#include "storage/log_config.h"

namespace ms::broker {

enum class timestamp_type : uint8_t { create_time, log_append_time };

// A topic's effective settings: the broker defaults with the topic's overrides applied.
struct topic_config {
    storage::log_config log;
    timestamp_type timestamps = timestamp_type::create_time;
};

// Broker-wide defaults for topic configs (the log.* / message.* broker settings).
struct topic_defaults {
    storage::log_config log;
    timestamp_type timestamps = timestamp_type::create_time;
};

using config_overrides = std::map<std::string, std::string, std::less<>>;

// One topic config key as Kafka names it, with what it does, for validation and DescribeConfigs.
struct topic_config_key {
    std::string_view name;
    std::string_view help;
};
// The topic config keys this broker honours.
[[nodiscard]] std::span<const topic_config_key> topic_config_keys() noexcept;

// Applies `overrides` to `defaults`. The error names the key and says what is allowed.
[[nodiscard]] result<topic_config, std::string> make_topic_config(const config_overrides& overrides,
                                                                  const topic_defaults& defaults);
// The value of `key` in `config`, as Kafka would print it.
[[nodiscard]] std::string config_value(const topic_config& config, std::string_view key);

// Kafka's topic name rules: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". Returns what is
// wrong, or nothing.
[[nodiscard]] std::optional<std::string> invalid_topic_name(std::string_view name);

// The most partitions one topic may have.
inline constexpr int32_t max_partitions_per_topic = 100'000;

struct topic_metadata {
    std::string name;
    int32_t partitions = 0;
    protocol::uuid id;
    config_overrides overrides;
    topic_config config;
};

using topic_map = std::map<std::string, topic_metadata, std::less<>>;
using topic_snapshot = std::shared_ptr<const topic_map>;

[[nodiscard]] protocol::uuid random_topic_id();

// Reads the topics file of `data_dir` (an empty table if there is none).
[[nodiscard]] result<topic_map, std::string> load_topics(const std::filesystem::path& data_dir,
                                                         const topic_defaults& defaults);
// Writes the topics file atomically (durable when it returns).
[[nodiscard]] result<void, std::string> save_topics(const std::filesystem::path& data_dir,
                                                    const topic_map& topics);

} // namespace ms::broker
