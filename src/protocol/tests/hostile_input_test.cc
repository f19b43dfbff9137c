// Hostile input: bytes a broken or malicious client can send. The decoder must answer every one of
// them with a decode_error (never a crash, an assert, or an allocation sized by a number read from
// the wire), and must accept everything a correct client sends.
//
// No nesting limit is needed: the depth of a decoded message is fixed by its schema. Every struct
// in schemas/kafka/ has its own generated decode() and none contains itself (the schema format
// has no way to name an enclosing struct), so the call depth of any decode is at most the deepest
// schema nesting (a handful of levels), whatever the bytes say.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/endian.h"
#include "protocol/frame.h"
#include "protocol/messages/random_fill.h"
#include "protocol/testing/random_source.h"
#include "protocol/wire.h"

// ---------------------------------------------------------------------------------------------
// Allocation accounting: replaces the global operator new of this test binary so a test can
// measure what one decode allocates. Counting is per thread and off unless a test turns it on.
// (Under ASan every allocation still goes through malloc and is checked; only the new/delete
// vs. new[]/delete[] mismatch check is lost for this binary.)

namespace {

struct allocation_stats {
    bool counting = false;
    size_t total = 0;
    size_t largest = 0;
};
thread_local allocation_stats this_thread_allocations;

void* counted_allocation(size_t n) {
    allocation_stats& s = this_thread_allocations;
    if (s.counting) {
        s.total += n;
        s.largest = std::max(s.largest, n);
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}

} // namespace

void* operator new(size_t n) {
    return counted_allocation(n);
}
void* operator new[](size_t n) {
    return counted_allocation(n);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t /*n*/) noexcept {
    std::free(p);
}
void operator delete[](void* p, size_t /*n*/) noexcept {
    std::free(p);
}

namespace ms::protocol {
namespace {

using decode_result = result<decoded_request, decode_error>;

// Counts what `fn` allocates on this thread.
template<typename Fn>
allocation_stats allocations_of(Fn&& fn) {
    this_thread_allocations = allocation_stats{.counting = true};
    fn();
    allocation_stats out = this_thread_allocations;
    out.counting = false;
    this_thread_allocations = allocation_stats{};
    return out;
}

std::vector<std::byte> bytes_of(std::initializer_list<unsigned> list) {
    std::vector<std::byte> out;
    for (const unsigned b : list) {
        out.push_back(static_cast<std::byte>(b));
    }
    return out;
}

// Writes a request frame (without the size prefix) byte by byte, so a test can put any value in
// any field. The header matches the API and version: v2 (tagged fields) for flexible versions.
class frame_builder {
public:
    frame_builder(int16_t key, api_version version) {
        i16(key).i16(version).i32(77).i16(-1); // client_id: null
        if (request_header_version(key, version) >= 2) {
            uvarint(0); // no tagged fields
        }
    }

    // The first `n` bytes of an existing frame.
    frame_builder(const std::vector<std::byte>& frame, size_t n)
      : _bytes(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n)) {}

    frame_builder& i8(int8_t v) { return put(v); }
    frame_builder& i16(int16_t v) { return put(v); }
    frame_builder& i32(int32_t v) { return put(v); }
    frame_builder& i64(int64_t v) { return put(v); }
    frame_builder& raw(std::initializer_list<unsigned> list) {
        for (const std::byte b : bytes_of(list)) {
            _bytes.push_back(b);
        }
        return *this;
    }
    frame_builder& uvarint(uint32_t v) {
        while (v >= 0x80) {
            _bytes.push_back(static_cast<std::byte>((v & 0x7fU) | 0x80U));
            v >>= 7;
        }
        _bytes.push_back(static_cast<std::byte>(v));
        return *this;
    }
    // An int16-length string.
    frame_builder& str(std::string_view s) {
        i16(static_cast<int16_t>(s.size()));
        return text(s);
    }
    // A compact (unsigned varint length + 1) string.
    frame_builder& cstr(std::string_view s) {
        uvarint(static_cast<uint32_t>(s.size() + 1));
        return text(s);
    }
    frame_builder& fill(size_t n, unsigned byte) {
        _bytes.insert(_bytes.end(), n, static_cast<std::byte>(byte));
        return *this;
    }
    frame_builder& text(std::string_view s) {
        for (const char c : s) {
            _bytes.push_back(static_cast<std::byte>(c));
        }
        return *this;
    }

    // The offset the next byte will have.
    [[nodiscard]] size_t size() const noexcept { return _bytes.size(); }
    [[nodiscard]] iobuf build() const { return iobuf::copy_of(_bytes); }

private:
    template<typename T>
    frame_builder& put(T v) {
        std::array<std::byte, sizeof(T)> tmp{};
        store_be<T>(tmp.data(), v);
        _bytes.insert(_bytes.end(), tmp.begin(), tmp.end());
        return *this;
    }

    std::vector<std::byte> _bytes;
};

decode_result decode(const frame_builder& b) {
    const iobuf frame = b.build();
    return decode_request(frame);
}

// Decodes the frame, requiring that it fails with `code` at byte `position`, allocating less than
// a few KiB on the way (so a count read from the wire cannot size an allocation).
void expect_refused(const frame_builder& b, decode_errc code, size_t position) {
    const iobuf frame = b.build();
    std::optional<decode_result> r;
    const allocation_stats a = allocations_of([&] { r.emplace(decode_request(frame)); });
    ASSERT_FALSE(r->has_value()) << "decoded a frame that should have been refused";
    EXPECT_EQ(r->error().code, code) << describe(r->error());
    EXPECT_EQ(r->error().position, position) << describe(r->error());
    EXPECT_LT(a.largest, 4096U) << "one allocation of " << a.largest << " bytes for a " << frame.size()
                                << "-byte frame";
    EXPECT_LT(a.total, 16384U);
}

constexpr int32_t int32_max = 0x7fffffff;
constexpr int32_t int32_min = -0x7fffffff - 1;

// ---------------------------------------------------------------------------------------------
// wire_reader primitives

TEST(hostile_wire_reader, array_counts_beyond_the_input_are_refused) {
    struct cases {
        std::vector<std::byte> bytes;
        bool compact;
        bool nullable;
        decode_errc expected;
    };
    const std::vector<cases> all = {
      {bytes_of({0x7f, 0xff, 0xff, 0xff}), false, false, decode_errc::too_many_elements}, // 2^31 - 1
      {bytes_of({0x80, 0x00, 0x00, 0x00}), false, false, decode_errc::invalid_length},    // -2^31
      {bytes_of({0x80, 0x00, 0x00, 0x00}), false, true, decode_errc::invalid_length},     // -2^31
      {bytes_of({0xff, 0xff, 0xff, 0xfe}), false, true, decode_errc::invalid_length},     // -2
      {bytes_of({0xff, 0xff, 0xff, 0xff}), false, false, decode_errc::invalid_length},    // null
      {bytes_of({0x00, 0x00, 0x00, 0x05, 1, 2, 3, 4}), false, false, decode_errc::too_many_elements},
      {bytes_of({0x00}), true, false, decode_errc::invalid_length},                            // compact null
      {bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f}), true, false, decode_errc::too_many_elements}, // 2^32 - 2
      {bytes_of({0xff, 0xff, 0xff, 0xff, 0x07}), true, true, decode_errc::too_many_elements},  // 2^31 - 2
      {bytes_of({0x80, 0x80, 0x80, 0x80, 0x08}), true, true, decode_errc::too_many_elements},  // 2^31 - 1
    };
    for (const cases& c : all) {
        wire_reader r(c.bytes);
        EXPECT_EQ(r.read_array_length(c.compact, c.nullable, 1), 0);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error()->code, c.expected);
        EXPECT_EQ(r.error()->position, 0U);
    }

    // What a correct client sends still works: null where nullable, and counts that fit.
    const auto null32 = bytes_of({0xff, 0xff, 0xff, 0xff});
    wire_reader null_ok(null32);
    EXPECT_EQ(null_ok.read_array_length(false, true, 8), -1);
    EXPECT_TRUE(null_ok.ok());
    const auto two = bytes_of({0x00, 0x00, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8});
    wire_reader fits(two);
    EXPECT_EQ(fits.read_array_length(false, false, 4), 2);
    EXPECT_TRUE(fits.ok());
    wire_reader too_big(two);
    EXPECT_EQ(too_big.read_array_length(false, false, 5), 0);
    EXPECT_EQ(too_big.error()->code, decode_errc::too_many_elements);
}

TEST(hostile_wire_reader, negative_lengths_other_than_null_are_refused) {
    for (const int16_t len : {int16_t{-2}, int16_t{-100}, int16_t{-32768}}) {
        std::array<std::byte, 2> b{};
        store_be<int16_t>(b.data(), len);
        wire_reader s(b);
        EXPECT_EQ(s.read_string(false), "");
        EXPECT_EQ(s.error()->code, decode_errc::invalid_length) << len;
        wire_reader ns(b); // only -1 is null; the value read after a failure does not matter
        (void)ns.read_nullable_string(false);
        EXPECT_EQ(ns.error()->code, decode_errc::invalid_length) << len;
    }
    for (const int32_t len : {-2, -1000, int32_min}) {
        std::array<std::byte, 4> b{};
        store_be<int32_t>(b.data(), len);
        wire_reader by(b);
        EXPECT_TRUE(by.read_bytes(false).empty());
        EXPECT_EQ(by.error()->code, decode_errc::invalid_length) << len;
        wire_reader nb(b);
        (void)nb.read_nullable_bytes(false);
        EXPECT_EQ(nb.error()->code, decode_errc::invalid_length) << len;
        wire_reader rec(b);
        EXPECT_EQ(rec.read_records(false), std::nullopt);
        EXPECT_EQ(rec.error()->code, decode_errc::invalid_length) << len;
    }
}

TEST(hostile_wire_reader, null_where_not_nullable_is_refused) {
    const auto null16 = bytes_of({0xff, 0xff});
    wire_reader s(null16);
    (void)s.read_string(false);
    EXPECT_EQ(s.error()->code, decode_errc::invalid_length);
    EXPECT_EQ(s.error()->position, 0U);

    const auto null32 = bytes_of({0xff, 0xff, 0xff, 0xff});
    wire_reader b(null32);
    (void)b.read_bytes(false);
    EXPECT_EQ(b.error()->code, decode_errc::invalid_length);

    // Compact length 0 is null: refused for plain strings and bytes, accepted for nullable ones.
    const auto compact_null = bytes_of({0x00});
    wire_reader cs(compact_null);
    (void)cs.read_string(true);
    EXPECT_EQ(cs.error()->code, decode_errc::invalid_length);
    wire_reader cb(compact_null);
    (void)cb.read_bytes(true);
    EXPECT_EQ(cb.error()->code, decode_errc::invalid_length);
    wire_reader cns(compact_null);
    EXPECT_EQ(cns.read_nullable_string(true), std::nullopt);
    EXPECT_TRUE(cns.ok());
    wire_reader cnr(compact_null);
    EXPECT_EQ(cnr.read_records(true), std::nullopt);
    EXPECT_TRUE(cnr.ok());
}

TEST(hostile_wire_reader, lengths_past_the_end_are_truncation) {
    const auto s = bytes_of({0x7f, 0xff, 'a', 'b'});
    wire_reader rs(s);
    (void)rs.read_string(false);
    EXPECT_EQ(rs.error()->code, decode_errc::truncated);
    EXPECT_EQ(rs.error()->position, 0U);

    const auto b = bytes_of({0x7f, 0xff, 0xff, 0xff, 1, 2, 3});
    wire_reader rb(b);
    EXPECT_EQ(rb.read_records(false), std::nullopt);
    EXPECT_EQ(rb.error()->code, decode_errc::truncated);

    // A compact length of 2^32 - 1 (the largest varint) must not wrap around.
    const auto c = bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f, 'x'});
    wire_reader rc(c);
    (void)rc.read_string(true);
    EXPECT_EQ(rc.error()->code, decode_errc::truncated);

    wire_reader sub_parent(b);
    const wire_reader sub = sub_parent.sub_reader(100);
    EXPECT_EQ(sub.remaining(), 0U);
    EXPECT_EQ(sub_parent.error()->code, decode_errc::truncated);
}

TEST(hostile_wire_reader, varints_longer_than_five_bytes_or_past_32_bits_are_refused) {
    const auto six = bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
    wire_reader r6(six);
    EXPECT_EQ(r6.read_unsigned_varint(), 0U);
    EXPECT_EQ(r6.error()->code, decode_errc::invalid_varint);
    EXPECT_EQ(r6.error()->position, 0U); // where the varint starts, not where it went wrong

    const auto wide = bytes_of({0x80, 0x80, 0x80, 0x80, 0x10}); // bit 32 set
    wire_reader rw(wide);
    EXPECT_EQ(rw.read_unsigned_varint(), 0U);
    EXPECT_EQ(rw.error()->code, decode_errc::invalid_varint);

    const auto max = bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f});
    wire_reader rm(max);
    EXPECT_EQ(rm.read_unsigned_varint(), 0xffffffffU);
    EXPECT_TRUE(rm.ok());

    const auto cut = bytes_of({0xff, 0xff});
    wire_reader rcut(cut);
    EXPECT_EQ(rcut.read_unsigned_varint(), 0U);
    EXPECT_EQ(rcut.error()->code, decode_errc::truncated);
    EXPECT_EQ(rcut.error()->position, 0U);
}

TEST(hostile_wire_reader, errors_are_sticky_and_later_reads_consume_nothing) {
    const auto b = bytes_of({0xff, 0xfe, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05});
    wire_reader r(b);
    (void)r.read_string(false); // -2: invalid
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.read_int32(), 0);
    EXPECT_EQ(r.read_unsigned_varint(), 0U);
    EXPECT_TRUE(r.read_raw(1).empty());
    EXPECT_EQ(r.remaining(), 0U);
    EXPECT_EQ(r.error()->code, decode_errc::invalid_length); // the first failure is kept
    EXPECT_EQ(r.error()->position, 0U);
}

// ---------------------------------------------------------------------------------------------
// Whole requests through decode_request

TEST(hostile_requests, produce_topic_counts) {
    for (const int32_t count : {int32_max, int32_min, -1, -2}) {
        frame_builder b(0, 3);
        b.i16(-1).i16(-1).i32(30000); // transactional_id null, acks, timeout
        const size_t at = b.size();
        b.i32(count);
        expect_refused(b, count == int32_max ? decode_errc::too_many_elements : decode_errc::invalid_length,
                       at);
    }
    // One topic, then a partition count that cannot fit.
    frame_builder inner(0, 7);
    inner.i16(-1).i16(1).i32(1000).i32(1).str("t");
    const size_t at = inner.size();
    inner.i32(int32_max);
    expect_refused(inner, decode_errc::too_many_elements, at);

    // Flexible (v9): compact counts.
    frame_builder flex(0, 9);
    flex.uvarint(0).i16(1).i32(1000);
    const size_t fat = flex.size();
    flex.uvarint(0x7fffffff);
    expect_refused(flex, decode_errc::too_many_elements, fat);

    frame_builder flex_null(0, 9);
    flex_null.uvarint(0).i16(1).i32(1000);
    const size_t nat = flex_null.size();
    flex_null.uvarint(0); // null topic array: not nullable
    expect_refused(flex_null, decode_errc::invalid_length, nat);
}

TEST(hostile_requests, metadata_topic_counts_and_nullability) {
    for (const api_version v : {api_version{1}, api_version{4}, api_version{8}}) {
        frame_builder big(3, v);
        const size_t at = big.size();
        big.i32(int32_max);
        expect_refused(big, decode_errc::too_many_elements, at);

        frame_builder neg(3, v);
        neg.i32(int32_min);
        expect_refused(neg, decode_errc::invalid_length, at);
    }
    // v0: the topic array is not nullable (empty means all topics); v1+: null means all topics.
    frame_builder v0(3, 0);
    const size_t at = v0.size();
    v0.i32(-1);
    expect_refused(v0, decode_errc::invalid_length, at);

    frame_builder v1(3, 1);
    v1.i32(-1);
    auto r = decode(v1);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_FALSE(std::get<metadata_request>(r->body).topics.has_value());

    // A topic name of negative length other than -1.
    frame_builder name(3, 1);
    name.i32(1);
    const size_t nat = name.size();
    name.i16(-2);
    expect_refused(name, decode_errc::invalid_length, nat);
}

TEST(hostile_requests, join_group_protocol_counts) {
    for (const int32_t count : {int32_max, int32_min}) {
        frame_builder b(11, 0);
        b.str("group").i32(10000).str("").str("consumer");
        const size_t at = b.size();
        b.i32(count);
        expect_refused(b, count == int32_max ? decode_errc::too_many_elements : decode_errc::invalid_length,
                       at);
    }
    // v6 (flexible): compact strings and arrays.
    frame_builder flex(11, 6);
    flex.cstr("group").i32(10000).i32(30000).cstr("").uvarint(0).cstr("consumer");
    const size_t at = flex.size();
    flex.uvarint(0xfffffffe);
    expect_refused(flex, decode_errc::too_many_elements, at);

    // A null group id (compact length 0) is refused; a null group instance id is fine.
    frame_builder null_group(11, 6);
    const size_t gat = null_group.size();
    null_group.uvarint(0);
    expect_refused(null_group, decode_errc::invalid_length, gat);

    frame_builder ok(11, 6);
    ok.cstr("group").i32(10000).i32(30000).cstr("").uvarint(0).cstr("consumer");
    ok.uvarint(2).cstr("range").uvarint(1).uvarint(0); // one protocol, empty metadata, no tags
    ok.uvarint(0);                                     // no tags
    auto r = decode(ok);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    const auto& join = std::get<join_group_request>(r->body);
    EXPECT_EQ(join.group_id, "group");
    ASSERT_EQ(join.protocols.size(), 1U);
    EXPECT_EQ(join.protocols[0].name, "range");
}

TEST(hostile_requests, six_byte_varints_in_a_flexible_request) {
    frame_builder b(0, 9);
    b.uvarint(0).i16(1).i32(1000);
    const size_t at = b.size();
    b.raw({0x81, 0x80, 0x80, 0x80, 0x80, 0x00}); // topic count as a 6-byte varint
    expect_refused(b, decode_errc::invalid_varint, at);

    // In a tagged-field section: the count of tagged fields.
    frame_builder t(18, 3);
    t.cstr("librdkafka").cstr("2.0.2");
    const size_t tat = t.size();
    t.raw({0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
    expect_refused(t, decode_errc::invalid_varint, tat);
}

TEST(hostile_requests, negative_client_id_length_in_the_header) {
    // ApiVersions v0 (header v1) and v3 (header v2): the client id keeps its int16 length in both.
    for (const api_version v : {api_version{0}, api_version{3}}) {
        std::vector<std::byte> bytes = frame_builder(18, v).build().to_bytes();
        bytes[8] = std::byte{0xff}; // bytes 8-9: the client id length, written as -1 (null)
        bytes[9] = std::byte{0xfe}; // -2 is no length
        const iobuf frame = iobuf::copy_of(bytes);
        auto r = decode_request(frame);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, decode_errc::invalid_length);
        EXPECT_EQ(r.error().position, 8U);
    }
}

TEST(hostile_requests, unknown_api_and_unsupported_versions) {
    for (const int16_t key : {int16_t{4}, int16_t{-1}, int16_t{99}, int16_t{32767}, int16_t{-32768}}) {
        frame_builder b(key, 0);
        auto r = decode(b);
        ASSERT_FALSE(r.has_value()) << key;
        EXPECT_EQ(r.error().code, decode_errc::unknown_api) << key;
    }
    for (const api_info& api : api_table) {
        for (const api_version v :
             {static_cast<api_version>(api.max_version + 1), api_version{32767}, api_version{-1}}) {
            frame_builder b(api.key, v);
            auto r = decode(b);
            ASSERT_FALSE(r.has_value()) << api.name << " v" << v;
            EXPECT_EQ(r.error().code, decode_errc::unsupported_version) << api.name << " v" << v;
        }
        if (api.min_version > 0) {
            frame_builder b(api.key, static_cast<api_version>(api.min_version - 1));
            auto r = decode(b);
            ASSERT_FALSE(r.has_value());
            EXPECT_EQ(r.error().code, decode_errc::unsupported_version) << api.name;
        }
    }
    // Fewer than the 8 bytes every header starts with.
    for (size_t n = 0; n < 8; ++n) {
        const std::vector<std::byte> zeros(n);
        auto r = decode_request(iobuf::copy_of(zeros));
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, decode_errc::truncated);
    }
}

// ---------------------------------------------------------------------------------------------
// Random valid frames of every API and version, then damaged

// A valid request frame (without size prefix) in one contiguous piece.
iobuf random_frame(const api_info& api, api_version v, random_source& rnd, any_request* body_out = nullptr) {
    request_header h;
    h.request_api_key = api_key(api.key);
    h.request_api_version = v;
    h.correlation_id = static_cast<int32_t>(rnd.next());
    h.client_id = rnd.chance(4) ? std::nullopt : std::optional<std::string>(rnd.random_string());
    any_request body = random_request(api.key, v, rnd);
    iobuf framed;
    encode_request(h, body, framed);
    if (body_out != nullptr) {
        *body_out = std::move(body);
    }
    return framed.share(4, framed.size() - 4).copy();
}

iobuf reencode(const decoded_request& d) {
    iobuf framed;
    encode_request(d.header, d.body, framed);
    return framed.share(4, framed.size() - 4);
}

// What a frame can make the decoder allocate is proportional to the frame, whatever counts it
// carries. Every position of a valid frame of every API and version gets a count (int32, or
// varint in flexible versions) of filler-size / k, followed by the filler, for several k: so
// every array (and tagged-field section) meets the largest counts read_array_length lets through.
//
// The factor is what a decoded element costs in memory per byte it took on the wire (an empty
// Metadata topic: 2 bytes on the wire, ~56 in memory), times up to 2 for vector growth. Decoders
// reserve at most 64 elements ahead of the bytes that back them, so memory follows what was
// actually decoded, never the count a frame claims; the connection layer's request size limit
// bounds the rest.
TEST(hostile_frames, allocation_is_proportional_to_the_frame) {
    constexpr double max_factor = 64.0;
    constexpr size_t filler_size = 4096;
    seeded_random rnd(99);
    double worst = 0;
    std::string worst_case;
    for (const api_info& api : api_table) {
        for (api_version v = api.min_version; v <= api.max_version; ++v) {
            const std::vector<std::byte> base = random_frame(api, v, rnd).to_bytes();
            const bool flexible = request_header_version(api.key, v) >= 2;
            for (size_t at = 8; at < base.size(); ++at) {
                for (const unsigned filler : {0x00U, 0xffU}) {
                    for (const size_t k : {1U, 2U, 3U, 4U, 6U, 8U, 16U}) {
                        frame_builder b(base, at);
                        const auto count = static_cast<uint32_t>(filler_size / k);
                        if (flexible) {
                            b.uvarint(count + 1);
                        } else {
                            b.i32(static_cast<int32_t>(count));
                        }
                        b.fill(filler_size, filler);
                        const iobuf frame = b.build();
                        std::optional<decode_result> r;
                        const allocation_stats a = allocations_of([&] { r.emplace(decode_request(frame)); });
                        const double factor =
                          static_cast<double>(a.total) / static_cast<double>(frame.size());
                        if (factor > worst) {
                            worst = factor;
                            worst_case =
                              fmt::format("{} v{}: count {} at byte {}, filler {:#x}: {} bytes allocated "
                                          "for a {}-byte frame",
                                          api.name, v, count, at, filler, a.total, frame.size());
                        }
                    }
                }
            }
        }
    }
    EXPECT_LE(worst, max_factor) << worst_case;
}

TEST(hostile_frames, every_truncation_of_every_request_fails) {
    size_t frames = 0;
    size_t prefixes = 0;
    for (const api_info& api : api_table) {
        for (api_version v = api.min_version; v <= api.max_version; ++v) {
            for (uint64_t seed = 1; seed <= 3; ++seed) {
                seeded_random rnd(seed * 1000 + static_cast<uint64_t>(api.key) * 50 +
                                  static_cast<uint64_t>(v));
                const iobuf frame = random_frame(api, v, rnd);
                auto whole = decode_request(frame);
                ASSERT_TRUE(whole.has_value()) << api.name << " v" << v << ": " << describe(whole.error());
                ++frames;
                for (size_t len = 0; len < frame.size(); ++len) {
                    auto r = decode_request(frame.share(0, len));
                    ASSERT_FALSE(r.has_value()) << api.name << " v" << v << " decoded its first " << len
                                                << " of " << frame.size() << " bytes";
                    const decode_errc c = r.error().code;
                    EXPECT_TRUE(c == decode_errc::truncated || c == decode_errc::too_many_elements)
                      << api.name << " v" << v << " cut at " << len << ": " << describe(r.error());
                    EXPECT_LE(r.error().position, len);
                    ++prefixes;
                }
            }
        }
    }
    EXPECT_GT(frames, 100U);
    EXPECT_GT(prefixes, frames * 20);
}

TEST(hostile_frames, random_byte_flips_decode_or_fail_cleanly) {
    size_t decoded = 0;
    size_t refused = 0;
    for (const api_info& api : api_table) {
        for (api_version v = api.min_version; v <= api.max_version; ++v) {
            seeded_random rnd(0xf1195 + static_cast<uint64_t>(api.key) * 100 + static_cast<uint64_t>(v));
            for (int round = 0; round < 64; ++round) {
                std::vector<std::byte> bytes = random_frame(api, v, rnd).to_bytes();
                const size_t flips = 1 + rnd.below(4);
                for (size_t i = 0; i < flips; ++i) {
                    // Anywhere, the header included; some flips saturate a byte, which hits
                    // lengths and counts harder than a single bit does.
                    const size_t at = rnd.below(bytes.size());
                    bytes[at] ^= static_cast<std::byte>(1U << rnd.below(8));
                    if (rnd.chance(4)) {
                        bytes[at] = static_cast<std::byte>(rnd.chance(2) ? 0xff : 0x80);
                    }
                }
                const iobuf damaged = iobuf::copy_of(bytes);
                auto r = decode_request(damaged);
                if (!r) {
                    EXPECT_LE(r.error().position, bytes.size());
                    ++refused;
                    continue;
                }
                ++decoded;
                // Whatever decodes must survive encode -> decode unchanged.
                auto again = decode_request(reencode(*r).copy());
                ASSERT_TRUE(again.has_value()) << api.name << " v" << v << ": " << describe(again.error());
                EXPECT_TRUE(again->header == r->header) << api.name << " v" << v;
                EXPECT_TRUE(again->body == r->body) << api.name << " v" << v;
            }
        }
    }
    // Both outcomes happen: flips in plain integers decode, flips in lengths mostly do not.
    EXPECT_GT(decoded, 100U);
    EXPECT_GT(refused, 100U);
}

TEST(hostile_frames, fragmented_frames_decode_like_contiguous_ones) {
    seeded_random rnd(7);
    for (const api_info& api : api_table) {
        for (api_version v = api.min_version; v <= api.max_version; ++v) {
            any_request body;
            const iobuf frame = random_frame(api, v, rnd, &body);
            const std::vector<std::byte> bytes = frame.to_bytes();
            const size_t cut = 1 + rnd.below(bytes.size() - 1);
            iobuf two = iobuf::copy_of(std::span<const std::byte>(bytes).first(cut));
            two.append(iobuf::copy_of(std::span<const std::byte>(bytes).subspan(cut)));
            ASSERT_EQ(two.piece_count(), 2U);
            auto r = decode_request(two);
            ASSERT_TRUE(r.has_value()) << api.name << " v" << v << ": " << describe(r.error());
            EXPECT_TRUE(r->body == body) << api.name << " v" << v;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Records stay in the frame's bytes

const std::vector<std::byte>& fake_batch() {
    static const std::vector<std::byte> batch = [] {
        std::vector<std::byte> b(61);
        for (size_t i = 0; i < b.size(); ++i) {
            b[i] = static_cast<std::byte>(0xa0 + i);
        }
        return b;
    }();
    return batch;
}

TEST(hostile_requests, produce_records_share_the_frame) {
    for (const api_version v : {api_version{3}, api_version{7}, api_version{9}}) {
        const bool flexible = v >= 9;
        frame_builder b(0, v);
        if (flexible) {
            b.uvarint(0).i16(-1).i32(1000).uvarint(2).cstr("topic").uvarint(2).i32(0);
            b.uvarint(static_cast<uint32_t>(fake_batch().size() + 1));
        } else {
            b.i16(-1).i16(-1).i32(1000).i32(1).str("topic").i32(1).i32(0);
            b.i32(static_cast<int32_t>(fake_batch().size()));
        }
        const size_t records_at = b.size();
        for (const std::byte x : fake_batch()) {
            b.raw({std::to_integer<unsigned>(x)});
        }
        if (flexible) {
            b.uvarint(0).uvarint(0).uvarint(0); // partition, topic and request tagged fields
        }
        const iobuf frame = b.build();
        ASSERT_EQ(frame.piece_count(), 1U);
        const std::span<const std::byte> frame_bytes = frame.piece_bytes(0);

        auto r = decode_request(frame);
        ASSERT_TRUE(r.has_value()) << "v" << v << ": " << describe(r.error());
        const auto& produce = std::get<produce_request>(r->body);
        ASSERT_EQ(produce.topic_data.size(), 1U);
        ASSERT_EQ(produce.topic_data[0].partition_data.size(), 1U);
        const std::optional<iobuf>& records = produce.topic_data[0].partition_data[0].records;
        ASSERT_TRUE(records.has_value());
        EXPECT_EQ(records->to_bytes(), fake_batch());
        // Zero-copy: one piece, pointing at the batch's bytes inside the frame's fragment.
        ASSERT_EQ(records->piece_count(), 1U);
        EXPECT_EQ(records->piece_bytes(0).data(), frame_bytes.data() + records_at) << "v" << v;
    }
}

} // namespace
} // namespace ms::protocol
