#pragma once
// prometheus_text: writes metrics in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): per family a `# HELP` and a
// `# TYPE` line, then one line per sample, `name{label="value",...} value`.
//
// Label values are escaped (backslash, double quote, line feed), so a topic name can never break
// a line or inject a sample. Histograms are written the Prometheus way: cumulative `_bucket`
// samples with an `le` label ending at `+Inf` (equal to `_count`), then `_sum` and `_count`.
// Durations are written in seconds, the base unit.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "base/latency_histogram.h"

namespace ms::admin {

enum class metric_type { counter, gauge, histogram };

struct label {
    std::string_view name; // REQUIRES: [a-zA-Z_][a-zA-Z0-9_]* (the caller's constants)
    std::string_view value;
};

// `value` with \ " and line feed escaped, as a label value must be.
[[nodiscard]] std::string escape_label_value(std::string_view value);

class prometheus_text {
public:
    // Starts a family: its HELP and TYPE lines. `name` is the family name (counters end in _total).
    void family(std::string_view name, metric_type type, std::string_view help);
    void sample(std::string_view name, std::initializer_list<label> labels, uint64_t value);
    void sample(std::string_view name, std::initializer_list<label> labels, double value);
    // `name` without suffix; writes name_bucket (one per bound and +Inf), name_sum (seconds) and
    // name_count.
    void histogram(std::string_view name, std::initializer_list<label> labels, const latency_histogram& h);

    [[nodiscard]] const std::string& text() const noexcept { return _out; }
    [[nodiscard]] std::string take() noexcept { return std::move(_out); }

private:
    void series(std::string_view name, std::string_view suffix, std::initializer_list<label> labels,
                std::string_view extra_name = {}, std::string_view extra_value = {});

    std::string _out;
};

} // namespace ms::admin
