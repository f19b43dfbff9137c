#include "admin/prometheus_text.h"

#include <fmt/format.h>

namespace ms::admin {

namespace {

// HELP text escapes only backslash and line feed.
std::string escape_help(std::string_view help) {
    std::string out;
    out.reserve(help.size());
    for (const char c : help) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    return out;
}

std::string_view type_name(metric_type t) {
    switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
    }
    return "untyped";
}

// A bucket bound in seconds as Prometheus clients write it: "0.00005", "0.5", "10".
std::string seconds_text(uint64_t ns) {
    std::string text = fmt::format("{}.{:09}", ns / 1'000'000'000, ns % 1'000'000'000);
    while (text.back() == '0') {
        text.pop_back();
    }
    if (text.back() == '.') {
        text.pop_back();
    }
    return text;
}

} // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    return out;
}

void prometheus_text::family(std::string_view name, metric_type type, std::string_view help) {
    fmt::format_to(std::back_inserter(_out), "# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name,
                   type_name(type));
}

void prometheus_text::series(std::string_view name, std::string_view suffix,
                             std::initializer_list<label> labels, std::string_view extra_name,
                             std::string_view extra_value) {
    _out.append(name);
    _out.append(suffix);
    if (labels.size() == 0 && extra_name.empty()) {
        _out += ' ';
        return;
    }
    _out += '{';
    bool first = true;
    for (const label& l : labels) {
        if (!first) {
            _out += ',';
        }
        first = false;
        fmt::format_to(std::back_inserter(_out), "{}=\"{}\"", l.name, escape_label_value(l.value));
    }
    if (!extra_name.empty()) {
        if (!first) {
            _out += ',';
        }
        fmt::format_to(std::back_inserter(_out), "{}=\"{}\"", extra_name, extra_value);
    }
    _out += "} ";
}

void prometheus_text::sample(std::string_view name, std::initializer_list<label> labels, uint64_t value) {
    series(name, {}, labels);
    fmt::format_to(std::back_inserter(_out), "{}\n", value);
}

void prometheus_text::sample(std::string_view name, std::initializer_list<label> labels, double value) {
    series(name, {}, labels);
    fmt::format_to(std::back_inserter(_out), "{}\n", value);
}

void prometheus_text::histogram(std::string_view name, std::initializer_list<label> labels,
                                const latency_histogram& h) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < latency_bucket_bounds_ns.size(); ++i) {
        cumulative += h.buckets[i];
        const std::string le = seconds_text(latency_bucket_bounds_ns[i]);
        series(name, "_bucket", labels, "le", le);
        fmt::format_to(std::back_inserter(_out), "{}\n", cumulative);
    }
    cumulative += h.buckets.back();
    series(name, "_bucket", labels, "le", "+Inf");
    fmt::format_to(std::back_inserter(_out), "{}\n", cumulative);
    series(name, "_sum", labels);
    fmt::format_to(std::back_inserter(_out), "{}\n", static_cast<double>(h.sum_ns) / 1e9);
    series(name, "_count", labels);
    fmt::format_to(std::back_inserter(_out), "{}\n", cumulative);
}

} // namespace ms::admin
