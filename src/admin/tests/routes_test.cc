#include <gtest/gtest.h>

#include "admin/api_names.h"
#include "admin/routes.h"

namespace ms::admin {
namespace {

TEST(routes, known_paths_with_get_or_head) {
    EXPECT_EQ(route("GET", "/metrics").target, endpoint::metrics);
    EXPECT_EQ(route("HEAD", "/metrics").target, endpoint::metrics);
    EXPECT_EQ(route("GET", "/v1/health").target, endpoint::health);
    EXPECT_EQ(route("GET", "/v1/ready").target, endpoint::ready);
    EXPECT_EQ(route("GET", "/v1/topics").target, endpoint::topics);
    EXPECT_EQ(route("GET", "/v1/groups").target, endpoint::groups);
    EXPECT_EQ(route("GET", "/v1/config").target, endpoint::config);
}

TEST(routes, unknown_path_is_404_and_other_methods_405) {
    EXPECT_EQ(route("GET", "/").status, 404);
    EXPECT_EQ(route("GET", "/metrics/").status, 404);
    EXPECT_EQ(route("GET", "/v1/topics/x").status, 404);
    EXPECT_EQ(route("POST", "/nope").status, 404);
    EXPECT_EQ(route("POST", "/metrics").status, 405);
    EXPECT_EQ(route("DELETE", "/v1/topics").status, 405);
    EXPECT_EQ(route("get", "/metrics").status, 405); // methods are case-sensitive
    EXPECT_FALSE(route("PUT", "/v1/config").target);
}

TEST(api_names, kafka_names_and_fallbacks) {
    EXPECT_EQ(api_name(0), "Produce");
    EXPECT_EQ(api_name(18), "ApiVersions");
    EXPECT_EQ(api_name(47), "OffsetDelete");
    EXPECT_EQ(api_name(60), "DescribeCluster");
    EXPECT_EQ(api_name(100), "ApiKey100");
    EXPECT_EQ(api_name(-1), "Unknown");
}

} // namespace
} // namespace ms::admin
