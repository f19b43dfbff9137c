#include "cli/bench/bench_command.h"

#include <cstdlib>
#include <map>

#include "cli/bench/bench_modes.h"

namespace ms::cli::bench {

namespace {

void add_common(CLI::App& sub, common_options& o) {
    if (const char* env = std::getenv("MEMORYSTREAMER_BROKERS"); env != nullptr && *env != '\0') {
        o.brokers = env;
    }
    sub
      .add_option("--brokers", o.brokers,
                  "Brokers to bootstrap from, HOST:PORT[,HOST:PORT...] [env: MEMORYSTREAMER_BROKERS]")
      ->capture_default_str();
    sub.add_option("--topic", o.topic, "Topic to use")->capture_default_str();
    sub.add_option("--duration", o.duration_s, "Stop after this many seconds (0: no time limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
    sub.add_option("--messages", o.messages, "Stop after this many messages (0: no count limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
    sub.add_option("--format", o.format, "Result as a human table or one JSON object on stdout")
      ->transform(CLI::CheckedTransformer(
        std::map<std::string, output_format>{{"table", output_format::table}, {"json", output_format::json}}))
      ->default_str("table");
    sub.add_flag("!--no-progress", o.progress, "No progress line on stderr");
    sub
      .add_option("--timeout", o.timeout_s, "Seconds to wait for a connection or an answer before giving up")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

bool valid_limits(const common_options& o) {
    if (o.duration_s <= 0 && o.messages <= 0) {
        throw CLI::ValidationError("--duration/--messages", "give a duration or a message count (or both)");
    }
    return true;
}

} // namespace

CLI::App* add_bench_command(CLI::App& app, bench_command& c) {
    CLI::App* bench = app.add_subcommand(
      "bench", "Load-test a Kafka-compatible broker: produce, consume or end-to-end latency");
    bench->require_subcommand(1);
    bench->footer("Examples:\n"
                  "  memorystreamer bench produce --size 100 --acks 1 --duration 10\n"
                  "  memorystreamer bench consume --topic bench\n"
                  "  memorystreamer bench e2e --rate 10000 --duration 10 --format json\n"
                  "Performance is a measurement, never a pass/fail: bench/compare runs these next to the\n"
                  "machine's ceilings and peer systems.");

    auto& p = c.produce;
    c.produce_app =
      bench->add_subcommand("produce", "Send batches as fast as possible (or at --rate) and report "
                                       "msg/s, MB/s and Produce latency");
    add_common(*c.produce_app, p.common);
    c.produce_app->add_option("--partitions", p.partitions, "Partitions when the topic is created")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
    c.produce_app->add_option("--producers", p.producers, "Producer connections, one thread each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
    c.produce_app->add_option("--size", p.size, "Value bytes per message")
      ->capture_default_str()
      ->check(CLI::Range(0, 64 << 20));
    c.produce_app->add_option("--batch", p.batch, "Messages per batch (one batch per Produce request)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
    c.produce_app->add_option("--acks", p.acks, "0, 1 or all")->capture_default_str();
    c.produce_app->add_option("--compression", p.compression, "none, gzip, snappy, lz4 or zstd")
      ->capture_default_str();
    c.produce_app->add_option("--keys", p.keys, "Message keys: none, sequential or random (of 1M)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, key_mode>{
        {"none", key_mode::none}, {"sequential", key_mode::sequential}, {"random", key_mode::random}}))
      ->default_str("none");
    c.produce_app
      ->add_option("--rate", p.rate,
                   "Messages per second over all producers, on a fixed schedule (0: as "
                   "fast as possible)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
    c.produce_app->add_option("--max-in-flight", p.max_in_flight, "Pipelined requests per connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));

    auto& k = c.consume;
    c.consume_app =
      bench->add_subcommand("consume", "Read a topic from the start (to the end it had when the run "
                                       "began, or --messages) and report msg/s and MB/s");
    add_common(*c.consume_app, k.common);
    k.common.duration_s = 60;
    c.consume_app->add_option("--consumers", k.consumers, "Consumer connections, one thread each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
    c.consume_app->add_option("--fetch-max-bytes", k.fetch_max_bytes, "Fetch max_bytes")
      ->capture_default_str();
    c.consume_app->add_option("--partition-max-bytes", k.partition_max_bytes, "Fetch partition_max_bytes")
      ->capture_default_str();
    c.consume_app->add_option("--fetch-max-wait-ms", k.fetch_max_wait_ms, "Fetch max_wait_ms")
      ->capture_default_str();
    c.consume_app->add_flag("!--no-check-crc", k.check_crc, "Skip the CRC check of each batch");

    auto& e = c.e2e;
    c.e2e_app = bench->add_subcommand("e2e", "Produce at a fixed rate and consume; report produce-to-consume "
                                             "latency per message");
    add_common(*c.e2e_app, e.common);
    c.e2e_app->add_option("--partitions", e.partitions, "Partitions when the topic is created")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
    c.e2e_app->add_option("--size", e.size, "Value bytes per message (at least 16)")->capture_default_str();
    c.e2e_app->add_option("--rate", e.rate, "Messages per second")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
    c.e2e_app->add_option("--acks", e.acks, "0, 1 or all")->capture_default_str();
    c.e2e_app->add_option("--fetch-max-wait-ms", e.fetch_max_wait_ms, "Fetch max_wait_ms")
      ->capture_default_str();
    return bench;
}

int run_bench(const bench_command& c) {
    try {
        if (c.produce_app->parsed()) {
            valid_limits(c.produce.common);
            return run_produce(c.produce);
        }
        if (c.consume_app->parsed()) {
            return run_consume(c.consume);
        }
        if (c.e2e_app->parsed()) {
            valid_limits(c.e2e.common);
            return run_e2e(c.e2e);
        }
    } catch (const CLI::ValidationError& error) {
        (void)std::fprintf(stderr, "memorystreamer bench: %s\n", error.what());
        return 2;
    }
    return 2;
}

} // namespace ms::cli::bench
