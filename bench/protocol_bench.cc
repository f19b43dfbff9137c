// Protocol codec benchmarks:
//   BM_produce_request_decode / _encode   a Produce request carrying 1 MiB of records
//   BM_fetch_response_decode / _encode    a Fetch response carrying 1 MiB of records
//   BM_metadata_response_encode           1,000 topics x 10 partitions; counts allocations
// Records are shared, never copied, so frame throughput should far exceed memcpy of the frame.

#include <atomic>
#include <cstdlib>
#include <new>

#include <benchmark/benchmark.h>

#include "protocol/frame.h"

namespace {

std::atomic<size_t> allocations{0};

} // namespace

// Counts every heap allocation in this binary, for the allocations-per-encode figures. GCC cannot
// see that the replaced operator new below is malloc-based, hence the pragma.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t) noexcept {
    std::free(p);
}

namespace {

using namespace ms;
using namespace ms::protocol;

constexpr size_t records_size = size_t{1} << 20;

iobuf one_mib_of_records() {
    std::string bytes(records_size, 'r');
    return iobuf::copy_of(bytes);
}

iobuf produce_frame(api_version v) {
    produce_request p;
    p.acks = -1;
    p.timeout_ms = 30000;
    auto& t = p.topic_data.emplace_back();
    t.name = "bench";
    auto& part = t.partition_data.emplace_back();
    part.index = model::partition_id(0);
    part.records = one_mib_of_records();
    request_header h;
    h.request_api_key = api_key(0);
    h.request_api_version = v;
    h.correlation_id = 1;
    h.client_id = "bench";
    iobuf frame;
    encode_request(h, std::move(p), frame);
    frame.trim_front(4);
    return frame.copy(); // one contiguous buffer, as a connection reads it
}

// Google Benchmark names.
void BM_produce_request_decode(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const auto v = static_cast<api_version>(state.range(0));
    const iobuf frame = produce_frame(v);
    for (auto _ : state) {
        auto decoded = decode_request(frame);
        benchmark::DoNotOptimize(decoded);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}

void BM_produce_request_encode(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const auto v = static_cast<api_version>(state.range(0));
    const iobuf frame = produce_frame(v);
    auto decoded = decode_request(frame);
    for (auto _ : state) {
        iobuf out;
        encode_request(decoded->header, decoded->body, out);
        benchmark::DoNotOptimize(out);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}

fetch_response fetch_answer() {
    fetch_response f;
    auto& t = f.responses.emplace_back();
    t.topic = "bench";
    auto& p = t.partitions.emplace_back();
    p.partition_index = model::partition_id(0);
    p.high_watermark = model::offset(1000);
    p.records = one_mib_of_records();
    return f;
}

void BM_fetch_response_encode(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const auto v = static_cast<api_version>(state.range(0));
    const any_response answer = fetch_answer();
    size_t bytes = 0;
    for (auto _ : state) {
        iobuf out;
        encode_response(7, v, answer, out);
        bytes = out.size();
        benchmark::DoNotOptimize(out);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_fetch_response_decode(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const auto v = static_cast<api_version>(state.range(0));
    iobuf out;
    encode_response(7, v, fetch_answer(), out);
    out.trim_front(4);
    const iobuf frame = out.copy();
    for (auto _ : state) {
        int32_t correlation = 0;
        auto decoded = decode_response(frame, 1, v, &correlation);
        benchmark::DoNotOptimize(decoded);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}

void BM_metadata_response_encode(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const auto v = static_cast<api_version>(state.range(0));
    metadata_response m;
    m.brokers.push_back({model::node_id(0), "127.0.0.1", 9092, std::nullopt, {}});
    m.cluster_id = "bench";
    for (int t = 0; t < 1000; ++t) {
        auto& topic = m.topics.emplace_back();
        topic.name = "topic-" + std::to_string(t);
        for (int p = 0; p < 10; ++p) {
            auto& part = topic.partitions.emplace_back();
            part.partition_index = model::partition_id(p);
            part.replica_nodes = {0};
            part.isr_nodes = {0};
        }
    }
    const any_response answer = std::move(m);
    size_t bytes = 0;
    size_t allocs = 0;
    for (auto _ : state) {
        const size_t before = allocations.load(std::memory_order_relaxed);
        iobuf out;
        encode_response(7, v, answer, out);
        allocs = allocations.load(std::memory_order_relaxed) - before;
        bytes = out.size();
        benchmark::DoNotOptimize(out);
    }
    state.counters["frame_bytes"] = static_cast<double>(bytes);
    state.counters["allocations"] = static_cast<double>(allocs);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

} // namespace

BENCHMARK(BM_produce_request_decode)->Arg(7)->Arg(9);  // NOLINT: Google Benchmark registration
BENCHMARK(BM_produce_request_encode)->Arg(7)->Arg(9);  // NOLINT
BENCHMARK(BM_fetch_response_encode)->Arg(11)->Arg(12); // NOLINT
BENCHMARK(BM_fetch_response_decode)->Arg(11)->Arg(12); // NOLINT
BENCHMARK(BM_metadata_response_encode)->Arg(8);        // NOLINT
BENCHMARK_MAIN();
