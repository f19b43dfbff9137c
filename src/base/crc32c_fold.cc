// CRC-32C by carry-less multiplication: the message is folded 256 bytes at a time into four
// 512-bit accumulators with VPCLMULQDQ (128 bytes into four 256-bit ones on CPUs without
// AVX-512), then into one 128-bit block whose CRC the crc32 instruction finishes. The crc32
// instruction alone retires 8 bytes per cycle at best; folding takes 16 multiplies per 256 bytes,
// several times fewer cycles per byte (bench/crc32c_bench.cc measures each).
//
// The algebra (bit-reflected, as Kafka's CRC is): a 16-byte block holds the coefficients of a
// degree-127 polynomial, degree d at bit 127 - d of the little-endian 128-bit value, so its first
// 8 bytes are the high half H and the last 8 the low half L. A block followed by n more bytes
// contributes (H x^64 + L) x^8n to the message, which is congruent modulo P to
// H (x^(8n+64) mod P) + L (x^8n mod P): two 64 x 32-bit carry-less products that fit in one
// block, to be XORed into the block n bytes later. A reflected 32-bit constant stored in bits
// 32-63 of a multiplier makes each product come out one degree high, so the constants are
// x^(8n+63) mod P and x^(8n-1) mod P.

#include <cstddef>
#include <cstdint>

#include "base/crc32c.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ms::crc32c_detail {

#if defined(__x86_64__)

namespace {

// The Castagnoli polynomial without its x^32 term, not reflected.
constexpr uint32_t castagnoli_normal = 0x1EDC6F41;

// x^n mod P.
constexpr uint32_t x_power_mod(unsigned n) noexcept {
    uint32_t r = 1;
    for (unsigned i = 0; i < n; ++i) {
        const bool carry = (r & 0x80000000U) != 0;
        r <<= 1U;
        if (carry) {
            r ^= castagnoli_normal;
        }
    }
    return r;
}

constexpr uint32_t reflect32(uint32_t v) noexcept {
    uint32_t r = 0;
    for (int i = 0; i < 32; ++i) {
        r |= ((v >> i) & 1U) << (31 - i);
    }
    return r;
}

// The multiplier pair that folds a block over `bytes` bytes: for the high half in the low
// 64 bits, for the low half in the high 64 bits, as the lane layout of the products wants.
struct fold_constants {
    uint64_t for_high_half;
    uint64_t for_low_half;
};

constexpr fold_constants fold_over(unsigned bytes) noexcept {
    return {uint64_t{reflect32(x_power_mod(8 * bytes + 63))} << 32U,
            uint64_t{reflect32(x_power_mod(8 * bytes - 1))} << 32U};
}

constexpr size_t avx512_block_bytes = 256; // four 64-byte accumulators

// What both folds end with, for the 16-byte lanes of their last accumulator.
#define MS_CRC32C_BLOCK_TARGET "pclmul,sse4.2"

// `block` folded over `Bytes` bytes, to be XORed into the block there.
template<unsigned Bytes>
__attribute__((target(MS_CRC32C_BLOCK_TARGET), always_inline)) inline __m128i folded(__m128i block) noexcept {
    constexpr fold_constants k = fold_over(Bytes);
    const __m128i constants =
      _mm_set_epi64x(static_cast<int64_t>(k.for_low_half), static_cast<int64_t>(k.for_high_half));
    return _mm_xor_si128(_mm_clmulepi64_si128(block, constants, 0x00),
                         _mm_clmulepi64_si128(block, constants, 0x11));
}

// The CRC of everything folded into `block` (from a zero register, which is the CRC of all of
// it), extended over the `size` bytes at `rest` that did not fill a step.
__attribute__((target(MS_CRC32C_BLOCK_TARGET), always_inline)) inline uint32_t
finish(__m128i block, const unsigned char* rest, size_t size) noexcept {
    uint64_t reg = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(block)));
    reg = _mm_crc32_u64(reg, static_cast<uint64_t>(_mm_extract_epi64(block, 1)));
    return extend_sse42(~static_cast<uint32_t>(reg), rest, size);
}

#undef MS_CRC32C_BLOCK_TARGET

#define MS_CRC32C_FOLD_TARGET "avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2"

__attribute__((target(MS_CRC32C_FOLD_TARGET), always_inline)) inline __m512i
fold_into(__m512i acc, __m512i constants, __m512i next) noexcept {
    const __m512i high = _mm512_clmulepi64_epi128(acc, constants, 0x00);
    const __m512i low = _mm512_clmulepi64_epi128(acc, constants, 0x11);
    return _mm512_ternarylogic_epi64(high, low, next, 0x96); // high ^ low ^ next
}

template<unsigned Bytes>
__attribute__((target(MS_CRC32C_FOLD_TARGET), always_inline)) inline __m512i constants512() noexcept {
    constexpr fold_constants k = fold_over(Bytes);
    return _mm512_set_epi64(static_cast<int64_t>(k.for_low_half), static_cast<int64_t>(k.for_high_half),
                            static_cast<int64_t>(k.for_low_half), static_cast<int64_t>(k.for_high_half),
                            static_cast<int64_t>(k.for_low_half), static_cast<int64_t>(k.for_high_half),
                            static_cast<int64_t>(k.for_low_half), static_cast<int64_t>(k.for_high_half));
}

} // namespace

__attribute__((target(MS_CRC32C_FOLD_TARGET))) uint32_t extend_vpclmul(uint32_t crc, const void* data,
                                                                       size_t size) noexcept {
    // Below one block there is nothing to fold (at one block, folding is already 2x faster).
    if (size < avx512_block_bytes) {
        return extend_sse42(crc, data, size);
    }
    const auto* p = static_cast<const unsigned char*>(data);
    __m512i acc0 = _mm512_loadu_si512(p);
    __m512i acc1 = _mm512_loadu_si512(p + 64);
    __m512i acc2 = _mm512_loadu_si512(p + 128);
    __m512i acc3 = _mm512_loadu_si512(p + 192);
    // The register so far, XORed into the first 4 bytes, is the same as starting from zero.
    acc0 = _mm512_xor_si512(acc0, _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(~crc))));
    p += avx512_block_bytes;
    size -= avx512_block_bytes;
    const __m512i over_block = constants512<avx512_block_bytes>();
    for (; size >= avx512_block_bytes; p += avx512_block_bytes, size -= avx512_block_bytes) {
        acc0 = fold_into(acc0, over_block, _mm512_loadu_si512(p));
        acc1 = fold_into(acc1, over_block, _mm512_loadu_si512(p + 64));
        acc2 = fold_into(acc2, over_block, _mm512_loadu_si512(p + 128));
        acc3 = fold_into(acc3, over_block, _mm512_loadu_si512(p + 192));
    }
    // Four accumulators into one, then its four 16-byte lanes into one block.
    const __m512i over_64 = constants512<64>();
    acc1 = fold_into(acc0, over_64, acc1);
    acc2 = fold_into(acc1, over_64, acc2);
    acc3 = fold_into(acc2, over_64, acc3);
    __m128i block = _mm512_maskz_extracti32x4_epi32(0xF, acc3, 3);
    block = _mm_xor_si128(block, folded<16>(_mm512_maskz_extracti32x4_epi32(0xF, acc3, 2)));
    block = _mm_xor_si128(block, folded<32>(_mm512_maskz_extracti32x4_epi32(0xF, acc3, 1)));
    block = _mm_xor_si128(block, folded<48>(_mm512_maskz_extracti32x4_epi32(0xF, acc3, 0)));
    return finish(block, p, size);
}

#undef MS_CRC32C_FOLD_TARGET

// The same folding with 256-bit registers, for CPUs with VPCLMULQDQ but not AVX-512 (AMD Zen 3,
// Intel client cores): four accumulators of two blocks each, 128 bytes per step.
#define MS_CRC32C_FOLD_TARGET "avx2,vpclmulqdq,pclmul,sse4.2"

namespace {

constexpr size_t avx2_block_bytes = 128;

__attribute__((target(MS_CRC32C_FOLD_TARGET), always_inline)) inline __m256i
fold_into_avx2(__m256i acc, __m256i constants, __m256i next) noexcept {
    const __m256i high = _mm256_clmulepi64_epi128(acc, constants, 0x00);
    const __m256i low = _mm256_clmulepi64_epi128(acc, constants, 0x11);
    return _mm256_xor_si256(_mm256_xor_si256(high, low), next);
}

__attribute__((target(MS_CRC32C_FOLD_TARGET), always_inline)) inline __m256i
load(const unsigned char* at) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
}

template<unsigned Bytes>
__attribute__((target(MS_CRC32C_FOLD_TARGET), always_inline)) inline __m256i constants256() noexcept {
    constexpr fold_constants k = fold_over(Bytes);
    return _mm256_set_epi64x(static_cast<int64_t>(k.for_low_half), static_cast<int64_t>(k.for_high_half),
                             static_cast<int64_t>(k.for_low_half), static_cast<int64_t>(k.for_high_half));
}

} // namespace

__attribute__((target(MS_CRC32C_FOLD_TARGET))) uint32_t extend_vpclmul_avx2(uint32_t crc, const void* data,
                                                                            size_t size) noexcept {
    if (size < avx2_block_bytes) {
        return extend_sse42(crc, data, size);
    }
    const auto* p = static_cast<const unsigned char*>(data);
    __m256i acc0 = load(p);
    __m256i acc1 = load(p + 32);
    __m256i acc2 = load(p + 64);
    __m256i acc3 = load(p + 96);
    acc0 = _mm256_xor_si256(acc0, _mm256_zextsi128_si256(_mm_cvtsi32_si128(static_cast<int>(~crc))));
    p += avx2_block_bytes;
    size -= avx2_block_bytes;
    const __m256i over_block = constants256<avx2_block_bytes>();
    for (; size >= avx2_block_bytes; p += avx2_block_bytes, size -= avx2_block_bytes) {
        acc0 = fold_into_avx2(acc0, over_block, load(p));
        acc1 = fold_into_avx2(acc1, over_block, load(p + 32));
        acc2 = fold_into_avx2(acc2, over_block, load(p + 64));
        acc3 = fold_into_avx2(acc3, over_block, load(p + 96));
    }
    const __m256i over_32 = constants256<32>();
    acc1 = fold_into_avx2(acc0, over_32, acc1);
    acc2 = fold_into_avx2(acc1, over_32, acc2);
    acc3 = fold_into_avx2(acc2, over_32, acc3);
    // Its two 16-byte lanes into one block: the first folded over the second.
    const __m128i block =
      _mm_xor_si128(_mm256_extracti128_si256(acc3, 1), folded<16>(_mm256_castsi256_si128(acc3)));
    return finish(block, p, size);
}

bool cpu_has_vpclmul_avx2() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("vpclmulqdq") != 0 &&
           __builtin_cpu_supports("pclmul") != 0 && __builtin_cpu_supports("sse4.2") != 0;
}

bool cpu_has_vpclmul() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("avx512vl") != 0 &&
           __builtin_cpu_supports("vpclmulqdq") != 0 && __builtin_cpu_supports("pclmul") != 0 &&
           __builtin_cpu_supports("sse4.2") != 0;
}

#undef MS_CRC32C_FOLD_TARGET

#else

uint32_t extend_vpclmul(uint32_t crc, const void* data, size_t size) noexcept {
    return extend_portable(crc, data, size);
}

bool cpu_has_vpclmul() noexcept {
    return false;
}

uint32_t extend_vpclmul_avx2(uint32_t crc, const void* data, size_t size) noexcept {
    return extend_portable(crc, data, size);
}

bool cpu_has_vpclmul_avx2() noexcept {
    return false;
}

#endif

} // namespace ms::crc32c_detail
