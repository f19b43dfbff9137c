// Settings of `memorystreamer serve`: names, parsing, and errors that name the key.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "cli/serve_options.h"

namespace ms::cli {
namespace {

TEST(serve_options, names_for_flags_and_environment) {
    EXPECT_EQ(flag_name("data.dir"), "--data-dir");
    EXPECT_EQ(env_name("auto.create.topics.enable"), "MEMORYSTREAMER_AUTO_CREATE_TOPICS_ENABLE");
}

TEST(serve_options, applies_values) {
    broker::broker_config config;
    logging_settings logs;
    auto applied = apply_options({{"listen", "0.0.0.0:19092"},
                                  {"advertise", "10.0.0.5:9092"},
                                  {"num.partitions", "4"},
                                  {"auto.create.topics.enable", "false"},
                                  {"log.retention.ms", "-1"},
                                  {"log.format", "json"}},
                                 config, logs);
    ASSERT_TRUE(applied.has_value()) << applied.error();
    EXPECT_EQ(config.listen.host, "0.0.0.0");
    EXPECT_EQ(config.listen.port, 19092);
    ASSERT_TRUE(config.advertise.has_value());
    EXPECT_EQ(config.advertise->host, "10.0.0.5");
    EXPECT_EQ(config.num_partitions, 4);
    EXPECT_FALSE(config.auto_create_topics);
    EXPECT_EQ(config.topics.log.retention_ms, -1);
    EXPECT_EQ(logs.format, "json");
}

TEST(serve_options, refuses_bad_values_naming_the_key) {
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"listen", "nowhere"},
           {"num.partitions", "0"},
           {"smp", "many"},
           {"auto.create.topics.enable", "maybe"},
           {"log.format", "xml"},
           {"log.message.timestamp.type", "Now"},
           {"socket.request.max.bytes", "-5"},
         }) {
        broker::broker_config config;
        logging_settings logs;
        auto applied = apply_options({{key, value}}, config, logs);
        ASSERT_FALSE(applied.has_value()) << key;
        EXPECT_NE(applied.error().find(key), std::string::npos) << applied.error();
    }
}

TEST(serve_options, config_file_refuses_unknown_keys) {
    const auto path = std::filesystem::temp_directory_path() / ("ms-config-" + std::to_string(::getpid()));
    std::ofstream(path) << "# a comment\n\nlisten = 127.0.0.1:9999\nnum.partitions=3\n";
    auto values = read_config_file(path.string());
    ASSERT_TRUE(values.has_value()) << values.error();
    EXPECT_EQ(values->at("listen"), "127.0.0.1:9999");
    EXPECT_EQ(values->at("num.partitions"), "3");

    std::ofstream(path) << "listen = 127.0.0.1:9999\nnum.partitons = 3\n";
    auto typo = read_config_file(path.string());
    ASSERT_FALSE(typo.has_value());
    EXPECT_NE(typo.error().find("num.partitons"), std::string::npos);
    EXPECT_NE(typo.error().find(":2:"), std::string::npos) << typo.error();
    std::filesystem::remove(path);
}

} // namespace
} // namespace ms::cli
