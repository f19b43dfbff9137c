#include "cli/common/client_options.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

namespace ms::cli {

void add_client_options(CLI::App& sub, client_options& o, bool with_format) {
    if (const char* env = std::getenv("MEMORYSTREAMER_BROKERS"); env != nullptr && *env != '\0') {
        o.brokers = env;
    }
    sub
      .add_option("--brokers", o.brokers,
                  "Brokers to bootstrap from, HOST:PORT[,HOST:PORT...] [env: MEMORYSTREAMER_BROKERS]")
      ->capture_default_str();
    sub.add_option("--timeout", o.timeout_s, "Seconds to wait for a connection or an answer")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));
    if (with_format) {
        sub.add_option("--format", o.format, "Output: human text (tables) or one JSON document")
          ->transform(CLI::CheckedTransformer(std::map<std::string, output_format>{
            {"text", output_format::text}, {"json", output_format::json}}))
          ->default_str("text");
    }
}

result<client::broker_pool, connect_error> connect(const client_options& o) {
    auto endpoints = client::parse_endpoints(o.brokers);
    if (!endpoints) {
        return unexpected(connect_error{exit_usage, "--brokers: " + endpoints.error()});
    }
    const auto timeout = client::milliseconds(static_cast<int64_t>(o.timeout_s * 1000));
    auto pool = client::broker_pool::connect(*endpoints, timeout);
    if (!pool) {
        return unexpected(connect_error{exit_failed, pool.error()});
    }
    return std::move(*pool);
}

int fail(const std::string& command, const std::string& message, int code) {
    (void)std::fprintf(stderr, "memorystreamer %s: %s\n", command.c_str(), message.c_str());
    return code;
}

result<topic_target, std::string> find_topic(client::broker_pool& pool, const std::string& topic,
                                             const std::vector<int32_t>& wanted, bool all_when_none) {
    auto md = client::fetch_metadata(pool.bootstrap(), std::vector<std::string>{topic}, pool.timeout());
    if (!md) {
        return unexpected(std::move(md.error()));
    }
    pool.learn(md->addresses());
    const auto* found = md->find(topic);
    if (found == nullptr || found->error_code != 0) {
        return unexpected(fmt::format("topic '{}' does not exist", topic));
    }
    topic_target target{*found, wanted};
    const size_t count = found->partitions.size();
    for (const int32_t p : wanted) {
        if (p < 0 || static_cast<size_t>(p) >= count) {
            return unexpected(fmt::format("topic '{}' has no partition {} (it has {})", topic, p, count));
        }
    }
    if (wanted.empty() && all_when_none) {
        for (const auto& p : found->partitions) {
            target.partitions.push_back(p.id);
        }
    }
    return target;
}

void add_examples(CLI::App& sub, const std::string& examples) {
    sub.footer("Examples:\n" + examples +
               "\nExit codes: 0 ok, 1 the operation failed, 2 bad command line. See docs/cli.md.");
}

} // namespace ms::cli
