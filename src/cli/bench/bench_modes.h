#pragma once

// The three bench modes; each returns the process exit code (0 ok, 1 the run failed or saw errors,
// 2 bad arguments) after printing its result.

#include "cli/bench/bench_options.h"

namespace ms::cli::bench {

int run_produce(const produce_options& options);
int run_consume(const consume_options& options);
int run_e2e(const e2e_options& options);

} // namespace ms::cli::bench
