// The __consumer_offsets record formats: round trips, Kafka's older versions, and hostile bytes.
#include <rapidcheck.h>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "broker/groups/group_records.h"

namespace ms::broker::groups {
namespace {

bytes raw(std::initializer_list<int> values) {
    bytes out;
    for (int v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

bytes text(std::string_view s) {
    bytes out;
    for (char c : s) {
        out.push_back(static_cast<std::byte>(c));
    }
    return out;
}

TEST(group_records, offset_key_round_trip) {
    const record_key key = offset_key{"group-1", "orders", 7};
    auto decoded = decode_key(encode_key(key));
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(*decoded, key);
}

TEST(group_records, group_key_round_trip) {
    const record_key key = group_key{"g"};
    auto decoded = decode_key(encode_key(key));
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(*decoded, key);
}

TEST(group_records, offset_key_matches_kafka_bytes) {
    // version 1 | "g" | "t" | partition 2
    EXPECT_EQ(encode_key(offset_key{"g", "t", 2}), raw({0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 2}));
    // version 2 | "g"
    EXPECT_EQ(encode_key(group_key{"g"}), raw({0, 2, 0, 1, 'g'}));
}

TEST(group_records, offset_value_v3_and_v1) {
    offset_value v{42, 5, "meta", 1000, -1};
    auto back = decode_offset_value(encode_offset_value(v));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, v);
    offset_value with_expiry{42, -1, "", 1000, 5000};
    auto back1 = decode_offset_value(encode_offset_value(with_expiry));
    ASSERT_TRUE(back1) << back1.error();
    EXPECT_EQ(*back1, with_expiry);
    EXPECT_EQ(encode_offset_value(with_expiry)[1], std::byte{1});
}

TEST(group_records, reads_offset_value_v0) {
    // version 0 | offset 9 | metadata "" | timestamp 7
    auto v = decode_offset_value(raw({0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}));
    ASSERT_TRUE(v) << v.error();
    EXPECT_EQ(v->offset, 9);
    EXPECT_EQ(v->commit_timestamp, 7);
    EXPECT_EQ(v->leader_epoch, -1);
}

TEST(group_records, group_value_round_trip) {
    group_value v;
    v.protocol_type = "consumer";
    v.generation = 3;
    v.protocol = "range";
    v.leader = "m1";
    v.state_timestamp = 123;
    v.members.push_back(
      {"m1", "instance-1", "client", "/127.0.0.1", 300000, 45000, text("sub"), text("asg")});
    v.members.push_back({"m2", std::nullopt, "client", "/127.0.0.1", 300000, 45000, {}, {}});
    auto back = decode_group_value(encode_group_value(v));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, v);
}

TEST(group_records, refuses_damage) {
    EXPECT_FALSE(decode_key(raw({})));
    EXPECT_FALSE(decode_key(raw({0, 9, 0, 0})));          // unknown version
    EXPECT_FALSE(decode_key(raw({0, 2, 0, 5, 'g'})));     // string runs past the end
    EXPECT_FALSE(decode_key(raw({0, 2, 0, 1, 'g', 0})));  // a byte left over
    EXPECT_FALSE(decode_offset_value(raw({0, 3, 0, 0}))); // truncated
    EXPECT_FALSE(
      decode_group_value(raw({0, 3, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff,
                              0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff}))); // 2^31-1 members in 0 bytes
}

RC_GTEST_PROP(group_records, any_bytes_decode_or_fail_cleanly, (const std::vector<uint8_t>& input)) {
    bytes in;
    for (uint8_t b : input) {
        in.push_back(static_cast<std::byte>(b));
    }
    (void)decode_key(in);
    (void)decode_offset_value(in);
    (void)decode_group_value(in);
}

RC_GTEST_PROP(group_records, offset_values_round_trip,
              (int64_t offset, int32_t epoch, const std::string& metadata, int64_t ts)) {
    offset_value v{offset, epoch, metadata.substr(0, 30000), ts, -1};
    auto back = decode_offset_value(encode_offset_value(v));
    RC_ASSERT(back.has_value());
    RC_ASSERT(*back == v);
}

} // namespace
} // namespace ms::broker::groups
