// The client library's logic without a broker: murmur2 partitioning, the consumer protocol and the
// range assignor, record encoding and decoding.
#include <gtest/gtest.h>

#include "client/consumer_protocol.h"
#include "client/producer.h"
#include "client/records.h"

namespace ms::client {
namespace {

TEST(murmur2, matches_kafka_utils) {
    // Values from Kafka's UtilsTest.testMurmur2.
    EXPECT_EQ(murmur2("21"), -973932308);
    EXPECT_EQ(murmur2("foobar"), -790332482);
    EXPECT_EQ(murmur2("a-little-bit-long-string"), -985981536);
    EXPECT_EQ(murmur2("a-little-bit-longer-string"), -1486304829);
    EXPECT_EQ(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
    EXPECT_EQ(murmur2("abc"), 479470107);
    for (int n = 1; n < 10; ++n) {
        const int32_t p = partition_for_key("some key", n);
        EXPECT_GE(p, 0);
        EXPECT_LT(p, n);
    }
}

TEST(consumer_protocol, subscription_and_assignment_round_trip) {
    auto sub = decode_subscription(encode_subscription({"a", "bb"}));
    ASSERT_TRUE(sub);
    EXPECT_EQ(*sub, (std::vector<std::string>{"a", "bb"}));
    topic_partitions a{{"a", {0, 2}}, {"bb", {}}};
    auto back = decode_assignment(encode_assignment(a));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, a);
    EXPECT_TRUE(decode_assignment({})->empty());
}

TEST(consumer_protocol, refuses_bytes_that_lie) {
    auto bytes = encode_assignment({{"topic", {1, 2, 3}}});
    for (size_t cut = 1; cut + 4 < bytes.size(); ++cut) { // user_data (last 4 bytes) is not read
        EXPECT_FALSE(decode_assignment(std::span(bytes).first(cut))) << cut;
    }
    std::vector<std::byte> huge_count = {std::byte{0},    std::byte{0},    std::byte{0x7f},
                                         std::byte{0xff}, std::byte{0xff}, std::byte{0xff}};
    EXPECT_FALSE(decode_subscription(huge_count));
    EXPECT_FALSE(decode_assignment(huge_count));
}

TEST(range_assign, splits_like_kafka) {
    auto out = range_assign({{"m1", {"t"}}, {"m2", {"t"}}, {"m3", {"t", "u"}}}, {{"t", 7}, {"u", 2}});
    EXPECT_EQ(out["m1"]["t"], (std::vector<int32_t>{0, 1, 2}));
    EXPECT_EQ(out["m2"]["t"], (std::vector<int32_t>{3, 4}));
    EXPECT_EQ(out["m3"]["t"], (std::vector<int32_t>{5, 6}));
    EXPECT_EQ(out["m3"]["u"], (std::vector<int32_t>{0, 1}));
    EXPECT_FALSE(out["m1"].contains("u"));
    auto more_members = range_assign({{"a", {"t"}}, {"b", {"t"}}}, {{"t", 1}});
    EXPECT_EQ(more_members["a"]["t"], (std::vector<int32_t>{0}));
    EXPECT_TRUE(more_members["b"]["t"].empty());
}

TEST(records, encode_then_decode_keeps_keys_values_headers_and_offsets) {
    for (const auto codec : {model::compression::none, model::compression::gzip, model::compression::snappy,
                             model::compression::lz4, model::compression::zstd}) {
        std::vector<client_record> in(3);
        in[0].key = "k0";
        in[0].value = "v0";
        in[0].timestamp_ms = 1000;
        in[1].value = std::nullopt;
        in[1].timestamp_ms = 1005;
        in[1].headers = {{"h", "x"}, {"n", std::nullopt}};
        in[2].key = "";
        in[2].value = std::string(1000, 'z');
        in[2].timestamp_ms = 1010;
        auto batch = encode_records(in, codec);
        ASSERT_TRUE(batch);
        std::vector<std::byte> bytes(batch->size());
        batch->copy_out(0, bytes);
        // The broker assigns offsets: this batch starts at 100 (baseOffset is outside the CRC).
        bytes[7] = std::byte{100};
        auto decoded = decode_records(bytes, 4, 101);
        ASSERT_TRUE(decoded) << decoded.error();
        EXPECT_EQ(decoded->next_offset, 103);
        ASSERT_EQ(decoded->records.size(), 2U);
        const auto& r1 = decoded->records[0];
        EXPECT_EQ(r1.partition, 4);
        EXPECT_EQ(r1.offset, 101);
        EXPECT_EQ(r1.timestamp_ms, 1005);
        EXPECT_FALSE(r1.key.has_value());
        EXPECT_FALSE(r1.value.has_value());
        EXPECT_EQ(r1.headers, in[1].headers);
        EXPECT_EQ(decoded->records[1].key, "");
        EXPECT_EQ(decoded->records[1].value, in[2].value);

        // A partial batch is left for the next fetch; a flipped byte fails the CRC.
        auto partial = decode_records(std::span(bytes).first(bytes.size() - 1), 4, 100);
        ASSERT_TRUE(partial);
        EXPECT_TRUE(partial->records.empty());
        EXPECT_EQ(partial->next_offset, 100);
        bytes[bytes.size() - 1] ^= std::byte{1};
        EXPECT_FALSE(decode_records(bytes, 4, 100));
    }
}

} // namespace
} // namespace ms::client
