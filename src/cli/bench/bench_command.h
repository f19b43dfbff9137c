#pragma once

// `memorystreamer bench produce|consume|e2e`: a load generator on the project's own protocol
// library, for measuring a broker (ours or any Kafka-compatible one).

#include <CLI/CLI.hpp>

#include "cli/bench/bench_options.h"

namespace ms::cli::bench {

struct bench_command {
    produce_options produce;
    consume_options consume;
    e2e_options e2e;
    CLI::App* produce_app = nullptr;
    CLI::App* consume_app = nullptr;
    CLI::App* e2e_app = nullptr;
};

CLI::App* add_bench_command(CLI::App& app, bench_command& command);
// Runs the mode that was parsed; returns the process exit code.
int run_bench(const bench_command& command);

} // namespace ms::cli::bench
