// read_checked_batch: records are counted and kept only once the CRC matched, whether the damage
// lies in the first window the CRC checks ahead of the parse or past it; compressed batches too.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/bench/checked_batch.h"
#include "model/record_batch.h"
#include "model/record_batch_builder.h"

namespace ms::cli::bench {
namespace {

using bytes = std::vector<std::byte>;

// `count` records of `size` bytes each, at offsets base .. base + count - 1.
bytes batch_of(int count, size_t size, model::compression codec = model::compression::none,
               int64_t base = 0) {
    model::record_batch_builder builder;
    builder.set_compression(codec);
    for (int i = 0; i < count; ++i) {
        std::string value(size, static_cast<char>('a' + (i % 26)));
        builder.add(std::nullopt, value);
    }
    const auto built = builder.build(model::offset(base)).copy();
    const auto piece = built.piece_bytes(0);
    return {piece.begin(), piece.end()};
}

struct outcome {
    result<void, std::string> read;
    checked_records tally;
    std::vector<model::record_view> kept;
};

outcome read(const bytes& batch, int64_t from = 0, bool check_crc = true) {
    model::record_reader reader;
    outcome o;
    const auto header = model::peek_batch_header(batch);
    EXPECT_TRUE(header.has_value());
    o.read = read_checked_batch(reader, *header, batch, check_crc, from, &o.kept, o.tally);
    return o;
}

TEST(checked_batch, counts_and_keeps_the_records_at_or_after_the_fetch_position) {
    const auto batch = batch_of(10, 100, model::compression::none, 50);
    const auto all = read(batch, 50);
    ASSERT_TRUE(all.read.has_value()) << all.read.error();
    EXPECT_EQ(all.tally.messages, 10U);
    EXPECT_EQ(all.tally.bytes, 1000U);
    EXPECT_EQ(all.kept.size(), 10U);
    const auto tail = read(batch, 57);
    ASSERT_TRUE(tail.read.has_value());
    EXPECT_EQ(tail.tally.messages, 3U);
    ASSERT_EQ(tail.kept.size(), 3U);
    EXPECT_EQ(tail.kept.front().offset_delta, 7);
}

TEST(checked_batch, a_batch_before_the_fetch_position_is_checked_but_not_counted) {
    auto batch = batch_of(4, 10, model::compression::none, 0);
    const auto before = read(batch, 100);
    ASSERT_TRUE(before.read.has_value());
    EXPECT_EQ(before.tally.messages, 0U);
    batch.back() ^= std::byte{1};
    EXPECT_FALSE(read(batch, 100).read.has_value());
}

// A batch several CRC windows long, damaged in the first window, in a later one, and in its last byte.
TEST(checked_batch, damage_anywhere_in_a_large_batch_fails_it_with_nothing_counted) {
    const auto good = batch_of(1000, 1024);
    ASSERT_GT(good.size(), 4 * crc_window_bytes);
    for (const size_t at : {model::batch_header_size + 10, good.size() / 2, good.size() - 1}) {
        auto batch = good;
        batch[at] ^= std::byte{0x20}; // inside a value: the records still parse
        const auto o = read(batch);
        ASSERT_FALSE(o.read.has_value()) << at;
        EXPECT_NE(o.read.error().find("bad CRC"), std::string::npos) << o.read.error();
        EXPECT_EQ(o.tally.messages, 0U) << at;
        EXPECT_TRUE(o.kept.empty()) << at;
    }
    const auto o = read(good);
    ASSERT_TRUE(o.read.has_value());
    EXPECT_EQ(o.tally.messages, 1000U);
}

TEST(checked_batch, without_the_crc_check_damage_in_a_value_goes_unnoticed) {
    auto batch = batch_of(100, 100);
    batch[batch.size() / 2] ^= std::byte{0x20};
    const auto o = read(batch, 0, false);
    ASSERT_TRUE(o.read.has_value());
    EXPECT_EQ(o.tally.messages, 100U);
}

TEST(checked_batch, a_damaged_compressed_batch_is_refused_before_it_is_decompressed) {
    const auto good = batch_of(200, 100, model::compression::lz4);
    const auto o = read(good);
    ASSERT_TRUE(o.read.has_value()) << o.read.error();
    EXPECT_EQ(o.tally.messages, 200U);
    auto batch = good;
    batch[batch.size() - 3] ^= std::byte{0x55};
    const auto bad = read(batch);
    ASSERT_FALSE(bad.read.has_value());
    EXPECT_NE(bad.read.error().find("bad CRC"), std::string::npos) << bad.read.error();
}

TEST(checked_batch, records_that_do_not_parse_behind_a_matching_crc_are_reported_as_such) {
    auto batch = batch_of(3, 10);
    // The first record's length varint says "longer than the batch"; the CRC is made to match.
    batch[model::batch_header_size] = std::byte{0x7e};
    model::update_batch_crc(batch);
    const auto o = read(batch);
    ASSERT_FALSE(o.read.has_value());
    EXPECT_NE(o.read.error().find("do not parse"), std::string::npos) << o.read.error();
    EXPECT_EQ(o.tally.messages, 0U);
    EXPECT_TRUE(o.kept.empty());
}

} // namespace
} // namespace ms::cli::bench
