// memorystreamer: the one binary. `memorystreamer serve` runs a broker; `bench` loads one; `topic`,
// `produce`, `consume`, `group` and `cluster` are the client commands (docs/cli.md).
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/bench/bench_command.h"
#include "cli/cluster/cluster_command.h"
#include "cli/completion/completion.h"
#include "cli/consume/consume_command.h"
#include "cli/group/group_command.h"
#include "cli/produce/produce_command.h"
#include "cli/serve.h"
#include "cli/topic/topic_command.h"

namespace {

int run(int argc, char** argv) {
    CLI::App app("MemoryStreamer: a Kafka-compatible streaming broker", "memorystreamer");
    app.set_version_flag("--version", "memorystreamer 0.1.0");
    app.require_subcommand(1);
    app.footer("Exit codes: 0 ok, 1 the operation failed (broker error, unknown topic, unreachable broker),\n"
               "2 bad command line. Client commands take --brokers HOST:PORT[,...] (default 127.0.0.1:9092,\n"
               "or MEMORYSTREAMER_BROKERS) and --format text|json. See docs/cli.md.");
    ms::cli::serve_command serve;
    CLI::App* serve_app = ms::cli::add_serve_command(app, serve);
    ms::cli::bench::bench_command bench;
    CLI::App* bench_app = ms::cli::bench::add_bench_command(app, bench);
    ms::cli::topic_command topic;
    ms::cli::add_topic_command(app, topic);
    ms::cli::produce_command produce;
    ms::cli::add_produce_command(app, produce);
    ms::cli::consume_command consume;
    ms::cli::add_consume_command(app, consume);
    ms::cli::group_command group;
    ms::cli::add_group_command(app, group);
    ms::cli::cluster_command cluster;
    ms::cli::add_cluster_command(app, cluster);
    ms::cli::completion_command completion;
    CLI::App* completion_app = ms::cli::add_completion_command(app, completion);
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
    if (completion_app->parsed()) {
        return ms::cli::run_completion(completion, app);
    }
    for (const auto* action :
         {&topic.action, &produce.action, &consume.action, &group.action, &cluster.action}) {
        if (*action) {
            return (*action)();
        }
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
