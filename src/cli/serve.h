#pragma once
// `memorystreamer serve`: runs a broker until SIGTERM or SIGINT, then shuts down cleanly.
#include <map>
#include <string>

#include <CLI/CLI.hpp>

namespace ms::cli {

struct serve_command {
    std::string config_file;
    std::map<std::string, std::string> flags; // key -> value given on the command line
};

// Adds the `serve` subcommand and its flags to `app`; `command` receives what was given.
CLI::App* add_serve_command(CLI::App& app, serve_command& command);
// Runs the broker; returns the process exit code.
int run_serve(const serve_command& command);

} // namespace ms::cli
