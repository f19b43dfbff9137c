#pragma once

// `memorystreamer consume TOPIC`: prints records from the start (or --offset), following the topic
// as `rpk topic consume` does until interrupted, --num records were printed, or (with
// --exit-at-end) every partition was read to its end. With --group it is a member of a consumer
// group: it reads the partitions the group gives it from the group's committed offsets, commits
// what it printed, and leaves the group on exit (also on SIGINT/SIGTERM).

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common/client_options.h"

namespace ms::cli {

struct consume_command {
    client_options client;
    std::string topic;
    std::string format = "text";
    std::string offset = "start";
    std::vector<int32_t> partitions;
    std::string group;
    int64_t num = 0;
    bool exit_at_end = false;
    int32_t fetch_max_wait_ms = 500;
    int32_t session_timeout_ms = 10'000;
    std::function<int()> action;
};

CLI::App* add_consume_command(CLI::App& app, consume_command& c);
int run_consume(const consume_command& c);

// Where --offset says to start: start, end, an offset, or @timestamp_ms.
struct start_offset {
    enum class kind : uint8_t { start, end, exact, timestamp } what = kind::start;
    int64_t value = 0;
};
[[nodiscard]] result<start_offset, std::string> parse_start_offset(const std::string& text);
// The offset `from` names in each of `partitions`: the log start or end, the exact offset given
// (not checked against the log), or the first offset at or after a timestamp (the end when none).
[[nodiscard]] result<std::map<int32_t, int64_t>, std::string>
resolve_start_offsets(client::broker_pool& pool, const client::topic_metadata& t,
                      const std::vector<int32_t>& partitions, const start_offset& from);

} // namespace ms::cli
