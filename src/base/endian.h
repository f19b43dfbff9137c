#pragma once

// Big-endian (network order) loads and stores of fixed-width integers at unaligned addresses.
// The Kafka protocol and the record batch format are big-endian throughout.

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ms {

template<std::integral T>
[[nodiscard]] constexpr T byteswap(T v) noexcept {
    using unsigned_type = std::make_unsigned_t<T>;
    [[maybe_unused]] auto u = static_cast<unsigned_type>(v);
    if constexpr (sizeof(T) == 1) {
        return v;
    } else if constexpr (sizeof(T) == 2) {
        return static_cast<T>(__builtin_bswap16(u));
    } else if constexpr (sizeof(T) == 4) {
        return static_cast<T>(__builtin_bswap32(u));
    } else {
        static_assert(sizeof(T) == 8);
        return static_cast<T>(__builtin_bswap64(u));
    }
}

template<std::integral T>
[[nodiscard]] inline T load_be(const std::byte* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof(T));
    if constexpr (std::endian::native == std::endian::little) {
        v = byteswap(v);
    }
    return v;
}

template<std::integral T>
inline void store_be(std::byte* p, T v) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        v = byteswap(v);
    }
    std::memcpy(p, &v, sizeof(T));
}

} // namespace ms
