// memorystreamer: the one binary. `memorystreamer serve` runs a broker; `memorystreamer bench` loads one.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/bench/bench_command.h"
#include "cli/serve.h"

namespace {

int run(int argc, char** argv) {
    CLI::App app("MemoryStreamer: a Kafka-compatible streaming broker", "memorystreamer");
    app.set_version_flag("--version", "memorystreamer 0.1.0");
    app.require_subcommand(1);
    ms::cli::serve_command serve;
    CLI::App* serve_app = ms::cli::add_serve_command(app, serve);
    ms::cli::bench::bench_command bench;
    CLI::App* bench_app = ms::cli::bench::add_bench_command(app, bench);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version exit 0; every bad command line exits 2, whatever CLI11's own code.
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (serve_app->parsed()) {
        return ms::cli::run_serve(serve);
    }
    if (bench_app->parsed()) {
        return ms::cli::bench::run_bench(bench);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "memorystreamer: fatal: %s\n", e.what());
    } catch (...) {
        (void)std::fprintf(stderr, "memorystreamer: fatal: unknown exception\n");
    }
    return 1;
}
