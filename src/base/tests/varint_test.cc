#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/varint.h"

namespace ms {
namespace {

static_assert(zigzag_encode32(0) == 0 && zigzag_encode32(-1) == 1 && zigzag_encode32(1) == 2);
static_assert(zigzag_encode32(std::numeric_limits<int32_t>::min()) == 0xFFFFFFFFU);
static_assert(zigzag_encode64(std::numeric_limits<int64_t>::max()) == 0xFFFFFFFFFFFFFFFEULL);
static_assert(zigzag_decode32(0xFFFFFFFFU) == std::numeric_limits<int32_t>::min());
static_assert(zigzag_decode64(0xFFFFFFFFFFFFFFFFULL) == std::numeric_limits<int64_t>::min());
static_assert(varint_size(-64) == 1 && varint_size(64) == 2);

std::vector<std::byte> bytes(std::initializer_list<unsigned> values) {
    std::vector<std::byte> out;
    for (const unsigned v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

std::vector<std::byte> to_bytes(const std::vector<uint8_t>& values) {
    std::vector<std::byte> out;
    out.reserve(values.size());
    for (const uint8_t v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

// The error of a failed decode, or nullopt on success: lets a wrong success fail the expectation
// instead of tripping result's assert.
template<typename R>
std::optional<varint_errc> error_of(const R& r) {
    if (r.has_value()) {
        return std::nullopt;
    }
    return r.error();
}

template<typename T>
struct kind;

template<>
struct kind<int32_t> {
    static constexpr size_t max_size = max_varint_size;
    static size_t encode(int32_t v, std::byte* out) { return encode_varint(v, out); }
    static size_t size(int32_t v) { return varint_size(v); }
    static auto decode(std::span<const std::byte> in) { return decode_varint(in); }
};

template<>
struct kind<int64_t> {
    static constexpr size_t max_size = max_varlong_size;
    static size_t encode(int64_t v, std::byte* out) { return encode_varlong(v, out); }
    static size_t size(int64_t v) { return varlong_size(v); }
    static auto decode(std::span<const std::byte> in) { return decode_varlong(in); }
};

template<>
struct kind<uint32_t> {
    static constexpr size_t max_size = max_unsigned_varint_size;
    static size_t encode(uint32_t v, std::byte* out) { return encode_unsigned_varint(v, out); }
    static size_t size(uint32_t v) { return unsigned_varint_size(v); }
    static auto decode(std::span<const std::byte> in) { return decode_unsigned_varint(in); }
};

template<typename T>
std::vector<std::byte> encode(T v) {
    std::array<std::byte, kind<T>::max_size> buf{};
    const size_t n = kind<T>::encode(v, buf.data());
    return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

template<typename T>
void expect_encoding(T v, const std::vector<std::byte>& expected) {
    SCOPED_TRACE(testing::Message() << "value " << v);
    EXPECT_EQ(encode(v), expected);
    EXPECT_EQ(kind<T>::size(v), expected.size());
    const auto decoded = kind<T>::decode(expected);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->value, v);
    EXPECT_EQ(decoded->size, expected.size());
}

TEST(varint, known_varint_encodings) {
    expect_encoding<int32_t>(0, bytes({0x00}));
    expect_encoding<int32_t>(-1, bytes({0x01}));
    expect_encoding<int32_t>(1, bytes({0x02}));
    expect_encoding<int32_t>(63, bytes({0x7E}));
    expect_encoding<int32_t>(-64, bytes({0x7F}));
    expect_encoding<int32_t>(64, bytes({0x80, 0x01}));
    expect_encoding<int32_t>(-65, bytes({0x81, 0x01}));
    expect_encoding<int32_t>(150, bytes({0xAC, 0x02}));
    expect_encoding<int32_t>(std::numeric_limits<int32_t>::max(), bytes({0xFE, 0xFF, 0xFF, 0xFF, 0x0F}));
    expect_encoding<int32_t>(std::numeric_limits<int32_t>::min(), bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
}

TEST(varint, known_varlong_encodings) {
    expect_encoding<int64_t>(0, bytes({0x00}));
    expect_encoding<int64_t>(-1, bytes({0x01}));
    expect_encoding<int64_t>(1, bytes({0x02}));
    expect_encoding<int64_t>(64, bytes({0x80, 0x01}));
    expect_encoding<int64_t>(std::numeric_limits<int32_t>::min(), bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
    expect_encoding<int64_t>(int64_t{1} << 31, bytes({0x80, 0x80, 0x80, 0x80, 0x10}));
    expect_encoding<int64_t>(std::numeric_limits<int64_t>::max(),
                             bytes({0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
    expect_encoding<int64_t>(std::numeric_limits<int64_t>::min(),
                             bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
}

TEST(varint, known_unsigned_varint_encodings) {
    expect_encoding<uint32_t>(0, bytes({0x00}));
    expect_encoding<uint32_t>(1, bytes({0x01}));
    expect_encoding<uint32_t>(127, bytes({0x7F}));
    expect_encoding<uint32_t>(128, bytes({0x80, 0x01}));
    expect_encoding<uint32_t>(300, bytes({0xAC, 0x02}));
    expect_encoding<uint32_t>(std::numeric_limits<uint32_t>::max(), bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
}

TEST(varint, decoding_stops_at_the_last_byte) {
    const auto in = bytes({0xAC, 0x02, 0xFF, 0xFF});
    const auto r = decode_unsigned_varint(in);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->value, 300U);
    EXPECT_EQ(r->size, 2U);
}

TEST(varint, non_minimal_encodings_are_accepted) {
    // Kafka's decoders accept these; rejecting them would refuse batches Java clients accept.
    const auto zero = decode_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x00}));
    ASSERT_TRUE(zero.has_value());
    EXPECT_EQ(zero->value, 0);
    EXPECT_EQ(zero->size, 5U);
    const auto one = decode_varlong(bytes({0x82, 0x80, 0x00}));
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->value, 1);
    EXPECT_EQ(one->size, 3U);
}

TEST(varint, empty_input_is_truncated) {
    EXPECT_EQ(error_of(decode_varint({})), varint_errc::truncated);
    EXPECT_EQ(error_of(decode_varlong({})), varint_errc::truncated);
    EXPECT_EQ(error_of(decode_unsigned_varint({})), varint_errc::truncated);
}

TEST(varint, bits_beyond_32_are_overlong) {
    // 0x0F is the largest 5th byte; 0x10 would be bit 32.
    EXPECT_TRUE(decode_varint(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x0F})).has_value());
    for (unsigned last = 0x10; last <= 0xFF; ++last) {
        SCOPED_TRACE(last);
        const auto in = bytes({0xFF, 0xFF, 0xFF, 0xFF, last, 0x00});
        EXPECT_EQ(error_of(decode_varint(in)), varint_errc::overlong);
        EXPECT_EQ(error_of(decode_unsigned_varint(in)), varint_errc::overlong);
    }
}

TEST(varint, bits_beyond_64_are_overlong) {
    // 0x01 is the largest 10th byte; 0x02 would be bit 64.
    auto in = bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
    EXPECT_TRUE(decode_varlong(in).has_value());
    for (unsigned last = 0x02; last <= 0xFF; ++last) {
        SCOPED_TRACE(last);
        in.back() = static_cast<std::byte>(last);
        EXPECT_EQ(error_of(decode_varlong(in)), varint_errc::overlong);
    }
}

TEST(varint, too_many_bytes_is_overlong_not_truncated) {
    // Even when the input stops right at the maximum length: more bytes cannot make it valid.
    EXPECT_EQ(error_of(decode_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x80}))), varint_errc::overlong);
    EXPECT_EQ(error_of(decode_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x00}))), varint_errc::overlong);
    EXPECT_EQ(error_of(decode_unsigned_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x00}))),
              varint_errc::overlong);
    const std::vector<std::byte> ten_continuations(10, std::byte{0x80});
    EXPECT_EQ(error_of(decode_varlong(ten_continuations)), varint_errc::overlong);
}

template<typename T>
void check_round_trip(T v, const std::vector<uint8_t>& trailing) {
    auto encoded = encode(v);
    const size_t size = encoded.size();
    RC_ASSERT(size == kind<T>::size(v));
    RC_ASSERT(size >= 1U && size <= kind<T>::max_size);
    // Whatever follows the varint must not be consumed.
    for (const uint8_t b : trailing) {
        encoded.push_back(static_cast<std::byte>(b));
    }
    const auto decoded = kind<T>::decode(encoded);
    RC_ASSERT(decoded.has_value());
    RC_ASSERT(decoded->value == v);
    RC_ASSERT(decoded->size == size);
}

RC_GTEST_PROP(varint, varint_round_trips, (int32_t v, const std::vector<uint8_t>& trailing)) {
    check_round_trip(v, trailing);
}

RC_GTEST_PROP(varint, varlong_round_trips, (int64_t v, const std::vector<uint8_t>& trailing)) {
    check_round_trip(v, trailing);
}

RC_GTEST_PROP(varint, unsigned_varint_round_trips, (uint32_t v, const std::vector<uint8_t>& trailing)) {
    check_round_trip(v, trailing);
}

template<typename T>
void check_truncations(T v) {
    const auto encoded = encode(v);
    for (size_t n = 0; n < encoded.size(); ++n) {
        const auto r = kind<T>::decode(std::span(encoded).first(n));
        RC_ASSERT(!r.has_value());
        RC_ASSERT(r.error() == varint_errc::truncated);
    }
}

RC_GTEST_PROP(varint, every_truncated_varint_is_truncated, (int32_t v)) {
    check_truncations(v);
}

RC_GTEST_PROP(varint, every_truncated_varlong_is_truncated, (int64_t v)) {
    check_truncations(v);
}

RC_GTEST_PROP(varint, every_truncated_unsigned_varint_is_truncated, (uint32_t v)) {
    check_truncations(v);
}

// An independent statement of the format: bit j of byte i is value bit 7 * i + j; any set bit at
// or beyond `width` is overlong, as is running out of permitted bytes.
struct expected_decode {
    bool ok;
    uint64_t value; // raw (before zigzag)
    size_t size;
    varint_errc error;
};

expected_decode reference_decode(const std::vector<std::byte>& in, size_t width, size_t max_bytes) {
    uint64_t value = 0;
    for (size_t i = 0; i < max_bytes; ++i) {
        if (i == in.size()) {
            return {false, 0, 0, varint_errc::truncated};
        }
        const auto b = std::to_integer<unsigned>(in[i]);
        for (size_t j = 0; j < 7; ++j) {
            if (((b >> j) & 1U) == 0) {
                continue;
            }
            if (7 * i + j >= width) {
                return {false, 0, 0, varint_errc::overlong};
            }
            value |= uint64_t{1} << (7 * i + j);
        }
        if ((b & 0x80U) == 0) {
            return {true, value, i + 1, varint_errc::truncated};
        }
    }
    return {false, 0, 0, varint_errc::overlong};
}

// Bytes biased towards the interesting ones: continuation bits set, and last-byte boundaries.
rc::Gen<std::vector<uint8_t>> hostile_bytes() {
    return rc::gen::container<std::vector<uint8_t>>(rc::gen::oneOf(
      rc::gen::arbitrary<uint8_t>(),
      rc::gen::map(rc::gen::arbitrary<uint8_t>(), [](uint8_t b) { return static_cast<uint8_t>(b | 0x80U); }),
      rc::gen::elementOf(std::vector<uint8_t>{0x00, 0x01, 0x02, 0x0F, 0x10, 0x7F, 0x80, 0xFF})));
}

template<typename R>
void check_against_reference(const R& r, const expected_decode& expected) {
    RC_ASSERT(r.has_value() == expected.ok);
    if (expected.ok) {
        RC_ASSERT(r->size == expected.size);
    } else {
        RC_ASSERT(r.error() == expected.error);
    }
}

RC_GTEST_PROP(varint, arbitrary_bytes_decode_as_the_reference_says, ()) {
    const auto in = to_bytes(*hostile_bytes());

    const auto as_varint = decode_varint(in);
    const auto expected32 = reference_decode(in, 32, max_varint_size);
    check_against_reference(as_varint, expected32);
    if (expected32.ok) {
        RC_ASSERT(as_varint->value == zigzag_decode32(static_cast<uint32_t>(expected32.value)));
    }

    const auto as_unsigned = decode_unsigned_varint(in);
    check_against_reference(as_unsigned, expected32);
    if (expected32.ok) {
        RC_ASSERT(as_unsigned->value == expected32.value);
    }

    const auto as_varlong = decode_varlong(in);
    const auto expected64 = reference_decode(in, 64, max_varlong_size);
    check_against_reference(as_varlong, expected64);
    if (expected64.ok) {
        RC_ASSERT(as_varlong->value == zigzag_decode64(expected64.value));
    }
}

} // namespace
} // namespace ms
