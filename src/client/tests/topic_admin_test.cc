// topic_admin against a scripted broker: the API fallbacks (AlterConfigs when
// IncrementalAlterConfigs is not advertised, Metadata when DescribeCluster is not) and the requests
// they send.
#include <gtest/gtest.h>

#include "client/tests/scripted_broker.h"
#include "client/topic_admin.h"

namespace ms::client {
namespace {

using namespace std::chrono_literals;
using test_support::answer;
using test_support::api;
using test_support::scripted_broker;

constexpr int16_t api_versions_key = 18;

// Advertises `keys` at versions 0 to the highest this project speaks of each.
void answer_versions(int fd, const protocol::decoded_request& request, const std::vector<int16_t>& keys) {
    const std::map<int16_t, int16_t> highest = {{3, 8}, {32, 4}, {33, 2}, {44, 1}};
    protocol::api_versions_response versions;
    for (const int16_t k : keys) {
        const auto found = highest.find(k);
        versions.api_keys.push_back(api(k, 0, found == highest.end() ? int16_t{0} : found->second));
    }
    answer(fd, request, protocol::any_response(std::move(versions)));
}

protocol::describe_configs_response::describe_configs_result_data::describe_configs_resource_result_data
config(const std::string& name, const std::string& value, int8_t source) {
    protocol::describe_configs_response::describe_configs_result_data::describe_configs_resource_result_data
      c;
    c.name = name;
    c.value = value;
    c.config_source = source;
    return c;
}

TEST(topic_admin, alter_uses_incremental_alter_configs_when_advertised) {
    std::vector<std::tuple<std::string, int8_t, std::optional<std::string>>> seen;
    scripted_broker broker([&](int fd, const protocol::decoded_request& request) {
        if (request.header.request_api_key.value() == api_versions_key) {
            answer_versions(fd, request, {3, 32, 33, 44});
            return;
        }
        const auto& r = std::get<protocol::incremental_alter_configs_request>(request.body);
        for (const auto& c : r.resources.at(0).configs) {
            seen.emplace_back(c.name, c.config_operation, c.value);
        }
        protocol::incremental_alter_configs_response out;
        out.responses.resize(1);
        out.responses[0].resource_type = 2;
        out.responses[0].resource_name = r.resources.at(0).resource_name;
        answer(fd, request, protocol::any_response(std::move(out)));
    });
    auto conn = kafka_connection::open(broker.address(), 5s);
    ASSERT_TRUE(conn) << conn.error();
    auto o = alter_topic_configs(*conn, "t", {{"retention.ms", "5"}, {"cleanup.policy", std::nullopt}}, 5s);
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->error_code, 0);
    ASSERT_EQ(seen.size(), 2U);
    EXPECT_EQ(seen[0],
              std::make_tuple(std::string("retention.ms"), int8_t{0}, std::optional<std::string>("5")));
    EXPECT_EQ(std::get<1>(seen[1]), 1); // DELETE
}

TEST(topic_admin, alter_falls_back_to_alter_configs_keeping_the_other_dynamic_values) {
    std::map<std::string, std::optional<std::string>> sent;
    scripted_broker broker([&](int fd, const protocol::decoded_request& request) {
        const int16_t key = request.header.request_api_key.value();
        if (key == api_versions_key) {
            answer_versions(fd, request, {3, 32, 33});
            return;
        }
        if (key == 32) {
            protocol::describe_configs_response out;
            out.results.resize(1);
            out.results[0].resource_type = 2;
            out.results[0].resource_name = "t";
            out.results[0].configs.push_back(config("retention.ms", "1000", 1));
            out.results[0].configs.push_back(config("segment.ms", "5", 1));
            out.results[0].configs.push_back(config("cleanup.policy", "delete", 5));
            answer(fd, request, protocol::any_response(std::move(out)));
            return;
        }
        const auto& r = std::get<protocol::alter_configs_request>(request.body);
        for (const auto& c : r.resources.at(0).configs) {
            sent[c.name] = c.value;
        }
        protocol::alter_configs_response out;
        out.responses.resize(1);
        out.responses[0].resource_name = "t";
        out.responses[0].error_code = 40; // INVALID_CONFIG, passed through
        answer(fd, request, protocol::any_response(std::move(out)));
    });
    auto conn = kafka_connection::open(broker.address(), 5s);
    ASSERT_TRUE(conn) << conn.error();
    auto o =
      alter_topic_configs(*conn, "t", {{"cleanup.policy", "compact"}, {"segment.ms", std::nullopt}}, 5s);
    ASSERT_TRUE(o) << o.error();
    EXPECT_EQ(o->error_code, 40);
    EXPECT_NE(o->error.find("INVALID_CONFIG"), std::string::npos);
    EXPECT_EQ(sent, (std::map<std::string, std::optional<std::string>>{{"cleanup.policy", "compact"},
                                                                       {"retention.ms", "1000"}}));
}

TEST(topic_admin, missing_apis_are_named_and_describe_cluster_falls_back_to_metadata) {
    scripted_broker broker([&](int fd, const protocol::decoded_request& request) {
        if (request.header.request_api_key.value() == api_versions_key) {
            answer_versions(fd, request, {3});
            return;
        }
        protocol::metadata_response md;
        md.cluster_id = "abc";
        md.controller_id = model::node_id(7);
        md.brokers.resize(1);
        md.brokers[0].node_id = model::node_id(7);
        md.brokers[0].host = "h";
        md.brokers[0].port = 9092;
        answer(fd, request, protocol::any_response(std::move(md)));
    });
    auto conn = kafka_connection::open(broker.address(), 5s);
    ASSERT_TRUE(conn) << conn.error();
    auto altered = alter_topic_configs(*conn, "t", {{"a", "b"}}, 5s);
    ASSERT_FALSE(altered);
    EXPECT_NE(altered.error().find("does not support IncrementalAlterConfigs or AlterConfigs"),
              std::string::npos);
    auto described = describe_topic_configs(*conn, {"t"}, 5s);
    ASSERT_FALSE(described);
    EXPECT_NE(described.error().find("does not support DescribeConfigs (API key 32)"), std::string::npos);
    auto grown = create_partitions(*conn, {{"t", 3}}, false, 5s);
    ASSERT_FALSE(grown);
    EXPECT_NE(grown.error().find("does not support CreatePartitions"), std::string::npos);
    auto cluster = describe_cluster(*conn, 5s);
    ASSERT_TRUE(cluster) << cluster.error();
    EXPECT_EQ(cluster->source, "Metadata");
    EXPECT_EQ(cluster->cluster_id, "abc");
    EXPECT_EQ(cluster->controller, 7);
    ASSERT_EQ(cluster->brokers.size(), 1U);
    EXPECT_EQ(cluster->brokers[0].address, (endpoint{"h", 9092}));
}

} // namespace
} // namespace ms::client
