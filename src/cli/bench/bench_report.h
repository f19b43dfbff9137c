#pragma once

// What a bench run measured, shown as a table or one JSON object, and the live progress line.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/histogram.h"
#include "cli/bench/bench_options.h"

namespace ms::cli::bench {

// Counters a worker thread bumps as answers arrive and the progress thread reads.
struct live_counters {
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> errors{0};
};

// What one worker thread measured.
struct worker_outcome {
    log_linear_histogram latency_ns;
    uint64_t messages = 0;
    uint64_t bytes = 0;  // keys and values
    uint64_t errors = 0; // messages refused (produce) or partition errors (fetch)
    std::map<std::string, uint64_t> error_names;
    std::string failure; // why the worker stopped early; empty when it did not
};

struct bench_result {
    std::string command; // produce, consume, e2e
    std::string topic;
    uint64_t messages = 0;
    uint64_t bytes = 0; // payload: keys and values
    uint64_t errors = 0;
    double seconds = 0;
    log_linear_histogram latency_ns;
    std::string latency_meaning;                               // what one latency sample is
    std::vector<std::pair<std::string, std::string>> settings; // shown in order; values as JSON scalars
    std::vector<std::string> notes;
};

// Prints "[ 3.0 s] 1,234,567 msg/s ..." to stderr once a second while running (rewriting one line
// on a terminal, one line per second otherwise).
class progress_printer {
public:
    progress_printer(std::string label, const live_counters& counters, bool enabled);
    progress_printer(const progress_printer&) = delete;
    progress_printer& operator=(const progress_printer&) = delete;
    ~progress_printer();
    void stop();

private:
    void run();

    std::string _label;
    const live_counters& _counters;
    std::atomic<bool> _stop{false};
    bool _tty = false;
    std::thread _thread;
};

// Adds the workers' counts, latencies, failures and Kafka errors (as notes) to `r`. Returns 1 when
// a worker failed or saw errors, 0 otherwise.
int add_outcomes(bench_result& r, const std::vector<worker_outcome>& outcomes, std::string_view who);

// "memorystreamer bench MODE: MESSAGE" on stderr; returns `exit_code` (for `return fail(...)`).
int fail(std::string_view mode, std::string_view message, int exit_code);

// The summary on stdout in the chosen format.
void print_result(const bench_result& r, output_format format);

// 1234567 -> "1,234,567"
[[nodiscard]] std::string with_thousands(uint64_t n);

} // namespace ms::cli::bench
