// crash_writer: appends to a partition log as fast as it can, syncing often, and prints
// "durable <offset>" each time a sync completes. The crash test kills it with SIGKILL at a random
// moment and checks that every offset it reported durable survived.
//
// usage: crash_writer DIR SEED [SECONDS]

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include <fmt/format.h>

#include "base/executor.h"
#include "storage/partition_log.h"
#include "storage/tests/log_test_support.h"

int main(int argc, char** argv) {
    if (argc < 3) {
        (void)std::fprintf(stderr, "usage: %s DIR SEED [SECONDS]\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::mt19937_64 rng(std::stoull(argv[2]));
    const int seconds = argc > 3 ? std::stoi(argv[3]) : 30;

    ms::manual_executor exec;
    ms::storage::flusher flush(1);
    ms::storage::log_config cfg;
    cfg.segment_bytes = uint64_t{64} * 1024; // many rolls, so kills land in every phase
    cfg.index_interval_bytes = 1024;
    auto opened = ms::storage::partition_log::open(dir, cfg, {&exec, &flush, {}});
    if (!opened) {
        (void)std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
        return 1;
    }
    auto& log = *opened;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    int outstanding = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        const int64_t end = log->log_end_offset().value();
        const auto count = static_cast<int32_t>(1 + rng() % 8);
        auto r = log->append(ms::storage::testing::make_batch(end, count, 1000, 16 + rng() % 300));
        if (!r) {
            (void)std::fprintf(stderr, "append: %s\n", r.error().message.c_str());
            return 1;
        }
        if (rng() % 4 == 0) {
            ++outstanding;
            log->sync([&outstanding](ms::storage::result<ms::model::offset> d) {
                --outstanding;
                if (!d) {
                    (void)std::fprintf(stderr, "sync: %s\n", d.error().message.c_str());
                    std::_Exit(1);
                }
                // One write(2) per line: the parent sees whole lines even when we die mid-way.
                const std::string line = fmt::format("durable {}\n", d->value());
                if (::write(STDOUT_FILENO, line.data(), line.size()) < 0) {
                    std::_Exit(1);
                }
            });
        }
        exec.run_pending();
    }
    exec.run_until([&] { return outstanding == 0; });
    return log->close().has_value() ? 0 : 1;
}
