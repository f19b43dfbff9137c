#include "base/crc32c.h"

#include <array>
#include <atomic>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ms {

namespace {

// Reflected form of the Castagnoli polynomial 0x1EDC6F41.
constexpr uint32_t castagnoli = 0x82F63B78;

// Advances the reflected register by one bit (the data bit already XORed into bit 0).
constexpr uint32_t step_bit(uint32_t crc) noexcept {
    return (crc >> 1) ^ (castagnoli & (0U - (crc & 1U)));
}

// tables[k][b]: the register contribution of byte b followed by k zero bytes. tables[0] is the
// classic byte-at-a-time table; slicing-by-8 needs all eight so that a whole 64-bit word can be
// folded in with eight independent lookups.
using byte_tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr byte_tables make_byte_tables() noexcept {
    byte_tables t{};
    for (uint32_t b = 0; b < 256; ++b) {
        uint32_t crc = b;
        for (int bit = 0; bit < 8; ++bit) {
            crc = step_bit(crc);
        }
        t[0][b] = crc;
    }
    for (size_t k = 1; k < t.size(); ++k) {
        for (size_t b = 0; b < 256; ++b) {
            t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFU];
        }
    }
    return t;
}

constexpr byte_tables tables = make_byte_tables();

// A linear map over GF(2) on the 32-bit CRC register: entry i is the image of bit i.
using gf2_matrix = std::array<uint32_t, 32>;

constexpr uint32_t gf2_apply(const gf2_matrix& m, uint32_t v) noexcept {
    uint32_t r = 0;
    for (size_t i = 0; v != 0; ++i, v >>= 1) {
        if ((v & 1U) != 0) {
            r ^= m[i];
        }
    }
    return r;
}

// a after b.
constexpr gf2_matrix gf2_compose(const gf2_matrix& a, const gf2_matrix& b) noexcept {
    gf2_matrix r{};
    for (size_t i = 0; i < r.size(); ++i) {
        r[i] = gf2_apply(a, b[i]);
    }
    return r;
}

// The change of the register caused by feeding it `n` zero bytes, by repeated squaring of the
// one-zero-bit map.
constexpr gf2_matrix zero_bytes_operator(size_t n) noexcept {
    gf2_matrix op{};
    op[0] = castagnoli;
    for (size_t i = 1; i < op.size(); ++i) {
        op[i] = uint32_t{1} << (i - 1);
    }
    for (int i = 0; i < 3; ++i) {
        op = gf2_compose(op, op);
    }
    gf2_matrix result{};
    for (size_t i = 0; i < result.size(); ++i) {
        result[i] = uint32_t{1} << i;
    }
    for (; n != 0; n >>= 1) {
        if ((n & 1U) != 0) {
            result = gf2_compose(op, result);
        }
        op = gf2_compose(op, op);
    }
    return result;
}

// The zero-bytes operator split by register byte, so applying it costs four lookups instead of up
// to 32 conditional XORs.
using shift_table = std::array<std::array<uint32_t, 256>, 4>;

constexpr shift_table make_shift_table(size_t zero_bytes) noexcept {
    const gf2_matrix op = zero_bytes_operator(zero_bytes);
    shift_table t{};
    for (size_t k = 0; k < t.size(); ++k) {
        for (uint32_t b = 0; b < 256; ++b) {
            t[k][b] = gf2_apply(op, b << (8 * k));
        }
    }
    return t;
}

constexpr uint32_t shift(const shift_table& t, uint32_t crc) noexcept {
    return t[0][crc & 0xFFU] ^ t[1][(crc >> 8) & 0xFFU] ^ t[2][(crc >> 16) & 0xFFU] ^ t[3][crc >> 24];
}

// Lane sizes of the interleaved hardware loop. The long lane makes the combine cost (two shifts)
// negligible on big buffers; the short lane keeps three streams busy down to 768 bytes.
constexpr size_t long_lane = 8192;
constexpr size_t short_lane = 256;

// Computed at compile time rather than at startup: no start-up cost and nothing that another
// file's static initialiser could observe half-built.
constexpr shift_table long_shift = make_shift_table(long_lane);
constexpr shift_table short_shift = make_shift_table(short_lane);

uint64_t load_le64(const unsigned char* p) noexcept {
    uint64_t v = 0;
    std::memcpy(&v, p, sizeof(v));
    if constexpr (std::endian::native == std::endian::big) {
        v = __builtin_bswap64(v);
    }
    return v;
}

uint32_t step_byte(uint32_t crc, unsigned char b) noexcept {
    return tables[0][(crc ^ b) & 0xFFU] ^ (crc >> 8);
}

#if defined(__x86_64__)

// Feeds 3 * Lane bytes at `p` into the raw (uninverted) register `crc` as three independent
// streams, so that three crc32 instructions are in flight at once (latency 3 cycles, throughput 1
// per cycle), then joins them. The register is linear in its start value, so with streams B and C
// started from zero: crc(A B C) = shift(shift(crc(A)) ^ crc(B)) ^ crc(C).
template<size_t Lane>
__attribute__((target("sse4.2"), always_inline)) inline uint64_t
three_lanes(uint64_t crc, const unsigned char* p, const shift_table& lane_shift) noexcept {
    uint64_t crc1 = 0;
    uint64_t crc2 = 0;
    const unsigned char* const end = p + Lane;
    do {
        crc = _mm_crc32_u64(crc, load_le64(p));
        crc1 = _mm_crc32_u64(crc1, load_le64(p + Lane));
        crc2 = _mm_crc32_u64(crc2, load_le64(p + 2 * Lane));
        p += 8;
    } while (p < end);
    crc = shift(lane_shift, static_cast<uint32_t>(crc)) ^ crc1;
    return shift(lane_shift, static_cast<uint32_t>(crc)) ^ crc2;
}

#endif

using extend_fn = uint32_t (*)(uint32_t, const void*, size_t) noexcept;

uint32_t extend_first_call(uint32_t crc, const void* data, size_t size) noexcept;

// Constant-initialised, so crc32c() works even when called from another file's static
// initialiser; the first call replaces it with the best implementation for this CPU. Relaxed
// ordering is enough: racing first calls all store the same value.
constinit std::atomic<extend_fn> extend_impl{&extend_first_call};

struct implementation {
    const char* name;
    extend_fn extend;
};

// The fastest implementation this CPU runs: what crc32c() dispatches to and
// crc32c_implementation() names.
implementation best_implementation() noexcept {
    if (crc32c_detail::cpu_has_vpclmul()) {
        return {"vpclmulqdq-avx512", &crc32c_detail::extend_vpclmul};
    }
    if (crc32c_detail::cpu_has_vpclmul_avx2()) {
        return {"vpclmulqdq-avx2", &crc32c_detail::extend_vpclmul_avx2};
    }
    if (crc32c_detail::cpu_has_sse42()) {
        return {"sse4.2", &crc32c_detail::extend_sse42};
    }
    return {"portable", &crc32c_detail::extend_portable};
}

uint32_t extend_first_call(uint32_t crc, const void* data, size_t size) noexcept {
    const extend_fn best = best_implementation().extend;
    extend_impl.store(best, std::memory_order_relaxed);
    return best(crc, data, size);
}

} // namespace

namespace crc32c_detail {

uint32_t extend_bitwise(uint32_t crc, const void* data, size_t size) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (size_t i = 0; i < size; ++i) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; ++bit) {
            crc = step_bit(crc);
        }
    }
    return ~crc;
}

uint32_t extend_table(uint32_t crc, const void* data, size_t size) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (size_t i = 0; i < size; ++i) {
        crc = step_byte(crc, p[i]);
    }
    return ~crc;
}

uint32_t extend_portable(uint32_t crc, const void* data, size_t size) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    // Aligned word loads are cheaper on some targets; on x86 this costs at most 7 byte steps.
    while (size != 0 && (reinterpret_cast<uintptr_t>(p) & 7U) != 0) {
        crc = step_byte(crc, *p++);
        --size;
    }
    const auto& t = tables;
    for (; size >= 8; p += 8, size -= 8) {
        const uint64_t w = load_le64(p) ^ crc;
        crc = t[7][w & 0xFFU] ^ t[6][(w >> 8) & 0xFFU] ^ t[5][(w >> 16) & 0xFFU] ^ t[4][(w >> 24) & 0xFFU] ^
              t[3][(w >> 32) & 0xFFU] ^ t[2][(w >> 40) & 0xFFU] ^ t[1][(w >> 48) & 0xFFU] ^ t[0][w >> 56];
    }
    for (; size != 0; --size) {
        crc = step_byte(crc, *p++);
    }
    return ~crc;
}

#if defined(__x86_64__)

__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const void* data,
                                                        size_t size) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    uint64_t c = ~crc;
    while (size != 0 && (reinterpret_cast<uintptr_t>(p) & 7U) != 0) {
        c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
        --size;
    }
    for (; size >= 3 * long_lane; p += 3 * long_lane, size -= 3 * long_lane) {
        c = three_lanes<long_lane>(c, p, long_shift);
    }
    for (; size >= 3 * short_lane; p += 3 * short_lane, size -= 3 * short_lane) {
        c = three_lanes<short_lane>(c, p, short_shift);
    }
    for (; size >= 8; p += 8, size -= 8) {
        c = _mm_crc32_u64(c, load_le64(p));
    }
    for (; size != 0; --size) {
        c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    }
    return ~static_cast<uint32_t>(c);
}

bool cpu_has_sse42() noexcept {
    // Needed when this runs from a static initialiser ahead of libgcc's own CPU probe.
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
}

#else

// No crc32 instruction on this architecture; cpu_has_sse42() is false, so this is never chosen
// by crc32c(), but it keeps the same contract for callers that ignore the REQUIRES.
uint32_t extend_sse42(uint32_t crc, const void* data, size_t size) noexcept {
    return extend_portable(crc, data, size);
}

bool cpu_has_sse42() noexcept {
    return false;
}

#endif

} // namespace crc32c_detail

uint32_t crc32c(uint32_t crc, const void* data, size_t size) noexcept {
    return extend_impl.load(std::memory_order_relaxed)(crc, data, size);
}

const char* crc32c_implementation() noexcept {
    return best_implementation().name;
}

} // namespace ms
