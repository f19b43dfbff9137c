// CRC-32C throughput per implementation, against memcpy as the memory-bandwidth ceiling.
// The dispatching crc32c() should stay far ahead of the one-table baseline; if it does not, the
// hardware path is not being chosen (see the crc32c_implementation context line).

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "base/crc32c.h"

namespace {

std::vector<unsigned char> random_buffer(size_t size) {
    std::mt19937_64 engine(42);
    std::vector<unsigned char> buf(size);
    for (auto& b : buf) {
        b = static_cast<unsigned char>(engine());
    }
    return buf;
}

template<uint32_t (*Extend)(uint32_t, const void*, size_t) noexcept>
void run_crc(benchmark::State& state) {
    const auto size = static_cast<size_t>(state.range(0));
    const auto buf = random_buffer(size);
    for (auto _ : state) {
        benchmark::DoNotOptimize(Extend(0, buf.data(), buf.size()));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

uint32_t dispatched(uint32_t crc, const void* data, size_t size) noexcept {
    return ms::crc32c(crc, data, size);
}

void BM_crc32c(benchmark::State& state) { // NOLINT(readability-identifier-naming): Google Benchmark naming
    run_crc<&dispatched>(state);
}

// The hardware paths side by side; a CPU without one skips its benchmark.
template<uint32_t (*Extend)(uint32_t, const void*, size_t) noexcept, bool (*Runs)() noexcept>
void run_crc_where_supported(benchmark::State& state, const char* missing) {
    if (!Runs()) {
        state.SkipWithError(missing);
        return;
    }
    run_crc<Extend>(state);
}

void BM_crc32c_sse42(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    run_crc_where_supported<&ms::crc32c_detail::extend_sse42, &ms::crc32c_detail::cpu_has_sse42>(
      state, "no SSE4.2 on this CPU");
}

void BM_crc32c_vpclmul(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    run_crc_where_supported<&ms::crc32c_detail::extend_vpclmul, &ms::crc32c_detail::cpu_has_vpclmul>(
      state, "no AVX-512 VPCLMULQDQ on this CPU");
}

void BM_crc32c_vpclmul_avx2(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    run_crc_where_supported<&ms::crc32c_detail::extend_vpclmul_avx2,
                            &ms::crc32c_detail::cpu_has_vpclmul_avx2>(state,
                                                                      "no VPCLMULQDQ with AVX2 on this CPU");
}

void BM_crc32c_table(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    run_crc<&ms::crc32c_detail::extend_table>(state);
}

void BM_crc32c_portable(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    run_crc<&ms::crc32c_detail::extend_portable>(state);
}

void BM_memcpy(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const auto size = static_cast<size_t>(state.range(0));
    // Source and destination in one allocation, half a page apart modulo 4 KiB. Two separate
    // vectors land 16 bytes apart modulo 4 KiB, where glibc 2.36's `rep movsb` on AMD Zen runs at
    // a fraction of its speed (measured here: 1.6 vs 34 GiB/s at 64 KiB), which is not the
    // ceiling this baseline is meant to show.
    constexpr size_t page = 4096;
    auto buf = random_buffer(2 * size + 2 * page);
    const auto base = reinterpret_cast<uintptr_t>(buf.data());
    unsigned char* src = buf.data() + (page - base % page) % page;
    unsigned char* dst = src + size + page / 2;
    for (auto _ : state) {
        std::memcpy(dst, src, size);
        benchmark::DoNotOptimize(dst);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

} // namespace

BENCHMARK(BM_crc32c)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_crc32c_sse42)->Arg(256)->Arg(512)->Arg(1 << 10)->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_crc32c_vpclmul)->Arg(256)->Arg(512)->Arg(1 << 10)->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_crc32c_vpclmul_avx2)
  ->Arg(256)
  ->Arg(512)
  ->Arg(1 << 10)
  ->Arg(4 << 10)
  ->Arg(64 << 10)
  ->Arg(1 << 20);
BENCHMARK(BM_crc32c_table)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_crc32c_portable)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_memcpy)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

int main(int argc, char** argv) {
    benchmark::AddCustomContext("crc32c_implementation", ms::crc32c_implementation());
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
