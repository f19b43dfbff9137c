// The batches log compaction writes: fewer records than the offset range they cover
// (batch_limits::allow_sparse_offsets), rebuilt with encode_record / encode_batch.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "model/record_batch.h"
#include "model/record_batch_builder.h"
#include "model/record_reader.h"

namespace ms::model {
namespace {

struct plain_record {
    std::optional<std::string> key;
    std::optional<std::string> value;
    int32_t offset_delta = 0;
    int64_t timestamp_delta = 0;
};

// A batch whose records carry the given offset deltas, with the given lastOffsetDelta and codec.
std::vector<std::byte> sparse_batch(const std::vector<plain_record>& records, int32_t last_offset_delta,
                                    compression codec = compression::none, int32_t record_count = -1) {
    std::vector<std::byte> plain;
    for (const plain_record& r : records) {
        record_view v;
        if (r.key) {
            v.key = std::as_bytes(std::span(*r.key));
        }
        if (r.value) {
            v.value = std::as_bytes(std::span(*r.value));
        }
        v.timestamp_delta = r.timestamp_delta;
        encode_record(plain, v, r.offset_delta);
    }
    record_batch_header h;
    h.base_offset = offset(100);
    h.partition_leader_epoch = leader_epoch(3);
    h.attributes.bits = static_cast<int16_t>(codec);
    h.last_offset_delta = last_offset_delta;
    h.base_timestamp = timestamp(1000);
    h.max_timestamp = timestamp(1010);
    h.record_count = record_count >= 0 ? record_count : static_cast<int32_t>(records.size());
    auto built = encode_batch(h, plain);
    EXPECT_TRUE(built.has_value());
    return built ? *built : std::vector<std::byte>{};
}

batch_limits sparse_limits(bool compressed_too = true) {
    return batch_limits{
      .check_records = true, .check_compressed_records = compressed_too, .allow_sparse_offsets = true};
}

TEST(sparse_batches, accepted_only_when_allowed) {
    for (compression codec :
         {compression::none, compression::zstd, compression::lz4, compression::gzip, compression::snappy}) {
        SCOPED_TRACE(std::string(codec_name(codec)));
        // Offsets 100..109, records kept at 102, 105 and 109.
        const auto b =
          sparse_batch({{"a", "1", 2, 0}, {"b", std::nullopt, 5, 3}, {"c", "3", 9, 9}}, 9, codec);
        auto ok = validate_batch(std::span<const std::byte>(b), sparse_limits());
        ASSERT_TRUE(ok.has_value()) << describe(ok.error());
        EXPECT_EQ(ok->header.record_count, 3);
        EXPECT_EQ(ok->header.last_offset(), offset(109));
        // The produce path stays strict.
        auto strict = validate_batch(std::span<const std::byte>(b), batch_limits{});
        ASSERT_FALSE(strict.has_value());
        EXPECT_EQ(strict.error(), batch_errc::invalid_record_count);
        // Recovery (headers only) accepts it too.
        auto headers_only = validate_batch(
          std::span<const std::byte>(b), batch_limits{.check_records = false, .allow_sparse_offsets = true});
        EXPECT_TRUE(headers_only.has_value());
    }
}

TEST(sparse_batches, a_dense_batch_is_also_valid_sparse) {
    const auto b = sparse_batch({{"a", "1", 0, 0}, {"b", "2", 1, 0}}, 1);
    EXPECT_TRUE(validate_batch(std::span<const std::byte>(b), sparse_limits()).has_value());
    EXPECT_TRUE(validate_batch(std::span<const std::byte>(b), batch_limits{}).has_value());
}

TEST(sparse_batches, refused_cases) {
    struct bad_case {
        const char* name;
        std::vector<plain_record> records;
        int32_t last_offset_delta;
        int32_t record_count;
        batch_errc expected;
    };
    const std::vector<bad_case> cases{
      {"more records than offsets",
       {{"a", "1", 0}, {"b", "2", 1}, {"c", "3", 2}},
       1,
       -1,
       batch_errc::invalid_record_count},
      {"zero records declared", {{"a", "1", 0}}, 4, 0, batch_errc::invalid_record_count},
      {"deltas not increasing", {{"a", "1", 3}, {"b", "2", 3}}, 5, -1, batch_errc::corrupt_records},
      {"deltas decreasing", {{"a", "1", 4}, {"b", "2", 2}}, 5, -1, batch_errc::corrupt_records},
      {"delta past lastOffsetDelta", {{"a", "1", 1}, {"b", "2", 6}}, 5, -1, batch_errc::corrupt_records},
      {"negative delta", {{"a", "1", -1}, {"b", "2", 2}}, 5, -1, batch_errc::corrupt_records},
      {"count below the records present", {{"a", "1", 1}, {"b", "2", 2}}, 5, 1, batch_errc::corrupt_records},
    };
    for (const bad_case& c : cases) {
        SCOPED_TRACE(c.name);
        for (compression codec : {compression::none, compression::zstd}) {
            const auto b = sparse_batch(c.records, c.last_offset_delta, codec, c.record_count);
            auto r = validate_batch(std::span<const std::byte>(b), sparse_limits());
            ASSERT_FALSE(r.has_value());
            EXPECT_EQ(r.error(), c.expected);
        }
    }
}

TEST(sparse_batches, rewriting_keeps_fields_and_crc) {
    // A produced batch, rewritten without its middle record: same attributes, producer fields,
    // base timestamp; valid CRC; the kept records keep their content.
    record_batch_builder builder{timestamp(5000)};
    builder.set_compression(compression::lz4).set_producer(42, 7, 11);
    builder.add(std::string_view("k1"), std::string_view("v1"), timestamp(5001));
    builder.add(std::string_view("k2"), std::nullopt, timestamp(5002));
    builder.add(std::string_view("k3"), std::string_view("v3"), timestamp(5003));
    const iobuf original = builder.build(offset(10));
    std::vector<std::byte> raw(original.size());
    original.copy_out(0, raw);

    record_reader reader;
    ASSERT_TRUE(reader.reset(std::span<const std::byte>(raw)).has_value());
    std::vector<std::byte> plain;
    int32_t kept = 0;
    auto walked = reader.for_each([&](const record_view& r) {
        if (r.offset_delta != 1) {
            encode_record(plain, r, r.offset_delta);
            ++kept;
        }
    });
    ASSERT_TRUE(walked.has_value());
    record_batch_header h = reader.header();
    h.record_count = kept;
    auto rebuilt = encode_batch(h, plain);
    ASSERT_TRUE(rebuilt.has_value());
    auto valid = validate_batch(std::span<const std::byte>(*rebuilt), sparse_limits());
    ASSERT_TRUE(valid.has_value()) << describe(valid.error());
    EXPECT_EQ(valid->header.producer_id, 42);
    EXPECT_EQ(valid->header.producer_epoch, 7);
    EXPECT_EQ(valid->header.base_sequence, 11);
    EXPECT_EQ(valid->header.attributes.codec(), compression::lz4);
    EXPECT_EQ(valid->header.base_timestamp, timestamp(5000));
    EXPECT_EQ(valid->header.base_offset, offset(10));

    std::vector<std::string> seen;
    record_reader again;
    ASSERT_TRUE(again.reset(std::span<const std::byte>(*rebuilt)).has_value());
    ASSERT_TRUE(again
                  .for_each([&](const record_view& r) {
                      seen.push_back(
                        std::to_string(r.offset_delta) + ":" +
                        std::string(reinterpret_cast<const char*>(r.key->data()), r.key->size()) + "@" +
                        std::to_string(r.timestamp_delta));
                  })
                  .has_value());
    EXPECT_EQ(seen, (std::vector<std::string>{"0:k1@1", "2:k3@3"}));

    // Editing a header field and updating the CRC keeps the batch valid.
    auto edited = *rebuilt;
    record_batch_header eh =
      record_batch_header::decode(std::span<const std::byte>(edited).first<batch_header_size>());
    eh.last_offset_delta = 6;
    eh.encode(std::span<std::byte>(edited).first<batch_header_size>());
    EXPECT_FALSE(validate_batch(std::span<const std::byte>(edited), sparse_limits()).has_value());
    update_batch_crc(edited);
    EXPECT_TRUE(validate_batch(std::span<const std::byte>(edited), sparse_limits()).has_value());
}

} // namespace
} // namespace ms::model
