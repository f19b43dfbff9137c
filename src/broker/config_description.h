#pragma once
// What DescribeConfigs answers and how config changes apply: a topic's configs with their sources
// and synonyms (the topic override, then the broker setting it defaults to, then the built-in
// default), the broker's own settings (static here: changed in the config file, applied at
// restart), and the operations of IncrementalAlterConfigs on a topic's overrides.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "broker/broker_config.h"
#include "broker/topic_table.h"

namespace ms::broker {

// Kafka's ConfigResource types (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs).
enum class config_resource : int8_t { topic = 2, broker = 4, broker_logger = 8 };

// Kafka's ConfigSource values.
enum class config_source : int8_t {
    dynamic_topic = 1,
    static_broker = 4,
    default_config = 5,
};

// Kafka's ConfigType values (DescribeConfigs v3+).
enum class config_type : int8_t { boolean = 1, string = 2, int32 = 3, int64 = 5, float64 = 6, list = 7 };

struct config_synonym {
    std::string name;
    std::optional<std::string> value;
    config_source source = config_source::default_config;
};

struct described_config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    config_source source = config_source::default_config;
    bool sensitive = false;
    std::vector<config_synonym> synonyms; // most specific first, the entry itself included
    config_type type = config_type::string;
    std::string documentation;
};

// Every config of `topic`, or only the `names` asked for (unknown names are left out, as Kafka
// does). Synonyms name the broker setting each topic config defaults to, with its source.
[[nodiscard]] std::vector<described_config>
describe_topic_configs(const topic_metadata& topic, const broker_config& broker,
                       const std::optional<std::vector<std::string>>& names);

// Every broker setting (read-only here: dynamic broker configs are not supported), or the `names`.
[[nodiscard]] std::vector<described_config>
describe_broker_configs(const broker_config& broker, const std::optional<std::vector<std::string>>& names);

// IncrementalAlterConfigs' operations.
enum class config_operation : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };

struct config_change {
    std::string name;
    config_operation operation = config_operation::set;
    std::optional<std::string> value;
};

// Applies `changes` to a topic's `overrides` (whose effective config is `current`). APPEND and
// SUBTRACT work on list configs (cleanup.policy) and start from the effective value. The error
// names the config and says what is wrong; the caller validates the result with make_topic_config.
[[nodiscard]] result<config_overrides, std::string>
apply_config_changes(config_overrides overrides, const topic_config& current,
                     const std::vector<config_change>& changes);

// The broker setting a topic config defaults to ("retention.ms" -> "log.retention.ms"), if any.
[[nodiscard]] std::optional<std::string_view> broker_synonym(std::string_view topic_key) noexcept;

} // namespace ms::broker
