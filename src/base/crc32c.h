#pragma once

// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78), the checksum of Kafka record batches
// (KIP-98) and of iSCSI (RFC 3720).
//
// All functions here take the CRC of the bytes that came before (0 to start) and return the CRC
// of those bytes followed by `data`. The usual pre- and post-inversion happens inside, so callers
// never invert:
//
//   crc32c(0, "123456789", 9) == 0xE3069283
//   crc32c(crc32c(0, a), b)   == crc32c(0, a + b)
//
// All functions are thread-safe, allocate nothing and accept any alignment. `data` may be null when
// `size` is 0.
//
// Performance: on x86-64 CPUs with VPCLMULQDQ, buffers of 256 bytes (128 without AVX-512) and more
// are folded by carry-less multiplication (~60 GiB/s from 1 KiB up with AVX-512, 3x the crc32
// instruction, on the Xeon dev machine); with SSE4.2 alone the crc32 instruction runs in three
// interleaved streams, about 8 bytes per cycle on large buffers (~20 GiB/s at 64 KiB); elsewhere
// slicing-by-8 tables, about 1.5 GiB/s. See bench/crc32c_bench.cc.

#include <cstddef>
#include <cstdint>
#include <span>

namespace ms {

uint32_t crc32c(uint32_t crc, const void* data, size_t size) noexcept;

inline uint32_t crc32c(uint32_t crc, std::span<const std::byte> data) noexcept {
    return crc32c(crc, data.data(), data.size());
}

// Which implementation crc32c() dispatches to on this CPU: "vpclmulqdq-avx512", "vpclmulqdq-avx2",
// "sse4.2" or "portable".
const char* crc32c_implementation() noexcept;

// The individual implementations, exposed for tests and benchmarks. Same contract as crc32c().
namespace crc32c_detail {

// Slicing-by-8 tables; runs on any CPU. The fallback of crc32c().
uint32_t extend_portable(uint32_t crc, const void* data, size_t size) noexcept;

// Hardware crc32 instruction, three interleaved streams on large buffers.
// REQUIRES: cpu_has_sse42().
uint32_t extend_sse42(uint32_t crc, const void* data, size_t size) noexcept;

// Carry-less multiplication folding (512-bit VPCLMULQDQ) from 256 bytes up, extend_sse42 below.
// REQUIRES: cpu_has_vpclmul().
uint32_t extend_vpclmul(uint32_t crc, const void* data, size_t size) noexcept;

// The same with 256-bit registers, from 128 bytes up, for CPUs without AVX-512.
// REQUIRES: cpu_has_vpclmul_avx2().
uint32_t extend_vpclmul_avx2(uint32_t crc, const void* data, size_t size) noexcept;

// One bit at a time, straight from the definition: the reference the others are tested against.
uint32_t extend_bitwise(uint32_t crc, const void* data, size_t size) noexcept;

// Classic one table, one byte at a time: the baseline the faster versions are benchmarked against.
uint32_t extend_table(uint32_t crc, const void* data, size_t size) noexcept;

bool cpu_has_sse42() noexcept;
// AVX-512 (F, VL), VPCLMULQDQ, PCLMUL and SSE4.2: what extend_vpclmul needs.
bool cpu_has_vpclmul() noexcept;
// AVX2, VPCLMULQDQ, PCLMUL and SSE4.2: what extend_vpclmul_avx2 needs.
bool cpu_has_vpclmul_avx2() noexcept;

} // namespace crc32c_detail

} // namespace ms
