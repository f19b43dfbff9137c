#pragma once

// What every client command (topic, produce, consume, group, cluster) takes: --brokers (default
// 127.0.0.1:9092, or MEMORYSTREAMER_BROKERS), --format and --timeout, and how it connects.
//
// Exit codes, the same for every client command (docs/cli.md):
//   0  the operation succeeded
//   1  it failed: the broker refused or could not be reached, the topic or group is unknown, ...
//   2  the command line is wrong (unknown flag, missing or malformed argument)

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/result.h"
#include "client/broker_pool.h"
#include "client/topic_admin.h"

namespace ms::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

enum class output_format : uint8_t { text, json };

struct client_options {
    std::string brokers = "127.0.0.1:9092";
    output_format format = output_format::text;
    double timeout_s = 10;
};

// Adds --brokers, --timeout and (unless `with_format` is false) --format text|json to `sub`.
void add_client_options(CLI::App& sub, client_options& o, bool with_format = true);

// Connects to the first broker of --brokers that answers. A bad --brokers is a usage error.
struct connect_error {
    int exit_code = exit_failed;
    std::string message;
};
[[nodiscard]] result<client::broker_pool, connect_error> connect(const client_options& o);

// A topic as the cluster describes it, and the partitions a command works on.
struct topic_target {
    client::topic_metadata topic;
    std::vector<int32_t> partitions;
};
// Looks `topic` up (teaching `pool` the brokers' addresses); `wanted` partitions must exist, and
// when none are given every partition is taken, unless `all_when_none` is false.
[[nodiscard]] result<topic_target, std::string> find_topic(client::broker_pool& pool,
                                                           const std::string& topic,
                                                           const std::vector<int32_t>& wanted,
                                                           bool all_when_none = true);

// Prints "memorystreamer <command>: <message>" on stderr and returns `code`.
int fail(const std::string& command, const std::string& message, int code = exit_failed);

// Adds the footer with examples every command shows under --help.
void add_examples(CLI::App& sub, const std::string& examples);

} // namespace ms::cli
