#include <gtest/gtest.h>

#include "client/endpoint.h"

namespace ms::client {
namespace {

TEST(endpoint, parses_lists) {
    auto parsed = parse_endpoints("127.0.0.1:9092,broker-2.example.com:19092,[::1]:9093");
    ASSERT_TRUE(parsed) << parsed.error();
    ASSERT_EQ(parsed->size(), 3U);
    EXPECT_EQ((*parsed)[0], (endpoint{"127.0.0.1", 9092}));
    EXPECT_EQ((*parsed)[1], (endpoint{"broker-2.example.com", 19092}));
    EXPECT_EQ((*parsed)[2], (endpoint{"::1", 9093}));
    EXPECT_EQ((*parsed)[2].to_string(), "[::1]:9093");
}

TEST(endpoint, refuses_bad_items_naming_them) {
    for (const char* bad :
         {"", ",", "localhost", "localhost:", ":9092", "host:0", "host:65536", "host:90x2", "ok:1,bad"}) {
        auto parsed = parse_endpoints(bad);
        EXPECT_FALSE(parsed) << bad;
    }
    auto parsed = parse_endpoints("good:1,bad:port");
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().find("bad:port"), std::string::npos) << parsed.error();
}

} // namespace
} // namespace ms::client
