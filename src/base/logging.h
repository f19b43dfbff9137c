#pragma once

// Process-wide logging on top of spdlog.
//
// Every logger returned by get() writes to one shared sink, so setup() may be called at any time
// (typically once, from main, after parsing the configuration) and loggers obtained earlier follow
// the new level, format and destination. Until setup() runs, output goes to stderr as text at
// level info.
//
// Formats, one line per message, timestamps in UTC:
//   text: 2024-05-01T12:00:00.123456Z info [storage] segment 42 rolled
//   json: {"ts":"2024-05-01T12:00:00.123456Z","level":"info","logger":"storage","msg":"..."}
// In json the logger name and message are escaped per RFC 8259 (quotes, backslashes, control
// characters), so a message can never break the one-object-per-line framing.
//
// Thread-safety: get() and setup() may be called from any thread, concurrently with logging.
// Logging takes a mutex: keep it off per-record paths.

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

#include "base/result.h"

namespace ms::logging {

enum class format {
    text,
    json,
};

// Parses a level name: trace, debug, info, warn, error, critical or off (case-insensitive;
// "warning" is also accepted). The error names the valid levels.
result<spdlog::level::level_enum, std::string> parse_level(std::string_view name);

// Sets the level and format of every logger, and where they write: `sink`, or stderr when null.
// On error (unknown level) nothing changes.
result<void, std::string> setup(std::string_view level, format fmt,
                                std::shared_ptr<spdlog::sinks::sink> sink = nullptr);

// The logger for `module` (e.g. "storage"), created on first use; the same object every time.
std::shared_ptr<spdlog::logger> get(std::string_view module);

} // namespace ms::logging
