#pragma once

// `memorystreamer group list|describe|delete|seek`.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common/client_options.h"

namespace ms::cli {

struct group_command {
    client_options client;
    std::vector<std::string> groups;
    std::string topic;
    std::string to;
    std::vector<int32_t> partitions;
    bool dry_run = false;
    std::function<int()> action;
};

CLI::App* add_group_command(CLI::App& app, group_command& c);

int run_group_list(const group_command& c);
int run_group_describe(const group_command& c);
int run_group_delete(const group_command& c);
int run_group_seek(const group_command& c);

} // namespace ms::cli
