#pragma once

// `memorystreamer produce TOPIC [FILE...]`: one record per input line (stdin when no file).

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common/client_options.h"

namespace ms::cli {

struct produce_command {
    client_options client;
    std::string topic;
    std::vector<std::string> files;
    std::string key;
    std::string key_delim;
    std::vector<std::string> headers;
    int32_t partition = -1;
    std::string compression = "none";
    std::string acks = "all";
    bool tombstone = false;
    std::string delimiter = "\\n";
    int64_t max_record_bytes = 16 << 20;
    int64_t batch_bytes = 1 << 20;
    std::function<int()> action;
};

CLI::App* add_produce_command(CLI::App& app, produce_command& c);
int run_produce(const produce_command& c);

} // namespace ms::cli
