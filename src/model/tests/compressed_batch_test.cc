// Compressed and control batches end to end: record_batch_builder -> validate_batch ->
// record_reader, for every codec; the reader's errors; validation of compressed records on demand.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/crc32c.h"
#include "base/endian.h"
#include "base/iobuf.h"
#include "base/varint.h"
#include "model/compression.h"
#include "model/control_record.h"
#include "model/record_batch.h"
#include "model/record_batch_builder.h"
#include "model/record_reader.h"

namespace ms::model {

// For readable failures; defined in record_batch_test.cc, part of the same test binary.
void PrintTo(batch_errc e, std::ostream* os); // NOLINT(readability-identifier-naming): GoogleTest name

namespace {

using bytes = std::vector<std::byte>;

constexpr size_t pos_attributes = 21;
constexpr size_t pos_record_count = 57;
constexpr std::array<compression, 5> all_codecs{compression::none, compression::gzip, compression::snappy,
                                                compression::lz4, compression::zstd};

std::string text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string errc_text(batch_errc e) {
    return std::string(describe(e));
}

void fix_crc(bytes& b) {
    store_be<uint32_t>(&b[batch_crc_position],
                       crc32c(0, std::span<const std::byte>(b).subspan(batch_crc_covered_from)));
}

iobuf chunked(std::span<const std::byte> b, size_t chunk) {
    iobuf out;
    for (size_t pos = 0; pos < b.size(); pos += chunk) {
        out.append(iobuf::copy_of(b.subspan(pos, std::min(chunk, b.size() - pos))));
    }
    return out;
}

// A batch around a records section given as is (already compressed, or garbage): consistent
// header (length, count, CRC) so that only the section can be wrong.
bytes batch_around(std::span<const std::byte> section, compression codec, int32_t count) {
    record_batch_header h;
    h.batch_length = static_cast<int32_t>(batch_header_size - batch_length_prefix_size + section.size());
    h.partition_leader_epoch = leader_epoch(0);
    h.magic = batch_magic_v2;
    h.attributes.bits = static_cast<int16_t>(codec);
    h.last_offset_delta = count - 1;
    h.base_timestamp = timestamp(1000);
    h.max_timestamp = timestamp(1000);
    h.record_count = count;
    bytes out(batch_header_size);
    h.encode(std::span<std::byte, batch_header_size>(out.data(), batch_header_size));
    out.insert(out.end(), section.begin(), section.end());
    fix_crc(out);
    return out;
}

// Uncompressed records written by the builder (the section after the header).
bytes plain_records(int32_t count, size_t value_size = 10) {
    record_batch_builder b(timestamp(1000));
    const std::string value(value_size, 'v');
    for (int32_t i = 0; i < count; ++i) {
        b.add("key-" + std::to_string(i), value);
    }
    const bytes batch = b.build().to_bytes();
    return {batch.begin() + batch_header_size, batch.end()};
}

struct header_kv {
    std::string key;
    std::optional<std::string> value;
    bool operator==(const header_kv&) const = default;
};

struct record_data {
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::vector<header_kv> headers;
    int64_t timestamp_delta = 0;
    int32_t offset_delta = 0;
    bool operator==(const record_data&) const = default;
};

std::optional<std::string> to_opt_string(const std::optional<std::span<const std::byte>>& s) {
    if (!s) {
        return std::nullopt;
    }
    return text(*s);
}

// Parses a record's raw header section, independently of the code under test.
std::vector<header_kv> parse_headers(std::span<const std::byte> raw, int32_t count) {
    std::vector<header_kv> out;
    size_t pos = 0;
    auto read_len = [&]() {
        auto v = decode_varint(raw.subspan(pos));
        if (!v) {
            ADD_FAILURE() << "header length does not parse";
            return int32_t{0};
        }
        pos += v->size;
        return v->value;
    };
    for (int32_t i = 0; i < count; ++i) {
        header_kv kv;
        const auto klen = static_cast<size_t>(read_len());
        kv.key = text(raw.subspan(pos, klen));
        pos += klen;
        const int32_t vlen = read_len();
        if (vlen >= 0) {
            kv.value = text(raw.subspan(pos, static_cast<size_t>(vlen)));
            pos += static_cast<size_t>(vlen);
        }
        out.push_back(std::move(kv));
    }
    return out;
}

record_data to_data(const record_view& rec) {
    return {to_opt_string(rec.key), to_opt_string(rec.value), parse_headers(rec.headers, rec.header_count),
            rec.timestamp_delta, rec.offset_delta};
}

// Every record of a batch through a reader; an error ends the list with nullopt.
std::optional<std::vector<record_data>> read_all(record_reader& reader) {
    std::vector<record_data> out;
    while (true) {
        auto rec = reader.next();
        if (!rec) {
            return std::nullopt;
        }
        if (!*rec) {
            return out;
        }
        out.push_back(to_data(**rec));
    }
}

// ---------------------------------------------------------------------------------------------
// builder -> validate -> read, every codec

TEST(compressed_batch, builder_output_validates_and_reads_back_for_every_codec) {
    const std::array<record_header, 2> headers{record_header{"h1", "v1"}, record_header{"h2", std::nullopt}};
    const std::string big(5000, 'x');
    for (const compression codec : all_codecs) {
        SCOPED_TRACE(codec_name(codec));
        record_batch_builder b(timestamp(1'700'000'000'000));
        b.set_compression(codec);
        b.add("key-0", "value-0");
        b.add(std::nullopt, big, timestamp(1'700'000'000'500), headers);
        b.add("key-2", std::nullopt, timestamp(1'699'999'999'000));
        const bytes batch = b.build(offset(100)).to_bytes();

        for (const bool deep : {false, true}) {
            auto v = validate_batch(batch, batch_limits{.check_compressed_records = deep});
            ASSERT_TRUE(v.has_value()) << errc_text(v.error());
            EXPECT_EQ(v->header.attributes.codec(), codec);
            EXPECT_EQ(v->header.record_count, 3);
            EXPECT_EQ(v->header.last_offset_delta, 2);
            EXPECT_EQ(v->header.base_offset, offset(100));
            EXPECT_EQ(v->header.max_timestamp, timestamp(1'700'000'000'500));
            EXPECT_EQ(v->max_record_timestamp, timestamp(1'700'000'000'500));
        }
        if (codec != compression::none) {
            // The records section is the compressed blob: much smaller than the 5000-byte value.
            EXPECT_LT(batch.size(), 1000U);
        }

        record_reader reader;
        auto opened = reader.reset(batch);
        ASSERT_TRUE(opened.has_value()) << errc_text(opened.error());
        EXPECT_EQ(reader.remaining(), 3);
        const std::vector<record_data> expected{
          {"key-0", "value-0", {}, 0, 0},
          {std::nullopt, big, {{"h1", "v1"}, {"h2", std::nullopt}}, 500, 1},
          {"key-2", std::nullopt, {}, -1000, 2},
        };
        EXPECT_EQ(read_all(reader), expected);
        EXPECT_EQ(reader.remaining(), 0);
        // After the last record, next() keeps saying so.
        auto after = reader.next();
        ASSERT_TRUE(after.has_value());
        EXPECT_FALSE(after->has_value());
    }
}

TEST(compressed_batch, uncompressed_records_are_read_in_place) {
    const bytes batch = record_batch_builder().add("k", "v").add("k2", "v2").build().to_bytes();
    record_reader reader;
    ASSERT_TRUE(reader.reset(batch).has_value());
    EXPECT_EQ(reader.records().data(), batch.data() + batch_header_size);
    auto rec = reader.next();
    ASSERT_TRUE(rec.has_value() && rec->has_value());
    const std::byte* key = (*rec)->key->data();
    EXPECT_TRUE(key > batch.data() && key < batch.data() + batch.size());
}

TEST(compressed_batch, compressed_records_are_decompressed_once_into_scratch) {
    const bytes batch = record_batch_builder()
                          .set_compression(compression::lz4)
                          .add("k", "v")
                          .add("k2", "v2")
                          .build()
                          .to_bytes();
    record_reader reader;
    ASSERT_TRUE(reader.reset(batch).has_value());
    const std::span<const std::byte> section = reader.records();
    EXPECT_TRUE(section.data() < batch.data() || section.data() >= batch.data() + batch.size());
    // The same bytes as the records section of the same batch built uncompressed.
    const bytes uncompressed = record_batch_builder().add("k", "v").add("k2", "v2").build().to_bytes();
    EXPECT_EQ(bytes(section.begin(), section.end()),
              bytes(uncompressed.begin() + batch_header_size, uncompressed.end()));
    auto rec = reader.next();
    ASSERT_TRUE(rec.has_value() && rec->has_value());
    const std::byte* key = (*rec)->key->data();
    EXPECT_TRUE(key >= section.data() && key < section.data() + section.size());
    EXPECT_EQ(text(*(*rec)->key), "k");
}

// One reader over many batches of every codec, some fragmented: each reads back right.
TEST(compressed_batch, a_reader_is_reused_across_batches_and_layouts) {
    record_reader reader;
    for (int round = 0; round < 3; ++round) {
        for (const compression codec : all_codecs) {
            SCOPED_TRACE(std::string(codec_name(codec)) + " round " + std::to_string(round));
            record_batch_builder b(timestamp(5));
            b.set_compression(codec);
            const int n = 1 + round * 7;
            for (int i = 0; i < n; ++i) {
                b.add("k" + std::to_string(i), std::string(static_cast<size_t>(i * 100), 'a'));
            }
            const bytes batch = b.build().to_bytes();
            for (const size_t chunk : {batch.size(), size_t{1}, size_t{7}, size_t{61}, size_t{62}}) {
                const iobuf buf = chunked(batch, chunk);
                auto opened = reader.reset(buf);
                ASSERT_TRUE(opened.has_value()) << errc_text(opened.error());
                auto recs = read_all(reader);
                ASSERT_TRUE(recs.has_value());
                ASSERT_EQ(recs->size(), static_cast<size_t>(n));
                for (int i = 0; i < n; ++i) {
                    EXPECT_EQ((*recs)[static_cast<size_t>(i)].key, "k" + std::to_string(i));
                    EXPECT_EQ((*recs)[static_cast<size_t>(i)].value,
                              std::string(static_cast<size_t>(i * 100), 'a'));
                }
            }
        }
    }
}

// A span holding several batches: reset() reads the first, by its batchLength.
TEST(compressed_batch, reader_reads_the_first_batch_of_many) {
    const bytes first =
      record_batch_builder().set_compression(compression::zstd).add("a", "1").build().to_bytes();
    const bytes second = record_batch_builder().add("b", "2").add("c", "3").build().to_bytes();
    bytes both = first;
    both.insert(both.end(), second.begin(), second.end());
    record_reader reader;
    ASSERT_TRUE(reader.reset(both).has_value());
    auto recs = read_all(reader);
    ASSERT_TRUE(recs.has_value());
    ASSERT_EQ(recs->size(), 1U);
    EXPECT_EQ((*recs)[0].key, "a");
    ASSERT_TRUE(reader.reset(std::span<const std::byte>(both).subspan(first.size())).has_value());
    recs = read_all(reader);
    ASSERT_TRUE(recs.has_value());
    EXPECT_EQ(recs->size(), 2U);
}

TEST(compressed_batch, for_each_record_in_batch_visits_every_codec) {
    for (const compression codec : all_codecs) {
        const bytes batch =
          record_batch_builder().set_compression(codec).add("x", "1").add("y", "2").build().to_bytes();
        std::string keys;
        auto r = for_each_record_in_batch(batch, record_read_limits{},
                                          [&](const record_view& rec) { keys += text(*rec.key); });
        ASSERT_TRUE(r.has_value()) << codec_name(codec) << ": " << errc_text(r.error());
        EXPECT_EQ(keys, "xy") << codec_name(codec);
    }
}

TEST(compressed_batch, builder_compression_options_are_used) {
    record_batch_builder b;
    b.add("k", std::string(10'000, 'z'));
    // xerial framing: the blob starts with the magic.
    b.set_compression(compression::snappy, compression_options{.snappy = snappy_framing::xerial});
    const bytes xerial = b.build().to_bytes();
    EXPECT_EQ(xerial[batch_header_size], std::byte{0x82});
    EXPECT_TRUE(validate_batch(xerial, batch_limits{.check_compressed_records = true}).has_value());
    // An invalid level: try_build says so, build() would abort.
    b.set_compression(compression::gzip, compression_options{.level = 42});
    auto bad = b.try_build();
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), compression_errc::invalid_level);
    // Levels change the bytes, not the records.
    b.set_compression(compression::zstd, compression_options{.level = 1});
    auto fast = b.try_build();
    b.set_compression(compression::zstd, compression_options{.level = 19});
    auto small = b.try_build();
    ASSERT_TRUE(fast.has_value() && small.has_value());
    for (const iobuf* built : {&*fast, &*small}) {
        record_reader reader;
        ASSERT_TRUE(reader.reset(*built).has_value());
        auto recs = read_all(reader);
        ASSERT_TRUE(recs.has_value());
        ASSERT_EQ(recs->size(), 1U);
        EXPECT_EQ((*recs)[0].value, std::string(10'000, 'z'));
    }
    // set_compression keeps the other attribute bits, set_attributes replaces the codec too.
    b.set_attributes(batch_attributes{0x18});
    b.set_compression(compression::lz4);
    EXPECT_EQ(b.build().to_bytes()[pos_attributes + 1], std::byte{0x1b});
    b.set_compression(compression::none);
    EXPECT_EQ(b.build().to_bytes()[pos_attributes + 1], std::byte{0x18});
}

// Codec bits 5..7 through set_attributes: written over plain records, refused on reading.
TEST(compressed_batch, unknown_codec_bits_make_a_refused_batch) {
    const bytes batch =
      record_batch_builder().set_attributes(batch_attributes{6}).add("k", "v").build().to_bytes();
    auto v = validate_batch(batch, batch_limits{});
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error(), batch_errc::unsupported_compression);
    record_reader reader;
    auto r = reader.reset(batch);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), batch_errc::unsupported_compression);
}

// ---------------------------------------------------------------------------------------------
// Property: random records, every codec, round trip through validation and the reader.

template<typename T>
rc::Gen<std::optional<T>> optional_of(rc::Gen<T> gen) {
    return rc::gen::oneOf(rc::gen::just(std::optional<T>()),
                          rc::gen::map(std::move(gen), [](T v) { return std::optional<T>(std::move(v)); }));
}

struct gen_record {
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
    std::optional<int64_t> ts;
};

RC_GTEST_PROP(compressed_batch, random_records_round_trip_every_codec, ()) {
    const auto codec = *rc::gen::element(compression::none, compression::gzip, compression::snappy,
                                         compression::lz4, compression::zstd);
    const auto framing = *rc::gen::element(snappy_framing::raw, snappy_framing::xerial);
    const int64_t base =
      *rc::gen::oneOf(rc::gen::just<int64_t>(-1), rc::gen::inRange<int64_t>(0, 4'000'000'000'000));
    const auto count = *rc::gen::inRange<size_t>(1, 40);
    std::vector<gen_record> input;
    for (size_t i = 0; i < count; ++i) {
        gen_record r;
        r.key = *optional_of(rc::gen::string<std::string>());
        r.value = *optional_of(rc::gen::oneOf(
          rc::gen::string<std::string>(),
          rc::gen::map(rc::gen::inRange<size_t>(0, 70'000), [](size_t n) { return std::string(n, 'v'); })));
        r.headers = *rc::gen::resize(
          8, rc::gen::container<std::vector<std::pair<std::string, std::optional<std::string>>>>(
               rc::gen::pair(rc::gen::string<std::string>(), optional_of(rc::gen::string<std::string>()))));
        r.ts = *optional_of(rc::gen::inRange<int64_t>(0, 4'000'000'000'000));
        input.push_back(std::move(r));
    }

    record_batch_builder builder{timestamp(base)};
    builder.set_compression(codec, compression_options{.snappy = framing});
    int64_t max_ts = -1;
    for (const gen_record& r : input) {
        std::vector<record_header> headers;
        for (const auto& [k, v] : r.headers) {
            headers.push_back({k, v ? std::optional<std::string_view>(*v) : std::nullopt});
        }
        builder.add(r.key ? std::optional<std::string_view>(*r.key) : std::nullopt,
                    r.value ? std::optional<std::string_view>(*r.value) : std::nullopt,
                    r.ts ? timestamp(*r.ts) : no_timestamp, headers);
        max_ts = std::max(max_ts, r.ts.value_or(base));
    }
    auto built = builder.try_build(offset(42));
    RC_ASSERT(built.has_value());
    const bytes b = built->to_bytes();
    const size_t limit = std::max(b.size(), size_t{64} * 1024 * 1024);

    for (const bool deep : {false, true}) {
        const batch_limits limits{.max_batch_bytes = limit, .check_compressed_records = deep};
        auto v = validate_batch(b, limits);
        RC_ASSERT(v.has_value());
        RC_ASSERT(v->header.attributes.codec() == codec);
        RC_ASSERT(v->header.record_count == static_cast<int32_t>(count));
        auto vi = validate_batch(chunked(b, *rc::gen::inRange<size_t>(1, b.size() + 1)), limits);
        RC_ASSERT(vi.has_value());
        RC_ASSERT(vi->max_record_timestamp == v->max_record_timestamp);
        if (deep || codec == compression::none) {
            RC_ASSERT(v->max_record_timestamp == timestamp(max_ts));
        }
    }

    std::vector<record_data> expected;
    for (size_t i = 0; i < input.size(); ++i) {
        record_data d;
        d.key = input[i].key;
        d.value = input[i].value;
        for (const auto& [k, v] : input[i].headers) {
            d.headers.push_back({k, v});
        }
        d.timestamp_delta = base >= 0 ? input[i].ts.value_or(base) - base : 0;
        d.offset_delta = static_cast<int32_t>(i);
        expected.push_back(std::move(d));
    }
    record_reader reader;
    RC_ASSERT(reader.reset(b).has_value());
    RC_ASSERT(read_all(reader) == std::optional(expected));
    RC_ASSERT(reader.reset(chunked(b, *rc::gen::inRange<size_t>(1, b.size() + 1))).has_value());
    RC_ASSERT(read_all(reader) == std::optional(expected));
}

// ---------------------------------------------------------------------------------------------
// Control batches

TEST(control_batch, end_txn_marker_round_trip) {
    for (const auto type : {control_record_type::commit, control_record_type::abort}) {
        record_batch_builder b(timestamp(1'700'000'000'123));
        b.set_producer(4242, 7, -1).add_end_txn_marker(type, 31);
        const bytes batch = b.build(offset(500)).to_bytes();
        auto v = validate_batch(batch, batch_limits{});
        ASSERT_TRUE(v.has_value()) << errc_text(v.error());
        const record_batch_header& h = v->header;
        EXPECT_TRUE(h.attributes.control());
        EXPECT_TRUE(h.attributes.transactional());
        EXPECT_EQ(h.attributes.codec(), compression::none);
        EXPECT_EQ(h.attributes.bits, 0x30);
        EXPECT_EQ(h.producer_id, 4242);
        EXPECT_EQ(h.producer_epoch, 7);
        EXPECT_EQ(h.base_sequence, -1);
        EXPECT_EQ(h.record_count, 1);
        EXPECT_EQ(h.base_offset, offset(500));

        record_reader reader;
        ASSERT_TRUE(reader.reset(batch).has_value());
        auto rec = reader.next();
        ASSERT_TRUE(rec.has_value() && rec->has_value());
        const record_view& r = **rec;
        // The exact bytes Kafka writes: key version 0 + type, value version 0 + coordinator epoch.
        ASSERT_TRUE(r.key.has_value() && r.value.has_value());
        const bytes key(r.key->begin(), r.key->end());
        const bytes value(r.value->begin(), r.value->end());
        EXPECT_EQ(key, (bytes{std::byte{0}, std::byte{0}, std::byte{0},
                              std::byte{type == control_record_type::commit ? uint8_t{1} : uint8_t{0}}}));
        EXPECT_EQ(value, (bytes{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                                std::byte{31}}));
        EXPECT_EQ(r.header_count, 0);
        auto marker = parse_end_txn_marker(r);
        ASSERT_TRUE(marker.has_value());
        EXPECT_EQ(*marker, (end_txn_marker{type, 31}));
        auto done = reader.next();
        ASSERT_TRUE(done.has_value());
        EXPECT_FALSE(done->has_value());
    }
}

TEST(control_batch, parse_control_records) {
    const std::array<std::byte, 4> commit_key = encode_control_key(control_record_type::commit);
    const std::array<std::byte, 6> value = encode_end_txn_marker_value(-5);
    record_view rec;
    rec.key = commit_key;
    rec.value = value;
    auto m = parse_end_txn_marker(rec);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(*m, (end_txn_marker{control_record_type::commit, -5}));

    // Newer versions with more bytes are read by their known prefix, as Kafka does.
    const bytes longer_key{std::byte{0}, std::byte{1}, std::byte{0}, std::byte{0}, std::byte{9}};
    rec.key = longer_key;
    m = parse_end_txn_marker(rec);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->type, control_record_type::abort);

    // Other control types parse as a key but are not end-transaction markers.
    const bytes leader_change{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{2}};
    rec.key = leader_change;
    auto type = parse_control_key(rec);
    ASSERT_TRUE(type.has_value());
    EXPECT_EQ(static_cast<int16_t>(*type), 2);
    EXPECT_FALSE(parse_end_txn_marker(rec).has_value());

    // Null, short and negative-version keys and values are corrupt.
    const bytes short_key{std::byte{0}, std::byte{0}, std::byte{0}};
    const bytes negative_version{std::byte{0xff}, std::byte{0xff}, std::byte{0}, std::byte{1}};
    for (const std::optional<std::span<const std::byte>> bad_key :
         {std::optional<std::span<const std::byte>>{}, std::optional<std::span<const std::byte>>{short_key},
          std::optional<std::span<const std::byte>>{negative_version}}) {
        rec.key = bad_key;
        rec.value = value;
        auto k = parse_control_key(rec);
        ASSERT_FALSE(k.has_value());
        EXPECT_EQ(k.error(), batch_errc::corrupt_records);
    }
    rec.key = commit_key;
    const bytes short_value{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1}};
    for (const std::optional<std::span<const std::byte>> bad_value :
         {std::optional<std::span<const std::byte>>{}, std::optional<std::span<const std::byte>>{short_value},
          std::optional<std::span<const std::byte>>{negative_version}}) {
        rec.value = bad_value;
        auto v = parse_end_txn_marker(rec);
        ASSERT_FALSE(v.has_value());
        EXPECT_EQ(v.error(), batch_errc::corrupt_records);
    }
}

// ---------------------------------------------------------------------------------------------
// Reader errors

TEST(record_reader, header_errors) {
    const bytes good = record_batch_builder().add("k", "v").build().to_bytes();
    record_reader reader;
    auto expect = [&](std::span<const std::byte> b, batch_errc want) {
        auto r = reader.reset(b);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), want) << errc_text(r.error());
        // An empty reader after a failed reset.
        EXPECT_TRUE(reader.records().empty());
        auto n = reader.next();
        ASSERT_TRUE(n.has_value());
        EXPECT_FALSE(n->has_value());
        // The iobuf overload agrees.
        auto ri = reader.reset(chunked(b, 5));
        ASSERT_FALSE(ri.has_value());
        EXPECT_EQ(ri.error(), want);
    };
    expect(std::span<const std::byte>(good).first(60), batch_errc::truncated);
    expect(std::span<const std::byte>(good).first(good.size() - 1), batch_errc::truncated);
    bytes short_length = good;
    store_be<int32_t>(&short_length[8], 48);
    expect(short_length, batch_errc::invalid_length);
    for (const int16_t codec : {int16_t{5}, int16_t{7}}) {
        bytes b = good;
        store_be<int16_t>(&b[pos_attributes], codec);
        expect(b, batch_errc::unsupported_compression);
    }
    bytes negative = good;
    store_be<int32_t>(&negative[pos_record_count], -1);
    expect(negative, batch_errc::invalid_record_count);
}

TEST(record_reader, records_errors_after_decompression) {
    for (const compression codec :
         {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
        SCOPED_TRACE(codec_name(codec));
        auto blob = compress(codec, plain_records(3));
        ASSERT_TRUE(blob.has_value());
        record_reader reader;
        // Count larger than the records present: the fourth next() fails, and stays failed.
        ASSERT_TRUE(reader.reset(batch_around(*blob, codec, 4)).has_value());
        for (int i = 0; i < 3; ++i) {
            auto r = reader.next();
            ASSERT_TRUE(r.has_value() && r->has_value());
        }
        auto fourth = reader.next();
        ASSERT_FALSE(fourth.has_value());
        EXPECT_EQ(fourth.error(), batch_errc::corrupt_records);
        auto again = reader.next();
        ASSERT_FALSE(again.has_value());
        EXPECT_EQ(again.error(), batch_errc::corrupt_records);
        // Count smaller: bytes left over after the last record.
        ASSERT_TRUE(reader.reset(batch_around(*blob, codec, 2)).has_value());
        auto two = reader.for_each([](const record_view&) {});
        ASSERT_FALSE(two.has_value());
        EXPECT_EQ(two.error(), batch_errc::corrupt_records);
        // A blob that is not the codec's.
        const bytes garbage = plain_records(3);
        auto r = reader.reset(batch_around(garbage, codec, 3));
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), batch_errc::decompression_failed);
        // A blob cut short.
        r = reader.reset(batch_around(std::span<const std::byte>(*blob).first(blob->size() / 2), codec, 3));
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), batch_errc::decompression_failed);
    }
}

// A batch of 8 MiB of zero-filled values compresses to a few KiB; a reader with a 1 MiB limit
// refuses it. (compression_test.cc refuses 100 MiB bombs of every codec at the codec level.)
TEST(record_reader, decompression_bomb_in_a_batch) {
    constexpr size_t limit = size_t{1} * 1024 * 1024;
    record_batch_builder b;
    const std::string zeros(limit, '\0');
    for (int i = 0; i < 8; ++i) {
        b.add(std::nullopt, zeros);
    }
    for (const compression codec :
         {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
        SCOPED_TRACE(codec_name(codec));
        b.set_compression(codec);
        const bytes batch = b.build().to_bytes();
        ASSERT_LT(batch.size(), limit / 2);

        record_reader reader(record_read_limits{.max_decompressed_bytes = limit});
        auto r = reader.reset(batch);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), batch_errc::decompressed_too_large);
        auto each = for_each_record_in_batch(batch, record_read_limits{.max_decompressed_bytes = limit},
                                             [](const record_view&) {});
        ASSERT_FALSE(each.has_value());
        EXPECT_EQ(each.error(), batch_errc::decompressed_too_large);

        auto v = validate_batch(
          batch, batch_limits{.check_compressed_records = true, .max_decompressed_bytes = limit});
        ASSERT_FALSE(v.has_value());
        EXPECT_EQ(v.error(), batch_errc::decompressed_too_large);
        // Not decompressed by default: the header is fine.
        EXPECT_TRUE(validate_batch(batch, batch_limits{.max_decompressed_bytes = limit}).has_value());
        // With the default limit (64 MiB) it reads.
        record_reader roomy;
        ASSERT_TRUE(roomy.reset(batch).has_value());
        EXPECT_EQ(roomy.remaining(), 8);
    }
}

// ---------------------------------------------------------------------------------------------
// validate_batch over compressed records: lazy by default, the full record checks on request.

TEST(validate_batch, compressed_records_are_checked_on_request) {
    for (const compression codec :
         {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
        SCOPED_TRACE(codec_name(codec));
        const batch_limits lazy{};
        const batch_limits deep{.check_compressed_records = true};
        auto expect = [&](const bytes& b, std::optional<batch_errc> deep_error) {
            EXPECT_TRUE(validate_batch(b, lazy).has_value());
            EXPECT_TRUE(
              validate_batch(b, batch_limits{.check_records = false, .check_compressed_records = true})
                .has_value());
            auto d = validate_batch(b, deep);
            auto di = validate_batch(chunked(b, 3), deep);
            ASSERT_EQ(d.has_value(), !deep_error.has_value());
            ASSERT_EQ(di.has_value(), !deep_error.has_value());
            if (deep_error) {
                EXPECT_EQ(d.error(), *deep_error) << errc_text(d.error());
                EXPECT_EQ(di.error(), *deep_error);
            }
        };
        auto blob = compress(codec, plain_records(3));
        ASSERT_TRUE(blob.has_value());
        expect(batch_around(*blob, codec, 3), std::nullopt);
        // Garbage that is not the codec's, a truncated blob, the wrong record count.
        expect(batch_around(plain_records(3), codec, 3), batch_errc::decompression_failed);
        expect(batch_around(std::span<const std::byte>(*blob).first(blob->size() - 3), codec, 3),
               batch_errc::decompression_failed);
        expect(batch_around(*blob, codec, 2), batch_errc::corrupt_records);
        // Offset deltas must be 0, 1, 2 inside a compressed batch too: records of two batches.
        bytes twice = plain_records(1);
        const bytes one_more = plain_records(1);
        twice.insert(twice.end(), one_more.begin(), one_more.end()); // offset deltas 0, 0
        auto twice_blob = compress(codec, twice);
        ASSERT_TRUE(twice_blob.has_value());
        expect(batch_around(*twice_blob, codec, 2), batch_errc::corrupt_records);
    }
}

} // namespace
} // namespace ms::model
