// Record batch validation cost per record: what the broker pays on every produced record.
#include <string>

#include <benchmark/benchmark.h>

#include "model/record_batch.h"
#include "model/record_batch_builder.h"

namespace {

ms::iobuf make_batch(int records, size_t value_size, bool keyed) {
    ms::model::record_batch_builder b{ms::model::timestamp(1'700'000'000'000)};
    const std::string value(value_size, 'v');
    for (int i = 0; i < records; ++i) {
        const std::string key = "key-" + std::to_string(i);
        b.add(keyed ? std::optional<std::string_view>(key) : std::nullopt, value,
              ms::model::timestamp(1'700'000'000'000 + i));
    }
    return b.build();
}

// Arg: value bytes. 1000 records per batch, no key (as bench produce sends), full record checks.
void BM_validate_batch(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    // One contiguous buffer, as the broker reads a request frame.
    const ms::iobuf batch = make_batch(1000, static_cast<size_t>(state.range(0)), false).copy();
    const ms::model::batch_limits limits{};
    for (auto _ : state) {
        auto v = ms::model::validate_batch(batch, limits);
        benchmark::DoNotOptimize(v);
    }
    state.SetItemsProcessed(state.iterations() * 1000);
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
}

// Walking every record of a keyed batch (what a consumer or the compactor does).
void BM_for_each_record(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const ms::iobuf batch = make_batch(1000, static_cast<size_t>(state.range(0)), true);
    const auto bytes = batch.contiguous(0, batch.size());
    const auto records = bytes.subspan(ms::model::batch_header_size);
    for (auto _ : state) {
        size_t total = 0;
        auto walked = ms::model::for_each_record(
          records, 1000, [&](const ms::model::record_view& r) { total += r.value ? r.value->size() : 0; });
        benchmark::DoNotOptimize(walked);
        benchmark::DoNotOptimize(total);
    }
    state.SetItemsProcessed(state.iterations() * 1000);
}

} // namespace

BENCHMARK(BM_validate_batch)->Arg(100)->Arg(1024); // NOLINT: Google Benchmark registration
BENCHMARK(BM_for_each_record)->Arg(100);           // NOLINT
BENCHMARK_MAIN();
