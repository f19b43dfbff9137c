#include "cli/serve.h"

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "admin/admin_server.h"
#include "base/logging.h"
#include "broker/broker.h"
#include "cli/serve_options.h"

namespace ms::cli {

namespace {

// Thousands of client connections need thousands of descriptors; the soft limit is often 1024.
void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

} // namespace

CLI::App* add_serve_command(CLI::App& app, serve_command& command) {
    CLI::App* serve = app.add_subcommand("serve", "Run a broker (single node: no flags needed)");
    serve->footer("Every setting can also come from the config file (key = value) and from the environment\n"
                  "(MEMORYSTREAMER_<KEY>, dots as underscores); flags win over the environment, which wins\n"
                  "over the file.\n\nExample:\n  memorystreamer serve --data-dir /var/lib/memorystreamer "
                  "--listen 0.0.0.0:9092 --advertise broker1.example.com:9092");
    serve->add_option("--config", command.config_file, "Read settings from FILE (key = value per line)")
      ->type_name("FILE");
    for (const serve_option& o : serve_options()) {
        const std::string key(o.key);
        serve
          ->add_option_function<std::string>(
            flag_name(o.key), [&command, key](const std::string& v) { command.flags[key] = v; },
            fmt::format("{} [default: {}] [env: {}]", o.help,
                        o.default_value.empty() ? "unset" : o.default_value, env_name(o.key)))
          ->type_name("");
    }
    return serve;
}

int run_serve(const serve_command& command) {
    std::map<std::string, std::string> values;
    std::map<std::string, std::string> sources;
    for (const serve_option& o : serve_options()) {
        values[std::string(o.key)] = std::string(o.default_value);
        sources[std::string(o.key)] = "default";
    }
    if (!command.config_file.empty()) {
        auto file = read_config_file(command.config_file);
        if (!file) {
            (void)std::fprintf(stderr, "error: %s\n", file.error().c_str());
            return 2;
        }
        for (auto& [k, v] : *file) {
            values[k] = v;
            sources[k] = "config_file";
        }
    }
    for (const serve_option& o : serve_options()) {
        if (const char* env = std::getenv(env_name(o.key).c_str()); env != nullptr) {
            values[std::string(o.key)] = env;
            sources[std::string(o.key)] = "environment";
        }
    }
    for (const auto& [k, v] : command.flags) {
        values[k] = v;
        sources[k] = "flag";
    }
    broker::broker_config config;
    for (const serve_option& o : serve_options()) {
        const std::string key(o.key);
        config.settings.push_back(
          {key, values[key], std::string(o.default_value), sources[key], std::string(o.help)});
    }
    logging_settings logs;
    if (auto applied = apply_options(values, config, logs); !applied) {
        (void)std::fprintf(stderr, "error: %s\n", applied.error().c_str());
        return 2;
    }
    if (auto set =
          logging::setup(logs.level, logs.format == "json" ? logging::format::json : logging::format::text);
        !set) {
        (void)std::fprintf(stderr, "error: log.level: %s\n", set.error().c_str());
        return 2;
    }
    auto log = logging::get("main");
    raise_descriptor_limit();
    (void)std::signal(SIGPIPE, SIG_IGN);
    // Block the stop signals before any thread starts, so only sigwait below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    broker::broker server(config);
    if (auto started = server.start(); !started) {
        log->error("cannot start: {}", started.error());
        server.stop();
        return 1;
    }
    // The admin API starts once the shards run (its pages read them) and stops before they do.
    std::optional<admin::admin_server> admin_api;
    if (config.admin_listen) {
        admin_api.emplace(server);
        if (auto listening = admin_api->start(*config.admin_listen); !listening) {
            log->error("cannot start: {}", listening.error());
            admin_api.reset();
            server.stop();
            return 1;
        }
        // Tests and scripts find a port picked with :0 in this line.
        log->info("admin HTTP API on {}:{} (/metrics, /v1/health, /v1/ready, /v1/topics, /v1/groups, "
                  "/v1/config)",
                  config.admin_listen->host, admin_api->bound_port());
    } else {
        log->info("admin HTTP API off (admin.listen = off)");
    }
    int received = 0;
    sigwait(&stop_signals, &received);
    log->info("received {}; stopping", received == SIGTERM ? "SIGTERM" : "SIGINT");
    if (admin_api) {
        admin_api->stop();
    }
    server.stop();
    return 0;
}

} // namespace ms::cli
