#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
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
#include "model/record_batch.h"
#include "model/record_batch_builder.h"

namespace ms::model {

// For readable failures.
void PrintTo(batch_errc e, std::ostream* os); // NOLINT(readability-identifier-naming): GoogleTest name
void PrintTo(batch_errc e, std::ostream* os) {
    *os << describe(e);
}

namespace {

using bytes = std::vector<std::byte>;
using batch_result = result<validated_batch, batch_errc>;

// Positions of header fields (see the diagram in record_batch.h).
constexpr size_t pos_base_offset = 0;
constexpr size_t pos_batch_length = 8;
constexpr size_t pos_magic = 16;
constexpr size_t pos_attributes = 21;
constexpr size_t pos_last_offset_delta = 23;
constexpr size_t pos_base_timestamp = 27;
constexpr size_t pos_max_timestamp = 35;
constexpr size_t pos_record_count = 57;

bytes to_vec(const iobuf& buf) {
    return buf.to_bytes();
}

bytes from_u8(const std::vector<uint8_t>& in) {
    bytes out;
    out.reserve(in.size());
    for (const uint8_t v : in) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

std::string_view text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Recomputes the CRC after an edit of the covered range, so that the check after it is reached.
void fix_crc(bytes& b) {
    store_be<uint32_t>(&b[batch_crc_position],
                       crc32c(0, std::span<const std::byte>(b).subspan(batch_crc_covered_from)));
}

// `b` as an iobuf whose pieces are `chunk` bytes each, every piece in its own fragment.
iobuf chunked(std::span<const std::byte> b, size_t chunk) {
    iobuf out;
    for (size_t pos = 0; pos < b.size(); pos += chunk) {
        out.append(iobuf::copy_of(b.subspan(pos, std::min(chunk, b.size() - pos))));
    }
    return out;
}

// `b` as an iobuf of two pieces split at `at`.
iobuf split_at(std::span<const std::byte> b, size_t at) {
    iobuf out = iobuf::copy_of(b.first(at));
    out.append(iobuf::copy_of(b.subspan(at)));
    return out;
}

std::array<std::byte, batch_header_size> encoded(const record_batch_header& h) {
    std::array<std::byte, batch_header_size> out{};
    h.encode(out);
    return out;
}

// Both results agree: same error, or both valid with identical header and max timestamp.
bool same_outcome(const batch_result& a, const batch_result& b) {
    if (a.has_value() != b.has_value()) {
        return false;
    }
    if (!a) {
        return a.error() == b.error();
    }
    return encoded(a->header) == encoded(b->header) && a->max_record_timestamp == b->max_record_timestamp;
}

// Validates through the span overload and checks that the iobuf overload agrees on several
// layouts of the same bytes: one piece, tiny pieces, and pieces cut around the header and CRC.
batch_result validate_all_ways(std::span<const std::byte> b, const batch_limits& limits = {}) {
    batch_result expected = validate_batch(b, limits);
    std::vector<iobuf> layouts;
    layouts.push_back(iobuf::copy_of(b));
    for (const size_t chunk : {1U, 5U, 20U, 21U, 22U, 60U, 61U, 62U}) {
        layouts.push_back(chunked(b, chunk));
    }
    for (const size_t at : {1U, 17U, 21U, 40U, 61U, 70U}) {
        if (at < b.size()) {
            layouts.push_back(split_at(b, at));
        }
    }
    for (const iobuf& layout : layouts) {
        EXPECT_EQ(layout.size(), b.size());
        const batch_result got = validate_batch(layout, limits);
        EXPECT_TRUE(same_outcome(expected, got))
          << "span: " << (expected ? "ok" : describe(expected.error())) << " iobuf(" << layout.piece_count()
          << " pieces): " << (got ? "ok" : describe(got.error()));
    }
    return expected;
}

void expect_error(std::span<const std::byte> b, batch_errc want, const batch_limits& limits = {}) {
    const batch_result r = validate_all_ways(b, limits);
    ASSERT_FALSE(r.has_value()) << "expected " << describe(want) << ", batch was accepted";
    EXPECT_EQ(r.error(), want);
}

// ---------------------------------------------------------------------------------------------
// Hand-written records, able to lie.

class record_writer {
public:
    record_writer& i8(int8_t v) {
        _out.push_back(static_cast<std::byte>(v));
        return *this;
    }
    record_writer& varint(int32_t v) {
        std::array<std::byte, max_varint_size> tmp{};
        _out.insert(_out.end(), tmp.begin(),
                    tmp.begin() + static_cast<std::ptrdiff_t>(encode_varint(v, tmp.data())));
        return *this;
    }
    record_writer& varlong(int64_t v) {
        std::array<std::byte, max_varlong_size> tmp{};
        _out.insert(_out.end(), tmp.begin(),
                    tmp.begin() + static_cast<std::ptrdiff_t>(encode_varlong(v, tmp.data())));
        return *this;
    }
    record_writer& raw(std::string_view s) {
        const auto* p = reinterpret_cast<const std::byte*>(s.data());
        _out.insert(_out.end(), p, p + s.size());
        return *this;
    }
    record_writer& raw(std::initializer_list<unsigned> values) {
        for (const unsigned v : values) {
            _out.push_back(static_cast<std::byte>(v));
        }
        return *this;
    }
    record_writer& str(std::optional<std::string_view> s) {
        if (!s) {
            return varint(-1);
        }
        varint(static_cast<int32_t>(s->size()));
        return raw(*s);
    }
    [[nodiscard]] const bytes& get() const { return _out; }

private:
    bytes _out;
};

// A well-formed record body (without its length prefix).
bytes record_body(int32_t offset_delta, int64_t ts_delta = 0, std::optional<std::string_view> key = "k",
                  std::optional<std::string_view> value = "v") {
    record_writer w;
    w.i8(0).varlong(ts_delta).varint(offset_delta).str(key).str(value).varint(0);
    return w.get();
}

// `body` with its length prefix; `length` overrides the true length (to lie).
bytes framed(const bytes& body, std::optional<int32_t> length = std::nullopt) {
    record_writer w;
    w.varint(length.value_or(static_cast<int32_t>(body.size())));
    bytes out = w.get();
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

bytes concat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

// A batch around hand-written records: consistent header (count, lastOffsetDelta, length, CRC).
bytes make_batch(const bytes& records, int32_t count, int64_t base_ts = 1000, int64_t max_ts = 1000) {
    record_batch_header h;
    h.base_offset = offset(0);
    h.batch_length = static_cast<int32_t>(batch_header_size - batch_length_prefix_size + records.size());
    h.partition_leader_epoch = leader_epoch(0);
    h.magic = batch_magic_v2;
    h.last_offset_delta = count - 1;
    h.base_timestamp = timestamp(base_ts);
    h.max_timestamp = timestamp(max_ts);
    h.record_count = count;
    bytes out(batch_header_size);
    h.encode(std::span<std::byte, batch_header_size>(out.data(), batch_header_size));
    out.insert(out.end(), records.begin(), records.end());
    fix_crc(out);
    return out;
}

// A typical valid batch from the builder: three records, one null key, one null value, headers.
bytes sample_batch() {
    const std::array<record_header, 2> headers{record_header{"h1", "v1"}, record_header{"h2", std::nullopt}};
    record_batch_builder b(timestamp(1'700'000'000'000));
    b.add("key-0", "value-0");
    b.add(std::nullopt, "value-1", timestamp(1'700'000'000'500), headers);
    b.add("key-2", std::nullopt, timestamp(1'699'999'999'000));
    return to_vec(b.build(offset(100)));
}

// ---------------------------------------------------------------------------------------------
// Records as read back, for comparisons.

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
    return std::string(text(*s));
}

// Parses the raw header section of a record, independently of the code under test.
std::vector<header_kv> parse_headers(std::span<const std::byte> raw, int32_t count) {
    std::vector<header_kv> out;
    size_t pos = 0;
    auto read_len = [&]() {
        auto v = decode_varint(raw.subspan(pos));
        EXPECT_TRUE(v.has_value());
        if (!v) {
            return int32_t{0};
        }
        pos += v->size;
        return v->value;
    };
    for (int32_t i = 0; i < count; ++i) {
        header_kv kv;
        const int32_t klen = read_len();
        EXPECT_GE(klen, 0);
        kv.key = std::string(text(raw.subspan(pos, static_cast<size_t>(klen))));
        pos += static_cast<size_t>(klen);
        const int32_t vlen = read_len();
        if (vlen >= 0) {
            kv.value = std::string(text(raw.subspan(pos, static_cast<size_t>(vlen))));
            pos += static_cast<size_t>(vlen);
        }
        out.push_back(std::move(kv));
    }
    EXPECT_EQ(pos, raw.size());
    return out;
}

std::vector<record_data> read_records(std::span<const std::byte> batch) {
    const record_batch_header h = record_batch_header::decode(batch.first<batch_header_size>());
    std::vector<record_data> out;
    auto r = for_each_record(batch.subspan(batch_header_size), h.record_count, [&](const record_view& rec) {
        record_data d;
        d.key = to_opt_string(rec.key);
        d.value = to_opt_string(rec.value);
        d.headers = parse_headers(rec.headers, rec.header_count);
        d.timestamp_delta = rec.timestamp_delta;
        d.offset_delta = rec.offset_delta;
        EXPECT_EQ(rec.attributes, 0);
        out.push_back(std::move(d));
    });
    EXPECT_TRUE(r.has_value());
    return out;
}

// ---------------------------------------------------------------------------------------------
// header decode / encode

TEST(record_batch_header, decode_known_bytes) {
    bytes raw(batch_header_size);
    store_be<int64_t>(&raw[0], 0x0102030405060708);
    store_be<int32_t>(&raw[8], 0x11223344);
    store_be<int32_t>(&raw[12], -7);
    store_be<int8_t>(&raw[16], 2);
    store_be<uint32_t>(&raw[17], 0xDEADBEEF);
    store_be<int16_t>(&raw[21], 0x001B); // lz4, log append time, transactional
    store_be<int32_t>(&raw[23], 41);
    store_be<int64_t>(&raw[27], 1'700'000'000'000);
    store_be<int64_t>(&raw[35], 1'700'000'000'999);
    store_be<int64_t>(&raw[43], 0x7EDCBA9876543210);
    store_be<int16_t>(&raw[51], 3);
    store_be<int32_t>(&raw[53], -123456);
    store_be<int32_t>(&raw[57], 42);
    // Big-endian on the wire, whatever the host.
    EXPECT_EQ(raw[0], std::byte{0x01});
    EXPECT_EQ(raw[7], std::byte{0x08});
    EXPECT_EQ(raw[17], std::byte{0xDE});

    const auto h = record_batch_header::decode(
      std::span<const std::byte, batch_header_size>(raw.data(), batch_header_size));
    EXPECT_EQ(h.base_offset, offset(0x0102030405060708));
    EXPECT_EQ(h.batch_length, 0x11223344);
    EXPECT_EQ(h.partition_leader_epoch, leader_epoch(-7));
    EXPECT_EQ(h.magic, 2);
    EXPECT_EQ(h.crc, 0xDEADBEEFU);
    EXPECT_EQ(h.attributes.bits, 0x001B);
    EXPECT_EQ(h.attributes.codec_bits(), 3);
    EXPECT_EQ(h.attributes.codec(), compression::lz4);
    EXPECT_EQ(h.attributes.ts_type(), timestamp_type::log_append_time);
    EXPECT_TRUE(h.attributes.transactional());
    EXPECT_FALSE(h.attributes.control());
    EXPECT_FALSE(h.attributes.has_delete_horizon());
    EXPECT_EQ(h.last_offset_delta, 41);
    EXPECT_EQ(h.base_timestamp, timestamp(1'700'000'000'000));
    EXPECT_EQ(h.max_timestamp, timestamp(1'700'000'000'999));
    EXPECT_EQ(h.producer_id, 0x7EDCBA9876543210);
    EXPECT_EQ(h.producer_epoch, 3);
    EXPECT_EQ(h.base_sequence, -123456);
    EXPECT_EQ(h.record_count, 42);
    EXPECT_EQ(h.size_bytes(), size_t{12} + 0x11223344);
    EXPECT_EQ(h.last_offset(), offset(0x0102030405060708 + 41));

    bytes again(batch_header_size);
    h.encode(std::span<std::byte, batch_header_size>(again.data(), batch_header_size));
    EXPECT_EQ(again, raw);

    // peek_batch_header reads the same fields and ignores whatever follows.
    bytes longer = raw;
    longer.resize(200, std::byte{0xEE});
    auto peeked = peek_batch_header(longer);
    ASSERT_TRUE(peeked.has_value());
    EXPECT_EQ(encoded(*peeked), encoded(h));
    auto short_peek = peek_batch_header(std::span<const std::byte>(raw).first(batch_header_size - 1));
    ASSERT_FALSE(short_peek.has_value());
    EXPECT_EQ(short_peek.error(), batch_errc::truncated);
}

TEST(record_batch_header, attribute_bits) {
    batch_attributes a;
    EXPECT_EQ(a.codec(), compression::none);
    EXPECT_EQ(a.ts_type(), timestamp_type::create_time);
    a.bits = 0x64; // zstd, control, delete horizon
    EXPECT_EQ(a.codec(), compression::zstd);
    EXPECT_FALSE(a.transactional());
    EXPECT_TRUE(a.control());
    EXPECT_TRUE(a.has_delete_horizon());
    a.bits = 0x0007;
    EXPECT_EQ(a.codec_bits(), 7);
}

RC_GTEST_PROP(record_batch_header, encode_decode_round_trip, ()) {
    record_batch_header h;
    h.base_offset = offset(*rc::gen::arbitrary<int64_t>());
    h.batch_length = *rc::gen::arbitrary<int32_t>();
    h.partition_leader_epoch = leader_epoch(*rc::gen::arbitrary<int32_t>());
    h.magic = *rc::gen::arbitrary<int8_t>();
    h.crc = *rc::gen::arbitrary<uint32_t>();
    h.attributes.bits = *rc::gen::arbitrary<int16_t>();
    h.last_offset_delta = *rc::gen::arbitrary<int32_t>();
    h.base_timestamp = timestamp(*rc::gen::arbitrary<int64_t>());
    h.max_timestamp = timestamp(*rc::gen::arbitrary<int64_t>());
    h.producer_id = *rc::gen::arbitrary<int64_t>();
    h.producer_epoch = *rc::gen::arbitrary<int16_t>();
    h.base_sequence = *rc::gen::arbitrary<int32_t>();
    h.record_count = *rc::gen::arbitrary<int32_t>();
    const auto raw = encoded(h);
    const auto back = record_batch_header::decode(raw);
    RC_ASSERT(back.base_offset == h.base_offset);
    RC_ASSERT(back.batch_length == h.batch_length);
    RC_ASSERT(back.partition_leader_epoch == h.partition_leader_epoch);
    RC_ASSERT(back.magic == h.magic);
    RC_ASSERT(back.crc == h.crc);
    RC_ASSERT(back.attributes.bits == h.attributes.bits);
    RC_ASSERT(back.last_offset_delta == h.last_offset_delta);
    RC_ASSERT(back.base_timestamp == h.base_timestamp);
    RC_ASSERT(back.max_timestamp == h.max_timestamp);
    RC_ASSERT(back.producer_id == h.producer_id);
    RC_ASSERT(back.producer_epoch == h.producer_epoch);
    RC_ASSERT(back.base_sequence == h.base_sequence);
    RC_ASSERT(back.record_count == h.record_count);
    RC_ASSERT(load_be<int32_t>(&raw[pos_record_count]) == h.record_count);
}

TEST(record_batch, describe_every_error) {
    std::vector<std::string_view> seen;
    for (const batch_errc e :
         {batch_errc::truncated, batch_errc::invalid_length, batch_errc::unsupported_magic,
          batch_errc::too_large, batch_errc::crc_mismatch, batch_errc::unsupported_compression,
          batch_errc::invalid_record_count, batch_errc::invalid_timestamp, batch_errc::corrupt_records,
          batch_errc::decompression_failed, batch_errc::decompressed_too_large}) {
        const std::string_view d = describe(e);
        EXPECT_FALSE(d.empty());
        EXPECT_EQ(std::count(seen.begin(), seen.end(), d), 0) << d;
        seen.push_back(d);
    }
}

// ---------------------------------------------------------------------------------------------
// builder -> validate -> iterate

TEST(record_batch_builder, output_validates_and_reads_back) {
    const bytes b = sample_batch();
    const batch_result r = validate_all_ways(b);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    const record_batch_header& h = r->header;
    EXPECT_EQ(h.base_offset, offset(100));
    EXPECT_EQ(h.size_bytes(), b.size());
    EXPECT_EQ(static_cast<size_t>(h.batch_length), b.size() - batch_length_prefix_size);
    EXPECT_EQ(h.partition_leader_epoch, no_leader_epoch);
    EXPECT_EQ(h.magic, batch_magic_v2);
    EXPECT_EQ(h.crc, crc32c(0, std::span<const std::byte>(b).subspan(batch_crc_covered_from)));
    EXPECT_EQ(h.attributes.bits, 0);
    EXPECT_EQ(h.record_count, 3);
    EXPECT_EQ(h.last_offset_delta, 2);
    EXPECT_EQ(h.last_offset(), offset(102));
    EXPECT_EQ(h.base_timestamp, timestamp(1'700'000'000'000));
    EXPECT_EQ(h.max_timestamp, timestamp(1'700'000'000'500));
    EXPECT_EQ(h.producer_id, -1);
    EXPECT_EQ(h.producer_epoch, -1);
    EXPECT_EQ(h.base_sequence, -1);
    EXPECT_EQ(r->max_record_timestamp, timestamp(1'700'000'000'500));

    const std::vector<record_data> expected{
      {"key-0", "value-0", {}, 0, 0},
      {std::nullopt, "value-1", {{"h1", "v1"}, {"h2", std::nullopt}}, 500, 1},
      {"key-2", std::nullopt, {}, -1000, 2},
    };
    EXPECT_EQ(read_records(b), expected);
}

TEST(record_batch_builder, build_output_iobuf_validates_directly) {
    record_batch_builder builder;
    builder.add("k", "v");
    EXPECT_EQ(builder.record_count(), 1);
    const iobuf out = builder.build();
    const batch_result r = validate_batch(out, batch_limits{});
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(r->header.base_offset, offset(0));
    EXPECT_EQ(r->header.base_timestamp, timestamp(0));
}

TEST(record_batch_builder, producer_and_attributes_are_written) {
    record_batch_builder builder(timestamp(5));
    builder.set_producer(77, 3, 1000).set_attributes(batch_attributes{0x18}); // log-append, txn
    builder.add("a", "b").add("c", "d");
    const bytes b = to_vec(builder.build(offset(9)));
    const batch_result r = validate_all_ways(b);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(r->header.producer_id, 77);
    EXPECT_EQ(r->header.producer_epoch, 3);
    EXPECT_EQ(r->header.base_sequence, 1000);
    EXPECT_EQ(r->header.attributes.ts_type(), timestamp_type::log_append_time);
    EXPECT_TRUE(r->header.attributes.transactional());
    EXPECT_EQ(r->header.record_count, 2);
}

TEST(record_batch_builder, empty_keys_values_and_many_headers) {
    std::vector<record_header> headers;
    headers.reserve(20);
    std::vector<std::string> names;
    names.reserve(20);
    for (int i = 0; i < 20; ++i) {
        names.push_back("header-" + std::to_string(i));
    }
    for (int i = 0; i < 20; ++i) {
        headers.push_back(
          {names[static_cast<size_t>(i)],
           i % 3 == 0 ? std::optional<std::string_view>() : std::string_view(names[static_cast<size_t>(i)])});
    }
    const std::string big(300, 'x'); // lengths above 63 take two varint bytes
    record_batch_builder builder(timestamp(0));
    builder.add("", "", no_timestamp, headers);
    builder.add(std::nullopt, std::nullopt);
    builder.add(big, big);
    const bytes b = to_vec(builder.build());
    ASSERT_TRUE(validate_all_ways(b).has_value());
    const auto recs = read_records(b);
    ASSERT_EQ(recs.size(), 3U);
    EXPECT_EQ(recs[0].key, std::string());
    EXPECT_EQ(recs[0].value, std::string());
    ASSERT_EQ(recs[0].headers.size(), 20U);
    EXPECT_EQ(recs[0].headers[3].key, "header-3");
    EXPECT_EQ(recs[0].headers[3].value, std::nullopt);
    EXPECT_EQ(recs[0].headers[4].value, "header-4");
    EXPECT_EQ(recs[1].key, std::nullopt);
    EXPECT_EQ(recs[1].value, std::nullopt);
    EXPECT_EQ(recs[2].key, big);
    EXPECT_EQ(recs[2].value, big);
}

TEST(record_batch, max_record_timestamp_is_the_max_of_record_timestamps) {
    record_batch_builder builder(timestamp(1000));
    builder.add("a", "1", timestamp(1500));
    builder.add("b", "2", timestamp(900));
    builder.add("c", "3"); // no timestamp: the base one
    builder.add("d", "4", timestamp(2000));
    builder.add("e", "5", timestamp(1999));
    bytes b = to_vec(builder.build());
    batch_result r = validate_all_ways(b);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(r->max_record_timestamp, timestamp(2000));
    EXPECT_EQ(r->header.max_timestamp, timestamp(2000));
    std::vector<int64_t> deltas;
    for (const record_data& d : read_records(b)) {
        deltas.push_back(d.timestamp_delta);
    }
    EXPECT_EQ(deltas, (std::vector<int64_t>{500, -100, 0, 1000, 999}));

    // The records are walked: a header maxTimestamp that says otherwise does not change the result.
    store_be<int64_t>(&b[pos_max_timestamp], 1);
    fix_crc(b);
    r = validate_all_ways(b);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->max_record_timestamp, timestamp(2000));
    // Without the walk, the header's value is all there is.
    r = validate_all_ways(b, batch_limits{.check_records = false});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->max_record_timestamp, timestamp(1));
}

TEST(record_batch, no_base_timestamp) {
    record_batch_builder builder(no_timestamp);
    builder.add("a", "1").add("b", "2");
    const bytes b = to_vec(builder.build());
    const batch_result r = validate_all_ways(b);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(r->header.base_timestamp, no_timestamp);
    EXPECT_EQ(r->header.max_timestamp, no_timestamp);
    EXPECT_EQ(r->max_record_timestamp, no_timestamp);
    for (const record_data& d : read_records(b)) {
        EXPECT_EQ(d.timestamp_delta, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// validate_batch: each error

TEST(validate_batch, accepts_every_fragmentation) {
    const bytes b = sample_batch();
    const batch_result whole = validate_batch(b, batch_limits{});
    ASSERT_TRUE(whole.has_value());
    for (size_t at = 1; at < b.size(); ++at) {
        const batch_result r = validate_batch(split_at(b, at), batch_limits{});
        ASSERT_TRUE(r.has_value()) << "split at " << at << ": " << describe(r.error());
        ASSERT_TRUE(same_outcome(whole, r)) << at;
    }
    for (size_t chunk = 1; chunk <= 16; ++chunk) {
        const iobuf buf = chunked(b, chunk);
        ASSERT_EQ(buf.piece_count(), (b.size() + chunk - 1) / chunk);
        const batch_result r = validate_batch(buf, batch_limits{});
        ASSERT_TRUE(r.has_value()) << "chunk " << chunk << ": " << describe(r.error());
        ASSERT_TRUE(same_outcome(whole, r)) << chunk;
    }
}

TEST(validate_batch, truncated_every_prefix) {
    const bytes b = sample_batch();
    for (size_t n = 0; n < b.size(); ++n) {
        const std::span<const std::byte> prefix = std::span<const std::byte>(b).first(n);
        const batch_result r = validate_batch(prefix, batch_limits{});
        ASSERT_FALSE(r.has_value()) << n;
        ASSERT_EQ(r.error(), batch_errc::truncated) << n;
        const batch_result ri = validate_batch(chunked(prefix, 7), batch_limits{});
        ASSERT_FALSE(ri.has_value()) << n;
        ASSERT_EQ(ri.error(), batch_errc::truncated) << n;
        const batch_result rs = validate_batch(iobuf::copy_of(prefix), batch_limits{});
        ASSERT_FALSE(rs.has_value()) << n;
        ASSERT_EQ(rs.error(), batch_errc::truncated) << n;
    }
}

TEST(validate_batch, invalid_length) {
    const bytes good = sample_batch();
    bytes b = good;
    store_be<int32_t>(&b[pos_batch_length], 48); // one below the fixed header after the field
    expect_error(b, batch_errc::invalid_length);
    store_be<int32_t>(&b[pos_batch_length], -1);
    expect_error(b, batch_errc::invalid_length);
    store_be<int32_t>(&b[pos_batch_length], std::numeric_limits<int32_t>::min());
    expect_error(b, batch_errc::invalid_length);
    // A length one short of the bytes: the last byte is left over.
    b = good;
    store_be<int32_t>(&b[pos_batch_length], static_cast<int32_t>(good.size() - batch_length_prefix_size - 1));
    expect_error(b, batch_errc::invalid_length);

    // Trailing bytes after an otherwise valid batch.
    b = good;
    b.push_back(std::byte{0});
    expect_error(b, batch_errc::invalid_length);
    b = concat({good, good}); // two batches are not one
    expect_error(b, batch_errc::invalid_length);
}

TEST(validate_batch, length_claims_more_than_given_is_truncated) {
    bytes b = sample_batch();
    store_be<int32_t>(&b[pos_batch_length], static_cast<int32_t>(b.size() - batch_length_prefix_size + 1));
    expect_error(b, batch_errc::truncated);
    store_be<int32_t>(&b[pos_batch_length], std::numeric_limits<int32_t>::max());
    expect_error(b, batch_errc::truncated);
}

TEST(validate_batch, unsupported_magic) {
    for (const int8_t magic : {int8_t{0}, int8_t{1}, int8_t{3}, int8_t{-1}, int8_t{127}}) {
        bytes b = sample_batch();
        store_be<int8_t>(&b[pos_magic], magic); // outside the CRC: no fix-up needed
        expect_error(b, batch_errc::unsupported_magic);
    }
}

TEST(validate_batch, too_large) {
    const bytes b = sample_batch();
    expect_error(b, batch_errc::too_large, batch_limits{.max_batch_bytes = b.size() - 1});
    expect_error(b, batch_errc::too_large, batch_limits{.max_batch_bytes = 0});
    EXPECT_TRUE(validate_all_ways(b, batch_limits{.max_batch_bytes = b.size()}).has_value());
    EXPECT_TRUE(validate_all_ways(b, batch_limits{.max_batch_bytes = b.size() + 1}).has_value());
}

TEST(validate_batch, crc_field_edited) {
    bytes b = sample_batch();
    b[batch_crc_position + 3] ^= std::byte{0x01};
    expect_error(b, batch_errc::crc_mismatch);
}

// CRC-32C detects every burst error up to 32 bits, so every change of a single covered byte is
// refused, and refused as a CRC mismatch (the checks before it read only uncovered bytes).
TEST(validate_batch, every_single_byte_change_in_covered_range_is_a_crc_mismatch) {
    const bytes good = sample_batch();
    for (size_t pos = batch_crc_covered_from; pos < good.size(); ++pos) {
        for (unsigned mask = 1; mask < 256; ++mask) {
            bytes b = good;
            b[pos] ^= static_cast<std::byte>(mask);
            const batch_result r = validate_batch(b, batch_limits{});
            ASSERT_FALSE(r.has_value()) << "byte " << pos << " ^ " << mask << " accepted";
            ASSERT_EQ(r.error(), batch_errc::crc_mismatch) << pos << " ^ " << mask;
        }
        bytes b = good;
        b[pos] ^= std::byte{0x10};
        const batch_result ri = validate_batch(chunked(b, 9), batch_limits{});
        ASSERT_FALSE(ri.has_value()) << pos;
        ASSERT_EQ(ri.error(), batch_errc::crc_mismatch) << pos;
    }
}

RC_GTEST_PROP(validate_batch, single_byte_flip_in_covered_range_is_never_accepted, ()) {
    const std::string key = *rc::gen::string<std::string>();
    const std::string value = *rc::gen::string<std::string>();
    const int n = *rc::gen::inRange(1, 5);
    record_batch_builder builder(timestamp(*rc::gen::inRange<int64_t>(-1, 1'000'000)));
    for (int i = 0; i < n; ++i) {
        builder.add(key, value);
    }
    bytes b = to_vec(builder.build());
    const size_t pos = *rc::gen::inRange<size_t>(batch_crc_covered_from, b.size());
    const auto mask = static_cast<std::byte>(*rc::gen::inRange(1, 256));
    b[pos] ^= mask;
    const auto chunk = *rc::gen::inRange<size_t>(1, b.size() + 1);
    const batch_result r = validate_batch(b, batch_limits{});
    const batch_result ri = validate_batch(chunked(b, chunk), batch_limits{});
    RC_ASSERT(!r.has_value());
    RC_ASSERT(r.error() == batch_errc::crc_mismatch);
    RC_ASSERT(!ri.has_value());
    RC_ASSERT(ri.error() == batch_errc::crc_mismatch);
}

TEST(validate_batch, unsupported_compression_codecs) {
    for (const int16_t codec : {int16_t{5}, int16_t{6}, int16_t{7}}) {
        bytes b = sample_batch();
        store_be<int16_t>(&b[pos_attributes], codec);
        fix_crc(b);
        expect_error(b, batch_errc::unsupported_compression);
        // Other attribute bits do not hide the codec.
        store_be<int16_t>(&b[pos_attributes], static_cast<int16_t>(codec | 0x78));
        fix_crc(b);
        expect_error(b, batch_errc::unsupported_compression);
    }
}

TEST(validate_batch, known_codecs_skip_the_record_walk) {
    // Records that are not valid uncompressed records: fine for a compressed batch, whose records
    // section is one opaque blob.
    const bytes blob = concat({framed(record_body(0)), bytes{std::byte{0xFF}, std::byte{0x13}}});
    for (const int16_t codec : {int16_t{1}, int16_t{2}, int16_t{3}, int16_t{4}}) {
        bytes b = make_batch(blob, 1);
        store_be<int16_t>(&b[pos_attributes], codec);
        fix_crc(b);
        const batch_result r = validate_all_ways(b);
        ASSERT_TRUE(r.has_value()) << codec << ": " << describe(r.error());
        EXPECT_EQ(static_cast<int>(r->header.attributes.codec()), codec);
        EXPECT_EQ(r->max_record_timestamp, r->header.max_timestamp);
    }
    // The same bytes with codec none are refused.
    expect_error(make_batch(blob, 1), batch_errc::corrupt_records);
}

TEST(validate_batch, invalid_record_count) {
    const bytes good = sample_batch(); // 3 records, lastOffsetDelta 2
    auto with = [&](int32_t count, int32_t last_delta) {
        bytes b = good;
        store_be<int32_t>(&b[pos_record_count], count);
        store_be<int32_t>(&b[pos_last_offset_delta], last_delta);
        fix_crc(b);
        return b;
    };
    expect_error(with(0, 2), batch_errc::invalid_record_count);
    expect_error(with(0, -1), batch_errc::invalid_record_count);
    expect_error(with(-3, -4), batch_errc::invalid_record_count);
    expect_error(with(4, 2), batch_errc::invalid_record_count);
    expect_error(with(3, 1), batch_errc::invalid_record_count);
    expect_error(with(3, 3), batch_errc::invalid_record_count);
    expect_error(with(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()),
                 batch_errc::invalid_record_count);
    EXPECT_TRUE(validate_all_ways(with(3, 2)).has_value());
}

TEST(validate_batch, invalid_timestamp) {
    bytes b = sample_batch();
    store_be<int64_t>(&b[pos_base_timestamp], -5);
    fix_crc(b);
    expect_error(b, batch_errc::invalid_timestamp);

    b = sample_batch();
    store_be<int64_t>(&b[pos_max_timestamp], -2);
    fix_crc(b);
    expect_error(b, batch_errc::invalid_timestamp);

    b = sample_batch();
    store_be<int64_t>(&b[pos_base_timestamp], std::numeric_limits<int64_t>::min());
    fix_crc(b);
    expect_error(b, batch_errc::invalid_timestamp);

    // -1 ("none") is a valid value for both.
    b = sample_batch();
    store_be<int64_t>(&b[pos_base_timestamp], -1);
    store_be<int64_t>(&b[pos_max_timestamp], -1);
    fix_crc(b);
    EXPECT_TRUE(validate_all_ways(b).has_value());
}

TEST(validate_batch, record_timestamp_below_zero_is_invalid) {
    record_batch_builder builder(timestamp(10));
    builder.add("a", "b");
    builder.add("a", "b", timestamp(-5)); // delta -15 from the base
    expect_error(to_vec(builder.build()), batch_errc::invalid_timestamp);
    // Not walked, not seen.
    EXPECT_TRUE(validate_all_ways(to_vec(builder.build()), batch_limits{.check_records = false}).has_value());
}

// A record timestamp delta that takes baseTimestamp + delta past INT64_MAX: the sum is not a
// timestamp, the batch must be refused (and the sum must not be computed with signed overflow,
// which UBSan reports).
TEST(validate_batch, record_timestamp_overflow_is_invalid) {
    const int64_t base = std::numeric_limits<int64_t>::max() - 10;
    const bytes records = framed(record_body(0, 100));
    expect_error(make_batch(records, 1, base, base), batch_errc::invalid_timestamp);
}

TEST(validate_batch, base_offset_and_leader_epoch_are_outside_the_crc) {
    bytes b = sample_batch();
    store_be<int64_t>(&b[pos_base_offset], 123'456'789);
    store_be<int32_t>(&b[batch_leader_epoch_position], 42);
    const batch_result r = validate_all_ways(b);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(r->header.base_offset, offset(123'456'789));
    EXPECT_EQ(r->header.partition_leader_epoch, leader_epoch(42));
    EXPECT_EQ(r->header.last_offset(), offset(123'456'789 + 2));

    store_be<int64_t>(&b[pos_base_offset], -1);
    store_be<int32_t>(&b[batch_leader_epoch_position], std::numeric_limits<int32_t>::min());
    EXPECT_TRUE(validate_all_ways(b).has_value());
}

// ---------------------------------------------------------------------------------------------
// corrupt records (uncompressed; CRC recomputed every time so the walk is reached)

TEST(validate_batch, hand_written_records_are_accepted) {
    // The baseline the corruptions below start from.
    const bytes records =
      concat({framed(record_body(0)), framed(record_body(1, 5)), framed(record_body(2, 3))});
    const batch_result r = validate_all_ways(make_batch(records, 3));
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(r->max_record_timestamp, timestamp(1005));
}

TEST(validate_batch, corrupt_records_lying_record_length) {
    const bytes body0 = record_body(0);
    const bytes body1 = record_body(1);
    const auto len0 = static_cast<int32_t>(body0.size());
    // First record claims one byte more (eats the next record's length) or one byte less.
    expect_error(make_batch(concat({framed(body0, len0 + 1), framed(body1)}), 2),
                 batch_errc::corrupt_records);
    expect_error(make_batch(concat({framed(body0, len0 - 1), framed(body1)}), 2),
                 batch_errc::corrupt_records);
    // Last record claims more than the section holds.
    expect_error(
      make_batch(concat({framed(body0), framed(body1, static_cast<int32_t>(body1.size()) + 1)}), 2),
      batch_errc::corrupt_records);
    expect_error(make_batch(framed(body0, std::numeric_limits<int32_t>::max()), 1),
                 batch_errc::corrupt_records);
    // Negative and zero lengths.
    expect_error(make_batch(framed(body0, -1), 1), batch_errc::corrupt_records);
    expect_error(make_batch(concat({framed({}), body0}), 1), batch_errc::corrupt_records);
    // A length varint that never ends.
    expect_error(make_batch(bytes(8, std::byte{0xFF}), 1), batch_errc::corrupt_records);
}

TEST(validate_batch, corrupt_records_wrong_offset_deltas) {
    auto batch_with_deltas = [](std::initializer_list<int32_t> deltas) {
        bytes records;
        for (const int32_t d : deltas) {
            const bytes r = framed(record_body(d));
            records.insert(records.end(), r.begin(), r.end());
        }
        return make_batch(records, static_cast<int32_t>(deltas.size()));
    };
    EXPECT_TRUE(validate_all_ways(batch_with_deltas({0, 1, 2})).has_value());
    expect_error(batch_with_deltas({1, 2, 3}), batch_errc::corrupt_records);
    expect_error(batch_with_deltas({0, 2, 1}), batch_errc::corrupt_records);
    expect_error(batch_with_deltas({0, 1, 1}), batch_errc::corrupt_records);
    expect_error(batch_with_deltas({0, 0, 0}), batch_errc::corrupt_records);
    expect_error(batch_with_deltas({0, -1, 2}), batch_errc::corrupt_records);
    // Recovery does not walk records, so it does not see this.
    EXPECT_TRUE(
      validate_all_ways(batch_with_deltas({0, 2, 1}), batch_limits{.check_records = false}).has_value());
}

TEST(validate_batch, corrupt_records_count_does_not_match_section) {
    const bytes two = concat({framed(record_body(0)), framed(record_body(1))});
    expect_error(make_batch(two, 3), batch_errc::corrupt_records); // runs out of records
    expect_error(make_batch(two, 1), batch_errc::corrupt_records); // bytes left over
    expect_error(make_batch({}, 1), batch_errc::corrupt_records);  // no records at all
    expect_error(make_batch(concat({two, bytes{std::byte{0}}}), 2), batch_errc::corrupt_records);
}

TEST(validate_batch, corrupt_records_inner_fields) {
    auto one = [](const record_writer& w) { return make_batch(framed(w.get()), 1); };
    // Key longer than the record.
    expect_error(one(record_writer().i8(0).varlong(0).varint(0).varint(50).raw("k").str("v").varint(0)),
                 batch_errc::corrupt_records);
    // Key length -2.
    expect_error(one(record_writer().i8(0).varlong(0).varint(0).varint(-2).str("v").varint(0)),
                 batch_errc::corrupt_records);
    // Value longer than the record.
    expect_error(one(record_writer().i8(0).varlong(0).varint(0).str("k").varint(3).raw("v").varint(0)),
                 batch_errc::corrupt_records);
    // Header count negative.
    expect_error(one(record_writer().i8(0).varlong(0).varint(0).str("k").str("v").varint(-1)),
                 batch_errc::corrupt_records);
    // Header count larger than the headers present.
    expect_error(
      one(record_writer().i8(0).varlong(0).varint(0).str("k").str("v").varint(2).str("h").str("x")),
      batch_errc::corrupt_records);
    // Header key null: header keys are not nullable.
    expect_error(
      one(record_writer().i8(0).varlong(0).varint(0).str("k").str("v").varint(1).str(std::nullopt).str("x")),
      batch_errc::corrupt_records);
    // Bytes left inside the record after its last field.
    expect_error(one(record_writer().i8(0).varlong(0).varint(0).str("k").str("v").varint(0).raw("!")),
                 batch_errc::corrupt_records);
    // Record ends inside the timestamp delta / offset delta varints.
    expect_error(one(record_writer().i8(0).raw({0x80})), batch_errc::corrupt_records);
    expect_error(one(record_writer().i8(0).varlong(0).raw({0x80})), batch_errc::corrupt_records);
    // Overlong offset delta varint (5th byte above 0x0F).
    expect_error(
      one(record_writer().i8(0).varlong(0).raw({0x80, 0x80, 0x80, 0x80, 0x10}).str("k").str("v").varint(0)),
      batch_errc::corrupt_records);
    // The baseline with the same writer is fine (header value null is allowed).
    EXPECT_TRUE(validate_all_ways(one(record_writer()
                                        .i8(0)
                                        .varlong(0)
                                        .varint(0)
                                        .str("k")
                                        .str(std::nullopt)
                                        .varint(1)
                                        .str("h")
                                        .str(std::nullopt)))
                  .has_value());
}

TEST(for_each_record, visits_each_record_and_checks_the_count) {
    const bytes records =
      concat({framed(record_body(0, 0, "a", "1")), framed(record_body(1, 7, std::nullopt, "2"))});
    std::vector<std::string> seen;
    auto ok = for_each_record(records, 2, [&](const record_view& r) {
        seen.push_back(r.key ? std::string(text(*r.key)) : "<null>");
    });
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(seen, (std::vector<std::string>{"a", "<null>"}));

    auto too_few = for_each_record(records, 1, [](const record_view&) {});
    ASSERT_FALSE(too_few.has_value());
    EXPECT_EQ(too_few.error(), batch_errc::corrupt_records);
    auto too_many = for_each_record(records, 3, [](const record_view&) {});
    ASSERT_FALSE(too_many.has_value());
    EXPECT_EQ(too_many.error(), batch_errc::corrupt_records);
    auto none = for_each_record(std::span<const std::byte>(), 0, [](const record_view&) {});
    EXPECT_TRUE(none.has_value());
}

// ---------------------------------------------------------------------------------------------
// properties

// Null (about one time in two) or a generated value.
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

RC_GTEST_PROP(record_batch_builder, random_records_round_trip, ()) {
    const int64_t base =
      *rc::gen::oneOf(rc::gen::just<int64_t>(-1), rc::gen::inRange<int64_t>(0, 4'000'000'000'000));
    const auto count = *rc::gen::inRange<size_t>(1, 30);
    std::vector<gen_record> input;
    for (size_t i = 0; i < count; ++i) {
        gen_record r;
        r.key = *optional_of(rc::gen::string<std::string>());
        r.value = *optional_of(rc::gen::oneOf(
          rc::gen::string<std::string>(),
          rc::gen::map(rc::gen::inRange<size_t>(0, 3000), [](size_t n) { return std::string(n, 'v'); })));
        r.headers = *rc::gen::resize(
          8, rc::gen::container<std::vector<std::pair<std::string, std::optional<std::string>>>>(
               rc::gen::pair(rc::gen::string<std::string>(), optional_of(rc::gen::string<std::string>()))));
        r.ts = *optional_of(rc::gen::inRange<int64_t>(0, 4'000'000'000'000));
        input.push_back(std::move(r));
    }
    const auto base_offset = offset(*rc::gen::inRange<int64_t>(0, std::numeric_limits<int64_t>::max() / 2));

    record_batch_builder builder{timestamp(base)};
    int64_t max_ts = -1;
    for (const gen_record& r : input) {
        std::vector<record_header> headers;
        for (const auto& [k, v] : r.headers) {
            headers.push_back({k, v ? std::optional<std::string_view>(*v) : std::nullopt});
        }
        const std::optional<std::string_view> key =
          r.key ? std::optional<std::string_view>(*r.key) : std::nullopt;
        const std::optional<std::string_view> value =
          r.value ? std::optional<std::string_view>(*r.value) : std::nullopt;
        builder.add(key, value, r.ts ? timestamp(*r.ts) : no_timestamp, headers);
        const int64_t effective = r.ts.value_or(base);
        max_ts = std::max(max_ts, effective);
    }
    const iobuf built = builder.build(base_offset);
    const bytes b = to_vec(built);

    const batch_result r = validate_batch(b, batch_limits{});
    RC_ASSERT(r.has_value());
    const batch_result rb = validate_batch(built, batch_limits{});
    RC_ASSERT(rb.has_value());
    const batch_result rf =
      validate_batch(chunked(b, *rc::gen::inRange<size_t>(1, b.size() + 1)), batch_limits{});
    RC_ASSERT(rf.has_value());
    RC_ASSERT(same_outcome(r, rb));
    RC_ASSERT(same_outcome(r, rf));
    RC_ASSERT(r->header.record_count == static_cast<int32_t>(count));
    RC_ASSERT(r->header.base_offset == base_offset);
    RC_ASSERT(r->header.base_timestamp == timestamp(base));
    RC_ASSERT(r->max_record_timestamp == timestamp(max_ts));

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
    RC_ASSERT(read_records(b) == expected);
}

// Garbage in: an error or a batch, never a crash, and both overloads agree.
RC_GTEST_PROP(validate_batch, random_bytes_never_crash, ()) {
    const auto garbage = *rc::gen::container<std::vector<uint8_t>>(rc::gen::arbitrary<uint8_t>());
    const bytes b = from_u8(garbage);
    const batch_result r = validate_batch(b, batch_limits{});
    const batch_result ri =
      validate_batch(chunked(b, *rc::gen::inRange<size_t>(1, b.size() + 2)), batch_limits{});
    RC_ASSERT(same_outcome(r, ri));
}

// Garbage behind a plausible header with a correct length and CRC, so the record walk runs.
RC_GTEST_PROP(validate_batch, random_records_section_never_crashes, ()) {
    const auto garbage = *rc::gen::container<std::vector<uint8_t>>(rc::gen::arbitrary<uint8_t>());
    const bytes records = from_u8(garbage);
    const int32_t count = *rc::gen::inRange(1, 5);
    const int64_t base_ts =
      *rc::gen::oneOf(rc::gen::just<int64_t>(-1), rc::gen::inRange<int64_t>(0, 1'000'000),
                      rc::gen::just(std::numeric_limits<int64_t>::max()));
    const bytes b = make_batch(records, count, base_ts, base_ts);
    const batch_result r = validate_batch(b, batch_limits{});
    const batch_result ri =
      validate_batch(chunked(b, *rc::gen::inRange<size_t>(1, b.size() + 1)), batch_limits{});
    RC_ASSERT(same_outcome(r, ri));
    if (!r) {
        RC_ASSERT(r.error() == batch_errc::corrupt_records || r.error() == batch_errc::invalid_timestamp);
    }
}

} // namespace
} // namespace ms::model
