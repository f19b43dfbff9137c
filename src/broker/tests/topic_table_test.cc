// Topic names, topic configs and the topics file.
#include <filesystem>
#include <fstream>
#include <tuple>

#include <gtest/gtest.h>

#include "broker/topic_table.h"

namespace ms::broker {
namespace {

TEST(topic_names, follow_kafkas_rules) {
    EXPECT_FALSE(invalid_topic_name("orders"));
    EXPECT_FALSE(invalid_topic_name("a.b_c-D9"));
    EXPECT_FALSE(invalid_topic_name(std::string(249, 'x')));
    EXPECT_TRUE(invalid_topic_name(""));
    EXPECT_TRUE(invalid_topic_name("."));
    EXPECT_TRUE(invalid_topic_name(".."));
    EXPECT_TRUE(invalid_topic_name(std::string(250, 'x')));
    EXPECT_TRUE(invalid_topic_name("with space"));
    EXPECT_TRUE(invalid_topic_name("slash/name"));
    EXPECT_TRUE(invalid_topic_name("tab\tname"));
}

TEST(topic_configs, apply_overrides_over_defaults) {
    topic_defaults defaults;
    defaults.log.retention_ms = 1000;
    auto config =
      make_topic_config({{"retention.bytes", "4096"}, {"message.timestamp.type", "LogAppendTime"}}, defaults);
    ASSERT_TRUE(config.has_value()) << config.error();
    EXPECT_EQ(config->log.retention_ms, 1000);
    EXPECT_EQ(config->log.retention_bytes, 4096);
    EXPECT_EQ(config->timestamps, timestamp_type::log_append_time);
    EXPECT_EQ(config_value(*config, "retention.bytes"), "4096");
    EXPECT_EQ(config_value(*config, "message.timestamp.type"), "LogAppendTime");
}

TEST(topic_configs, cleanup_policy_and_compaction_settings) {
    const topic_defaults defaults;
    for (const auto& [policy, compact, by_retention, printed] :
         std::vector<std::tuple<std::string, bool, bool, std::string>>{
           {"delete", false, true, "delete"},
           {"compact", true, false, "compact"},
           {"compact,delete", true, true, "compact,delete"},
           {"delete,compact", true, true, "compact,delete"},
         }) {
        auto config = make_topic_config({{"cleanup.policy", policy}}, defaults);
        ASSERT_TRUE(config.has_value()) << config.error();
        EXPECT_EQ(config->log.compact, compact) << policy;
        EXPECT_EQ(config->log.delete_by_retention, by_retention) << policy;
        EXPECT_EQ(config_value(*config, "cleanup.policy"), printed);
    }
    auto config = make_topic_config(
      {{"cleanup.policy", "compact"}, {"delete.retention.ms", "1000"}, {"min.cleanable.dirty.ratio", "0.25"}},
      defaults);
    ASSERT_TRUE(config.has_value()) << config.error();
    EXPECT_EQ(config->log.delete_retention_ms, 1000);
    EXPECT_EQ(config->log.min_cleanable_dirty_ratio, 0.25);
    EXPECT_EQ(config_value(*config, "delete.retention.ms"), "1000");
    EXPECT_EQ(config_value(*config, "min.cleanable.dirty.ratio"), "0.25");
    auto plain = make_topic_config({}, defaults);
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(config_value(*plain, "delete.retention.ms"), "86400000");
    EXPECT_EQ(config_value(*plain, "min.cleanable.dirty.ratio"), "0.5");
    EXPECT_EQ(config_value(*plain, "cleanup.policy"), "delete");
}

TEST(topic_configs, refuse_bad_values_naming_the_key) {
    const topic_defaults defaults;
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"retention.ms", "soon"},
           {"retention.ms", "-2"},
           {"segment.bytes", "1"},
           {"message.timestamp.type", "Now"},
           {"cleanup.policy", "compacted"},
           {"cleanup.policy", "compact,compact"},
           {"delete.retention.ms", "-1"},
           {"min.cleanable.dirty.ratio", "1.5"},
           {"min.cleanable.dirty.ratio", "half"},
           {"no.such.key", "1"},
         }) {
        auto config = make_topic_config({{key, value}}, defaults);
        ASSERT_FALSE(config.has_value()) << key << "=" << value;
        EXPECT_NE(config.error().find(key), std::string::npos) << config.error();
    }
}

TEST(topics_file, round_trips_and_rejects_damage) {
    const auto dir = std::filesystem::temp_directory_path() / ("ms-topics-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const topic_defaults defaults;
    auto empty = load_topics(dir, defaults);
    ASSERT_TRUE(empty.has_value());
    EXPECT_TRUE(empty->empty());

    topic_map topics;
    topic_metadata t;
    t.name = "events";
    t.partitions = 12;
    t.id = random_topic_id();
    t.overrides = {{"retention.ms", "60000"}};
    t.config = *make_topic_config(t.overrides, defaults);
    topics.emplace(t.name, t);
    ASSERT_TRUE(save_topics(dir, topics).has_value());

    auto loaded = load_topics(dir, defaults);
    ASSERT_TRUE(loaded.has_value()) << loaded.error();
    ASSERT_EQ(loaded->size(), 1U);
    const topic_metadata& back = loaded->at("events");
    EXPECT_EQ(back.partitions, 12);
    EXPECT_EQ(back.id, t.id);
    EXPECT_EQ(back.overrides, t.overrides);
    EXPECT_EQ(back.config.log.retention_ms, 60000);

    std::ofstream(dir / "topics", std::ios::app) << "broken line\n";
    auto damaged = load_topics(dir, defaults);
    ASSERT_FALSE(damaged.has_value());
    EXPECT_NE(damaged.error().find("line 3"), std::string::npos) << damaged.error();
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace ms::broker
