// Storage benchmarks, each next to the ceiling it is measured against in the same run:
//   BM_raw_write/<size>        pwrite() loop of the same sizes: the ceiling for append
//   BM_append/<size>           partition_log::append of validated batches of that size, no sync
//   BM_raw_fdatasync           write 1 KiB + fdatasync loop: the ceiling for one synced writer
//   BM_append_sync/<writers>   N concurrent appenders on one log, each append + sync(), waiting
//                              for its own sync before the next append (group commit shares them)
// Files go to $MS_BENCH_DIR (default /tmp): point it at the disk you care about.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "base/executor.h"
#include "model/record_batch_builder.h"
#include "storage/partition_log.h"

namespace {

std::filesystem::path bench_dir(const std::string& name) {
    const char* env = std::getenv("MS_BENCH_DIR");
    std::filesystem::path root = env != nullptr ? env : "/tmp";
    std::filesystem::path dir = root / ("ms-bench-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// One batch of `size` bytes in total: records of ~1 KiB (or one record for small sizes).
ms::iobuf make_batch_of_size(size_t size) {
    ms::model::record_batch_builder b{ms::model::timestamp(1'700'000'000'000)};
    const size_t record = std::min<size_t>(1024, size > 200 ? size - 200 : 16);
    const std::string value(record, 'v');
    size_t total = ms::model::batch_header_size;
    while (total + record + 16 <= size || b.record_count() == 0) {
        b.add(std::nullopt, value);
        total += record + 16;
    }
    return b.build();
}

void BM_raw_write(benchmark::State& state) { // NOLINT(readability-identifier-naming): Google Benchmark naming
    // Appends to a growing file, starting a new one every 256 MiB and deleting the one before, as
    // the log does with segment.bytes = 256 MiB and retention: fresh page-cache pages every time.
    const auto size = static_cast<size_t>(state.range(0));
    const auto dir = bench_dir("raw");
    const std::vector<char> buf(size, 'x');
    int file_no = 0;
    int fd = ::open((dir / "0").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    off_t pos = 0;
    for (auto _ : state) {
        if (::pwrite(fd, buf.data(), buf.size(), pos) != static_cast<ssize_t>(buf.size())) {
            state.SkipWithError("pwrite failed");
            break;
        }
        pos += static_cast<off_t>(buf.size());
        if (pos + static_cast<off_t>(size) > (256 << 20)) {
            ::close(fd);
            std::filesystem::remove(dir / std::to_string(file_no - 1));
            ++file_no;
            fd = ::open((dir / std::to_string(file_no)).c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
            pos = 0;
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
    ::close(fd);
    std::filesystem::remove_all(dir);
}

void BM_append(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const auto size = static_cast<size_t>(state.range(0));
    const auto dir = bench_dir("append");
    ms::manual_executor exec;
    ms::storage::flusher flush(1);
    ms::storage::log_config cfg;
    cfg.segment_bytes = 256 << 20;
    cfg.max_batch_bytes = 2 << 20;
    cfg.retention_bytes = 256 << 20; // two segments on disk at most, like BM_raw_write
    auto log = ms::storage::partition_log::open(dir, cfg, {&exec, &flush, {}});
    if (!log) {
        state.SkipWithError(log.error().message.c_str());
        return;
    }
    const ms::iobuf batch = make_batch_of_size(size);
    int64_t appended = 0;
    for (auto _ : state) {
        auto r = (*log)->append(batch);
        if (!r) {
            state.SkipWithError(r.error().message.c_str());
            break;
        }
        if (++appended % 64 == 0) {
            state.PauseTiming();
            (void)(*log)->apply_retention();
            state.ResumeTiming();
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
    (void)(*log)->close();
    log->reset();
    std::filesystem::remove_all(dir);
}

void BM_raw_fdatasync(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const auto dir = bench_dir("fdatasync");
    const int fd = ::open((dir / "f").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    const std::vector<char> buf(1024, 'x');
    off_t pos = 0;
    std::vector<double> lat;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        if (::pwrite(fd, buf.data(), buf.size(), pos) < 0 || ::fdatasync(fd) != 0) {
            state.SkipWithError("write/fdatasync failed");
            break;
        }
        lat.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        pos += static_cast<off_t>(buf.size());
    }
    std::sort(lat.begin(), lat.end());
    if (!lat.empty()) {
        state.counters["p50_us"] = lat[lat.size() / 2];
        state.counters["p99_us"] = lat[lat.size() * 99 / 100];
    }
    state.counters["writes_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    ::close(fd);
    std::filesystem::remove_all(dir);
}

// N logical appenders on one log, as N producer connections with acks=all would be.
void BM_append_sync(benchmark::State& state) { // NOLINT(readability-identifier-naming)
    const auto writers = static_cast<int>(state.range(0));
    const auto dir = bench_dir("sync");
    ms::manual_executor exec;
    ms::storage::flusher flush(1);
    auto log = ms::storage::partition_log::open(dir, {}, {&exec, &flush, {}});
    if (!log) {
        state.SkipWithError(log.error().message.c_str());
        return;
    }
    const ms::iobuf batch = make_batch_of_size(1024);
    std::vector<double> lat;
    int64_t completed = 0;
    bool failed = false;
    for (auto _ : state) {
        // One iteration = every writer completes one durable append.
        int pending = writers;
        for (int w = 0; w < writers; ++w) {
            const auto t0 = std::chrono::steady_clock::now();
            if (!(*log)->append(batch)) {
                failed = true;
                break;
            }
            (*log)->sync([&, t0](const ms::storage::result<ms::model::offset>& r) {
                failed |= !r.has_value();
                lat.push_back(
                  std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
                --pending;
                ++completed;
            });
        }
        exec.run_until([&] { return pending == 0 || failed; });
        if (failed) {
            state.SkipWithError("append or sync failed");
            break;
        }
    }
    std::sort(lat.begin(), lat.end());
    if (!lat.empty()) {
        state.counters["p50_us"] = lat[lat.size() / 2];
        state.counters["p99_us"] = lat[lat.size() * 99 / 100];
    }
    state.counters["appends_per_s"] =
      benchmark::Counter(static_cast<double>(completed), benchmark::Counter::kIsRate);
    state.SetBytesProcessed(static_cast<int64_t>(completed) * static_cast<int64_t>(batch.size()));
    (void)(*log)->close();
    log->reset();
    std::filesystem::remove_all(dir);
}

} // namespace

BENCHMARK(BM_raw_write)->Arg(16 << 10)->Arg(1 << 20);
BENCHMARK(BM_append)->Arg(16 << 10)->Arg(1 << 20);
BENCHMARK(BM_raw_fdatasync)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_append_sync)->Arg(1)->Arg(8)->Arg(64)->UseRealTime()->MinTime(2.0);
BENCHMARK_MAIN();
