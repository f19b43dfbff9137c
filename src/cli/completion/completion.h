#pragma once

// `memorystreamer completion bash`: a bash completion script generated from the command tree
// itself (every subcommand, alias and flag), so it cannot fall behind the commands.

#include <string>

#include <CLI/CLI.hpp>

namespace ms::cli {

struct completion_command {
    std::string shell;
    CLI::App* app = nullptr;
};

CLI::App* add_completion_command(CLI::App& app, completion_command& c);
// The script for `root` (the whole memorystreamer command tree).
[[nodiscard]] std::string bash_completion_script(const CLI::App& root);
int run_completion(const completion_command& c, const CLI::App& root);

} // namespace ms::cli
