#pragma once

// `memorystreamer cluster info`: brokers, controller, cluster id and topic count.

#include <functional>

#include <CLI/CLI.hpp>

#include "cli/common/client_options.h"

namespace ms::cli {

struct cluster_command {
    client_options client;
    std::function<int()> action;
};

CLI::App* add_cluster_command(CLI::App& app, cluster_command& c);
int run_cluster_info(const cluster_command& c);

} // namespace ms::cli
