#include "cli/bench/bench_report.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace ms::cli::bench {

namespace {

using steady = std::chrono::steady_clock;

std::string json_escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
            } else {
                out += c;
            }
        }
    }
    return out;
}

double micros(uint64_t ns) {
    return static_cast<double>(ns) / 1000.0;
}

struct percentile {
    const char* label;
    const char* json_key;
    double q;
};
constexpr percentile percentiles[] = {
  {"p50", "p50", 0.50}, {"p90", "p90", 0.90}, {"p99", "p99", 0.99}, {"p99.9", "p99_9", 0.999}};

double rate(uint64_t count, double seconds) {
    return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

} // namespace

std::string with_thousands(uint64_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    const size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
    out += digits.substr(0, first);
    for (size_t i = first; i < digits.size(); i += 3) {
        out += ',';
        out += digits.substr(i, 3);
    }
    return out;
}

progress_printer::progress_printer(std::string label, const live_counters& counters, bool enabled)
  : _label(std::move(label)), _counters(counters), _tty(::isatty(STDERR_FILENO) == 1) {
    if (enabled) {
        _thread = std::thread([this] { run(); });
    }
}

progress_printer::~progress_printer() {
    stop();
}

void progress_printer::stop() {
    _stop.store(true, std::memory_order_relaxed);
    if (_thread.joinable()) {
        _thread.join();
        if (_tty) {
            (void)std::fputs("\n", stderr);
        }
    }
}

void progress_printer::run() {
    const auto start = steady::now();
    auto last = start;
    uint64_t last_messages = 0;
    uint64_t last_bytes = 0;
    auto next = start + std::chrono::seconds(1);
    while (!_stop.load(std::memory_order_relaxed)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const auto now = steady::now();
        if (now < next) {
            continue;
        }
        next += std::chrono::seconds(1);
        const uint64_t messages = _counters.messages.load(std::memory_order_relaxed);
        const uint64_t bytes = _counters.bytes.load(std::memory_order_relaxed);
        const double interval = std::chrono::duration<double>(now - last).count();
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const std::string line =
          fmt::format("[{:6.1f} s] {} {:>12} msg/s {:9.1f} MB/s  total {:>14}  errors {}", elapsed, _label,
                      with_thousands(static_cast<uint64_t>(rate(messages - last_messages, interval))),
                      rate(bytes - last_bytes, interval) / 1e6, with_thousands(messages),
                      _counters.errors.load(std::memory_order_relaxed));
        (void)std::fprintf(stderr, _tty ? "\r%s\x1b[K" : "%s\n", line.c_str());
        (void)std::fflush(stderr);
        last = now;
        last_messages = messages;
        last_bytes = bytes;
    }
}

int fail(std::string_view mode, std::string_view message, int exit_code) {
    (void)std::fprintf(stderr, "memorystreamer bench %.*s: %.*s\n", static_cast<int>(mode.size()),
                       mode.data(), static_cast<int>(message.size()), message.data());
    return exit_code;
}

int add_outcomes(bench_result& r, const std::vector<worker_outcome>& outcomes, std::string_view who) {
    int exit_code = 0;
    std::map<std::string, uint64_t> error_names;
    for (const auto& out : outcomes) {
        r.messages += out.messages;
        r.bytes += out.bytes;
        r.errors += out.errors;
        r.latency_ns.merge(out.latency_ns);
        for (const auto& [name, count] : out.error_names) {
            error_names[name] += count;
        }
        if (!out.failure.empty()) {
            r.notes.push_back(fmt::format("a {} stopped: {}", who, out.failure));
            exit_code = 1;
        }
    }
    for (const auto& [name, count] : error_names) {
        r.notes.push_back(fmt::format("{} x {}", with_thousands(count), name));
        exit_code = 1;
    }
    return exit_code;
}

void print_result(const bench_result& r, output_format format) {
    const double msg_rate = rate(r.messages, r.seconds);
    const double mb_rate = rate(r.bytes, r.seconds) / 1e6;
    const auto& h = r.latency_ns;
    if (format == output_format::json) {
        std::string out =
          fmt::format(R"({{"command":"{}","topic":"{}","messages":{},"bytes":{},"seconds":{:.3f},)"
                      R"("messages_per_second":{:.1f},"megabytes_per_second":{:.3f},)",
                      r.command, json_escape(r.topic), r.messages, r.bytes, r.seconds, msg_rate, mb_rate);
        out += fmt::format(R"("latency_us":{{"count":{},"meaning":"{}")", h.count(),
                           json_escape(r.latency_meaning));
        for (const auto& p : percentiles) {
            out += fmt::format(R"(,"{}":{:.1f})", p.json_key, micros(h.quantile(p.q)));
        }
        out += fmt::format(R"(,"max":{:.1f},"mean":{:.1f}}},"errors":{},"settings":{{)", micros(h.max()),
                           h.mean() / 1000.0, r.errors);
        for (size_t i = 0; i < r.settings.size(); ++i) {
            out += fmt::format(R"({}"{}":{})", i == 0 ? "" : ",", r.settings[i].first, r.settings[i].second);
        }
        out += R"(},"notes":[)";
        for (size_t i = 0; i < r.notes.size(); ++i) {
            out += fmt::format(R"({}"{}")", i == 0 ? "" : ",", json_escape(r.notes[i]));
        }
        out += "]}\n";
        (void)std::fputs(out.c_str(), stdout);
        return;
    }
    std::string out = fmt::format("memorystreamer bench {}: topic {}\n", r.command, r.topic);
    std::string settings;
    for (const auto& [key, value] : r.settings) {
        settings += fmt::format("{}{}={}", settings.empty() ? "" : " ", key, value);
    }
    out += fmt::format("  settings     {}\n", settings);
    out += fmt::format("  messages     {}\n", with_thousands(r.messages));
    out += fmt::format("  duration     {:.2f} s\n", r.seconds);
    out += fmt::format("  throughput   {} msg/s   {:.1f} MB/s\n",
                       with_thousands(static_cast<uint64_t>(msg_rate)), mb_rate);
    if (h.count() > 0) {
        out += fmt::format("  latency      {} ({} samples, microseconds)\n", r.latency_meaning,
                           with_thousands(h.count()));
        out += "              ";
        for (const auto& p : percentiles) {
            out += fmt::format("{} {:.0f}   ", p.label, micros(h.quantile(p.q)));
        }
        out += fmt::format("max {:.0f}\n", micros(h.max()));
    }
    out += fmt::format("  errors       {}\n", with_thousands(r.errors));
    for (const auto& note : r.notes) {
        out += fmt::format("  note         {}\n", note);
    }
    (void)std::fputs(out.c_str(), stdout);
}

} // namespace ms::cli::bench
