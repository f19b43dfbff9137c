#include <gtest/gtest.h>

#include "admin/json.h"
#include "admin/json_pages.h"

namespace ms::admin {
namespace {

TEST(json, escapes_quotes_backslashes_and_controls) {
    EXPECT_EQ(json_string("plain"), "\"plain\"");
    EXPECT_EQ(json_string("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
}

TEST(json, config_page_lists_every_setting) {
    const std::vector<broker::resolved_setting> settings{
      {"admin.listen", "127.0.0.1:0", "127.0.0.1:9644", "flag", "admin \"HTTP\""}};
    EXPECT_EQ(
      render_config(settings),
      "{\"settings\":[{\"key\":\"admin.listen\",\"value\":\"127.0.0.1:0\",\"default\":\"127.0.0.1:9644\","
      "\"source\":\"flag\",\"help\":\"admin \\\"HTTP\\\"\"}]}\n");
}

} // namespace
} // namespace ms::admin
