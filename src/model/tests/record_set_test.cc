// for_each_whole_batch: the whole batches of a record set, a partial tail, a damaged header; and
// whatever the bytes, no span handed out lies outside them.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/endian.h"
#include "model/record_batch_builder.h"
#include "model/record_set.h"

namespace ms::model {
namespace {

// `count` batches of `records` records each, back to back, with consecutive offsets.
std::vector<std::byte> record_set(int count, int records) {
    std::vector<std::byte> out;
    int64_t next = 0;
    for (int b = 0; b < count; ++b) {
        record_batch_builder builder;
        for (int r = 0; r < records; ++r) {
            builder.add(std::nullopt, "value-" + std::to_string(next + r));
        }
        const auto bytes = builder.build(offset(next)).copy();
        const auto piece = bytes.piece_bytes(0);
        out.insert(out.end(), piece.begin(), piece.end());
        next += records;
    }
    return out;
}

struct seen {
    std::vector<int64_t> base_offsets;
    size_t bytes = 0;
};

record_set_end walk(std::span<const std::byte> bytes, seen& s, int stop_after = -1) {
    return for_each_whole_batch(bytes,
                                [&](const record_batch_header& header, std::span<const std::byte> batch) {
                                    s.base_offsets.push_back(header.base_offset.value());
                                    s.bytes += batch.size();
                                    return stop_after < 0 || std::cmp_less(s.base_offsets.size(), stop_after);
                                });
}

TEST(record_set, visits_every_whole_batch_in_order) {
    const auto bytes = record_set(3, 4);
    seen s;
    EXPECT_EQ(walk(bytes, s), record_set_end::complete);
    EXPECT_EQ(s.base_offsets, (std::vector<int64_t>{0, 4, 8}));
    EXPECT_EQ(s.bytes, bytes.size());
}

TEST(record_set, empty_bytes_are_a_complete_empty_set) {
    seen s;
    EXPECT_EQ(walk({}, s), record_set_end::complete);
    EXPECT_TRUE(s.base_offsets.empty());
}

TEST(record_set, a_cut_at_any_byte_leaves_the_cut_batch_as_a_partial_tail) {
    const auto bytes = record_set(2, 3);
    const size_t first = peek_batch_header(bytes)->size_bytes();
    for (size_t cut = 1; cut < bytes.size(); ++cut) {
        seen s;
        const auto end = walk(std::span(bytes).first(cut), s);
        EXPECT_EQ(s.bytes, cut < first ? 0U : first) << cut;
        if (cut == first) {
            EXPECT_EQ(end, record_set_end::complete) << cut;
            continue;
        }
        EXPECT_EQ(end, record_set_end::partial_tail) << cut;
        EXPECT_EQ(s.base_offsets.size(), cut < first ? 0U : 1U) << cut;
    }
}

TEST(record_set, the_visitor_stops_the_walk) {
    const auto bytes = record_set(3, 2);
    seen s;
    EXPECT_EQ(walk(bytes, s, 2), record_set_end::stopped);
    EXPECT_EQ(s.base_offsets, (std::vector<int64_t>{0, 2}));
}

TEST(record_set, a_batch_length_below_a_header_is_damaged_and_ends_the_walk) {
    for (const int32_t length : {-1, 0, 48}) {
        auto bytes = record_set(2, 2);
        const size_t first = peek_batch_header(bytes)->size_bytes();
        store_be<int32_t>(bytes.data() + first + 8, length); // the second batch's batchLength
        seen s;
        EXPECT_EQ(walk(bytes, s), record_set_end::damaged) << length;
        EXPECT_EQ(s.base_offsets, std::vector<int64_t>{0}) << length;
        EXPECT_EQ(s.bytes, first) << length;
    }
}

RC_GTEST_PROP(record_set, every_span_handed_out_lies_inside_the_bytes, (const std::vector<uint8_t>& raw)) {
    // Real batches, one of them maybe given any batchLength, then arbitrary bytes.
    const int batches = *rc::gen::inRange(0, 4);
    auto bytes = record_set(batches, 2);
    if (batches > 0 && *rc::gen::arbitrary<bool>()) {
        const auto size = static_cast<int32_t>(bytes.size());
        const auto length = *rc::gen::oneOf(rc::gen::inRange(-100, 2 * size), rc::gen::arbitrary<int32_t>());
        const auto pick = static_cast<size_t>(*rc::gen::inRange(0, batches));
        size_t start = 0;
        for (size_t b = 0; b < pick; ++b) {
            start += peek_batch_header(std::span<const std::byte>(bytes).subspan(start))->size_bytes();
        }
        store_be<int32_t>(bytes.data() + start + 8, length);
    }
    for (const uint8_t b : raw) {
        bytes.push_back(static_cast<std::byte>(b));
    }
    const std::span<const std::byte> all(bytes);
    size_t expected_start = 0;
    const auto end =
      for_each_whole_batch(all, [&](const record_batch_header& header, std::span<const std::byte> batch) {
          RC_ASSERT(batch.data() == all.data() + expected_start);
          RC_ASSERT(batch.size() == header.size_bytes());
          RC_ASSERT(batch.size() >= batch_header_size);
          RC_ASSERT(expected_start + batch.size() <= all.size());
          expected_start += batch.size();
          return true;
      });
    RC_ASSERT(expected_start <= all.size());
    RC_ASSERT((end == record_set_end::complete) == (expected_start == all.size()));
}

} // namespace
} // namespace ms::model
