#include <gtest/gtest.h>

#include "broker/config_description.h"

namespace ms::broker {
namespace {

const described_config& find(const std::vector<described_config>& configs, std::string_view name) {
    for (const auto& c : configs) {
        if (c.name == name) {
            return c;
        }
    }
    throw std::runtime_error("config " + std::string(name) + " not described");
}

broker_config broker_with_static_retention() {
    broker_config b;
    b.settings = {{"log.retention.ms", "3600000", "604800000", "flag", "retention"},
                  {"log.segment.bytes", "1073741824", "1073741824", "default", "segments"},
                  {"auto.create.topics.enable", "true", "true", "default", "auto"}};
    return b;
}

topic_metadata topic_with(config_overrides overrides) {
    topic_metadata t;
    t.name = "t";
    t.partitions = 1;
    t.overrides = std::move(overrides);
    topic_defaults defaults;
    defaults.log.retention_ms = 3'600'000;
    t.config = *make_topic_config(t.overrides, defaults);
    return t;
}

TEST(describe_configs, topic_sources_and_synonyms_from_override_to_default) {
    const auto b = broker_with_static_retention();
    const auto configs = describe_topic_configs(topic_with({{"retention.bytes", "1000"}}), b, std::nullopt);
    EXPECT_EQ(configs.size(), topic_config_keys().size());

    const auto& bytes = find(configs, "retention.bytes");
    EXPECT_EQ(bytes.value, "1000");
    EXPECT_EQ(bytes.source, config_source::dynamic_topic);
    EXPECT_FALSE(bytes.read_only);
    EXPECT_EQ(bytes.type, config_type::int64);
    ASSERT_FALSE(bytes.synonyms.empty());
    EXPECT_EQ(bytes.synonyms.front().name, "retention.bytes");

    const auto& ms = find(configs, "retention.ms");
    EXPECT_EQ(ms.value, "3600000");
    EXPECT_EQ(ms.source, config_source::static_broker);
    ASSERT_EQ(ms.synonyms.size(), 2U);
    EXPECT_EQ(ms.synonyms[0].name, "log.retention.ms");
    EXPECT_EQ(ms.synonyms[0].value, "3600000");
    EXPECT_EQ(ms.synonyms[0].source, config_source::static_broker);
    EXPECT_EQ(ms.synonyms[1].value, "604800000");
    EXPECT_EQ(ms.synonyms[1].source, config_source::default_config);

    EXPECT_EQ(find(configs, "segment.bytes").source, config_source::default_config);
    EXPECT_EQ(find(configs, "cleanup.policy").type, config_type::list);
    EXPECT_EQ(find(configs, "min.cleanable.dirty.ratio").type, config_type::float64);
}

TEST(describe_configs, a_key_filter_keeps_only_known_names_asked_for) {
    const auto b = broker_with_static_retention();
    const auto configs =
      describe_topic_configs(topic_with({}), b, std::vector<std::string>{"segment.ms", "no.such.key"});
    ASSERT_EQ(configs.size(), 1U);
    EXPECT_EQ(configs[0].name, "segment.ms");
}

TEST(describe_configs, broker_settings_are_read_only_with_their_source_and_type) {
    const auto configs = describe_broker_configs(broker_with_static_retention(), std::nullopt);
    ASSERT_EQ(configs.size(), 3U);
    EXPECT_TRUE(configs[0].read_only);
    EXPECT_EQ(configs[0].source, config_source::static_broker);
    EXPECT_EQ(configs[0].type, config_type::int64);
    EXPECT_EQ(configs[1].source, config_source::default_config);
    EXPECT_EQ(configs[2].type, config_type::boolean);
}

TEST(incremental_alter, set_delete_append_subtract) {
    const auto current = topic_with({{"cleanup.policy", "delete"}, {"retention.ms", "5"}});
    auto changed = apply_config_changes(current.overrides, current.config,
                                        {{"retention.ms", config_operation::remove, std::nullopt},
                                         {"segment.ms", config_operation::set, "1000"},
                                         {"cleanup.policy", config_operation::append, "compact"}});
    ASSERT_TRUE(changed.has_value()) << changed.error();
    EXPECT_EQ(*changed, (config_overrides{{"cleanup.policy", "delete,compact"}, {"segment.ms", "1000"}}));
    // Appending what is there already changes nothing; subtracting leaves the rest.
    auto again = apply_config_changes(*changed, current.config,
                                      {{"cleanup.policy", config_operation::append, "delete"},
                                       {"cleanup.policy", config_operation::subtract, "delete"}});
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->at("cleanup.policy"), "compact");
    // Without an override, APPEND starts from the effective value (the broker default).
    auto from_default = apply_config_changes({}, topic_with({}).config,
                                             {{"cleanup.policy", config_operation::append, "compact"}});
    ASSERT_TRUE(from_default.has_value());
    EXPECT_EQ(from_default->at("cleanup.policy"), "delete,compact");
}

TEST(incremental_alter, refuses_unknown_keys_non_lists_and_missing_values_by_name) {
    const auto t = topic_with({});
    auto unknown = apply_config_changes({}, t.config, {{"no.such", config_operation::set, "1"}});
    ASSERT_FALSE(unknown.has_value());
    EXPECT_NE(unknown.error().find("no.such"), std::string::npos);
    auto not_list = apply_config_changes({}, t.config, {{"retention.ms", config_operation::append, "1"}});
    ASSERT_FALSE(not_list.has_value());
    EXPECT_NE(not_list.error().find("retention.ms"), std::string::npos);
    EXPECT_FALSE(apply_config_changes({}, t.config, {{"retention.ms", config_operation::set, std::nullopt}}));
    EXPECT_FALSE(
      apply_config_changes({}, t.config, {{"retention.ms", static_cast<config_operation>(7), "1"}}));
}

TEST(incremental_alter, broker_synonyms_name_the_broker_setting) {
    EXPECT_EQ(broker_synonym("retention.ms"), "log.retention.ms");
    EXPECT_EQ(broker_synonym("segment.ms"), "log.roll.ms");
    EXPECT_FALSE(broker_synonym("compression.type"));
    EXPECT_FALSE(broker_synonym("bogus"));
}

} // namespace
} // namespace ms::broker
