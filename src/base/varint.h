#pragma once

// Kafka variable-length integers.
//
// Seven value bits per byte, least significant group first; the top bit of a byte says that
// another byte follows:
//
//   300 = 0b10'0101100  ->  | 1 0101100 | 0 0000010 |  = AC 02
//         ^^ second byte     ^ more      ^ last
//
// - varint / varlong (record and header fields, KIP-98): a signed int32 / int64 is first zigzag
//   mapped (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...) so small magnitudes of either sign stay short.
//   At most 5 / 10 bytes.
// - unsigned varint (lengths and tagged fields of flexible versions, KIP-482): a uint32 as is.
//   At most 5 bytes.
//
// Decoders never read outside `in`, have no undefined behaviour on any input, and:
// - accept non-minimal encodings within the maximum length (e.g. 80 00 for 0), as Kafka does;
// - report `truncated` when `in` ends before the last byte (more input may complete it);
// - report `overlong` when the encoding runs past the maximum length, or its last permitted byte
//   sets bits beyond the type's width (e.g. a 5th varint byte above 0x0F). No amount of further
//   input makes such bytes valid.
// On success `size` is the number of bytes consumed.
//
// Everything here is header-only so that per-record encoding and decoding inline into callers.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "base/result.h"

namespace ms {

inline constexpr size_t max_varint_size = 5;
inline constexpr size_t max_varlong_size = 10;
inline constexpr size_t max_unsigned_varint_size = 5;

enum class varint_errc {
    truncated,
    overlong,
};

constexpr const char* to_string(varint_errc e) noexcept {
    switch (e) {
    case varint_errc::truncated: return "truncated varint";
    case varint_errc::overlong: return "overlong varint";
    }
    return "unknown varint error";
}

template<typename T>
struct decoded {
    T value;
    size_t size; // bytes consumed
};

constexpr uint32_t zigzag_encode32(int32_t v) noexcept {
    return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}

constexpr uint64_t zigzag_encode64(int64_t v) noexcept {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

constexpr int32_t zigzag_decode32(uint32_t u) noexcept {
    return static_cast<int32_t>((u >> 1) ^ (0U - (u & 1U)));
}

constexpr int64_t zigzag_decode64(uint64_t u) noexcept {
    return static_cast<int64_t>((u >> 1) ^ (uint64_t{0} - (u & 1U)));
}

namespace varint_detail {

template<typename U>
constexpr size_t encode(U v, std::byte* out) noexcept {
    size_t n = 0;
    while (v >= 0x80U) {
        out[n++] = static_cast<std::byte>((v & 0x7FU) | 0x80U);
        v >>= 7;
    }
    out[n++] = static_cast<std::byte>(v);
    return n;
}

template<typename U>
constexpr size_t encoded_size(U v) noexcept {
    const size_t bits = std::bit_width(v | 1U);
    return (bits + 6) / 7;
}

template<typename U, size_t MaxBytes>
inline result<decoded<U>, varint_errc> decode(std::span<const std::byte> in) noexcept {
    // Value bits the last permitted byte may carry: 4 for 32-bit types, 1 for 64-bit ones.
    constexpr size_t last_byte_bits = std::numeric_limits<U>::digits - 7 * (MaxBytes - 1);
    static_assert(last_byte_bits > 0 && last_byte_bits <= 7);

    U value = 0;
    const size_t n = in.size() < MaxBytes ? in.size() : MaxBytes;
    for (size_t i = 0; i < n; ++i) {
        const U b = std::to_integer<U>(in[i]);
        // Also catches a continuation bit on the last permitted byte.
        if (i == MaxBytes - 1 && (b >> last_byte_bits) != 0) {
            return unexpected(varint_errc::overlong);
        }
        value |= (b & 0x7FU) << (7 * i);
        if ((b & 0x80U) == 0) {
            return decoded<U>{value, i + 1};
        }
    }
    // Only reachable when `in` ran out before MaxBytes bytes.
    return unexpected(varint_errc::truncated);
}

} // namespace varint_detail

// REQUIRES: `out` has room for max_varint_size bytes. Returns the bytes written.
constexpr size_t encode_varint(int32_t v, std::byte* out) noexcept {
    return varint_detail::encode(zigzag_encode32(v), out);
}

// REQUIRES: `out` has room for max_varlong_size bytes. Returns the bytes written.
constexpr size_t encode_varlong(int64_t v, std::byte* out) noexcept {
    return varint_detail::encode(zigzag_encode64(v), out);
}

// REQUIRES: `out` has room for max_unsigned_varint_size bytes. Returns the bytes written.
constexpr size_t encode_unsigned_varint(uint32_t v, std::byte* out) noexcept {
    return varint_detail::encode(v, out);
}

constexpr size_t varint_size(int32_t v) noexcept {
    return varint_detail::encoded_size(zigzag_encode32(v));
}

constexpr size_t varlong_size(int64_t v) noexcept {
    return varint_detail::encoded_size(zigzag_encode64(v));
}

constexpr size_t unsigned_varint_size(uint32_t v) noexcept {
    return varint_detail::encoded_size(v);
}

inline result<decoded<int32_t>, varint_errc> decode_varint(std::span<const std::byte> in) noexcept {
    auto r = varint_detail::decode<uint32_t, max_varint_size>(in);
    if (!r) {
        return unexpected(r.error());
    }
    return decoded<int32_t>{zigzag_decode32(r->value), r->size};
}

inline result<decoded<int64_t>, varint_errc> decode_varlong(std::span<const std::byte> in) noexcept {
    auto r = varint_detail::decode<uint64_t, max_varlong_size>(in);
    if (!r) {
        return unexpected(r.error());
    }
    return decoded<int64_t>{zigzag_decode64(r->value), r->size};
}

inline result<decoded<uint32_t>, varint_errc> decode_unsigned_varint(std::span<const std::byte> in) noexcept {
    return varint_detail::decode<uint32_t, max_unsigned_varint_size>(in);
}

} // namespace ms
