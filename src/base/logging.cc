#include "base/logging.h"

#include <array>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace ms::logging {

namespace {

constexpr std::string_view valid_level_names = "trace, debug, info, warn, error, critical, off";

void append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
}

// Appends `s` as the contents of a JSON string (RFC 8259 section 7). Bytes >= 0x80 pass through:
// messages are UTF-8.
void append_json_escaped(spdlog::memory_buf_t& dest, std::string_view s) {
    constexpr std::string_view hex = "0123456789abcdef";
    for (const char c : s) {
        switch (c) {
        case '"': append(dest, "\\\""); break;
        case '\\': append(dest, "\\\\"); break;
        case '\n': append(dest, "\\n"); break;
        case '\r': append(dest, "\\r"); break;
        case '\t': append(dest, "\\t"); break;
        case '\b': append(dest, "\\b"); break;
        case '\f': append(dest, "\\f"); break;
        default: {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20) {
                append(dest, "\\u00");
                dest.push_back(hex[u >> 4]);
                dest.push_back(hex[u & 0xFU]);
            } else {
                dest.push_back(c);
            }
        }
        }
    }
}

// Pattern flag that writes the message or the logger name JSON-escaped; spdlog's own %v and %n
// write them raw.
class json_field_formatter final : public spdlog::custom_flag_formatter {
public:
    enum class field { message, logger_name };

    explicit json_field_formatter(field f) : _field(f) {}

    void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
                spdlog::memory_buf_t& dest) override {
        const auto text = _field == field::message ? msg.payload : msg.logger_name;
        append_json_escaped(dest, std::string_view(text.data(), text.size()));
    }

    [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_field_formatter>(_field);
    }

private:
    field _field;
};

std::unique_ptr<spdlog::formatter> make_formatter(format fmt) {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc, "\n");
    switch (fmt) {
    case format::text: f->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l [%n] %v"); break;
    case format::json:
        f->add_flag<json_field_formatter>('*', json_field_formatter::field::message);
        f->add_flag<json_field_formatter>('&', json_field_formatter::field::logger_name);
        f->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%&","msg":"%*"})");
        break;
    }
    return f;
}

std::shared_ptr<spdlog::sinks::sink> make_stderr_sink(format fmt) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(make_formatter(fmt));
    return sink;
}

// Every logger writes into `fan_out`; setup() swaps what fan_out writes to, which is how loggers
// handed out before setup() follow the new configuration.
struct shared_state {
    std::mutex mutex;
    std::shared_ptr<spdlog::sinks::dist_sink_mt> fan_out = std::make_shared<spdlog::sinks::dist_sink_mt>(
      std::vector<std::shared_ptr<spdlog::sinks::sink>>{make_stderr_sink(format::text)});
    spdlog::level::level_enum level = spdlog::level::info;
    std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
};

shared_state& state() {
    // Never destroyed, so that destructors of other static objects may still log.
    static auto* s = new shared_state();
    return *s;
}

} // namespace

result<spdlog::level::level_enum, std::string> parse_level(std::string_view name) {
    using spdlog::level::level_enum;
    static constexpr std::array<std::pair<std::string_view, level_enum>, 8> names{{
      {"trace", level_enum::trace},
      {"debug", level_enum::debug},
      {"info", level_enum::info},
      {"warn", level_enum::warn},
      {"warning", level_enum::warn},
      {"error", level_enum::err},
      {"critical", level_enum::critical},
      {"off", level_enum::off},
    }};
    std::string lower(name);
    for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (const auto& [n, level] : names) {
        if (lower == n) {
            return level;
        }
    }
    return unexpected("unknown log level '" + std::string(name) +
                      "'; valid levels are: " + std::string(valid_level_names));
}

result<void, std::string> setup(std::string_view level, format fmt,
                                std::shared_ptr<spdlog::sinks::sink> sink) {
    auto parsed = parse_level(level);
    if (!parsed) {
        return unexpected(std::move(parsed.error()));
    }
    if (sink) {
        sink->set_formatter(make_formatter(fmt));
    } else {
        sink = make_stderr_sink(fmt);
    }

    auto& s = state();
    const std::lock_guard lock(s.mutex);
    s.level = *parsed;
    s.fan_out->set_sinks({std::move(sink)});
    for (const auto& [name, logger] : s.loggers) {
        logger->set_level(s.level);
    }
    return {};
}

std::shared_ptr<spdlog::logger> get(std::string_view module) {
    auto& s = state();
    const std::lock_guard lock(s.mutex);
    if (const auto it = s.loggers.find(module); it != s.loggers.end()) {
        return it->second;
    }
    auto logger = std::make_shared<spdlog::logger>(std::string(module), s.fan_out);
    logger->set_level(s.level);
    // Warnings and errors often precede a crash or an exit; make sure they reach the sink.
    logger->flush_on(spdlog::level::warn);
    s.loggers.emplace(std::string(module), logger);
    return logger;
}

} // namespace ms::logging
