#include "cli/produce/produce_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "cli/common/output.h"
#include "cli/produce/record_parser.h"
#include "client/producer.h"

namespace ms::cli {

namespace {

result<model::compression, std::string> parse_compression(const std::string& name) {
    for (const auto codec : {model::compression::none, model::compression::gzip, model::compression::snappy,
                             model::compression::lz4, model::compression::zstd}) {
        if (model::codec_name(codec) == name) {
            return codec;
        }
    }
    return unexpected(fmt::format("--compression: unknown codec '{}' (none, gzip, snappy, lz4, zstd)", name));
}

result<int16_t, std::string> parse_acks(const std::string& text) {
    if (text == "all" || text == "-1") {
        return int16_t{-1};
    }
    if (text == "0" || text == "1") {
        return static_cast<int16_t>(text[0] - '0');
    }
    return unexpected(fmt::format("--acks: '{}' is not 0, 1 or all", text));
}

result<char, std::string> parse_delimiter(const std::string& text) {
    if (text == "\\n") {
        return '\n';
    }
    if (text == "\\0") {
        return '\0';
    }
    if (text == "\\t") {
        return '\t';
    }
    if (text.size() == 1) {
        return text[0];
    }
    return unexpected(fmt::format("--delimiter: '{}' is not one byte (or \\n, \\t, \\0)", text));
}

void print_summary(const produce_command& c, const client::producer& p, int64_t total) {
    if (c.client.format == output_format::json) {
        json_writer j;
        j.begin_object().field("topic", c.topic).field("records", total).key("partitions").begin_array();
        for (const auto& [partition, progress] : p.progress()) {
            j.begin_object().field("partition", partition).field("records", progress.records);
            j.key("first_offset");
            progress.first_offset >= 0 ? j.value(progress.first_offset) : j.null();
            j.key("last_offset");
            progress.last_offset >= 0 ? j.value(progress.last_offset) : j.null();
            j.end_object();
        }
        j.end_array().end_object();
        j.print();
        return;
    }
    (void)std::printf("Produced %lld records to topic %s\n", static_cast<long long>(total), c.topic.c_str());
    text_table t({"PARTITION", "RECORDS", "FIRST-OFFSET", "LAST-OFFSET"});
    const auto offset = [](int64_t o) { return o >= 0 ? std::to_string(o) : std::string("-"); };
    for (const auto& [partition, progress] : p.progress()) {
        t.add({std::to_string(partition), std::to_string(progress.records), offset(progress.first_offset),
               offset(progress.last_offset)});
    }
    if (!t.empty()) {
        t.print();
    }
}

} // namespace

CLI::App* add_produce_command(CLI::App& app, produce_command& c) {
    auto* sub =
      app.add_subcommand("produce", "Produce records to a topic, one per input line (stdin or files)");
    add_client_options(*sub, c.client);
    sub->add_option("topic", c.topic, "Topic to produce to (it must exist)")->required();
    sub->add_option("files", c.files, "Files to read records from ('-' or none: stdin)");
    sub->add_option("-k,--key", c.key, "The same key on every record");
    auto* delim =
      sub->add_option("--key-delim", c.key_delim,
                      "Split each line at the first DELIM into KEY and VALUE (e.g. --key-delim :)");
    delim->excludes("--key");
    sub->add_option("-H,--header", c.headers,
                    "Header KEY=VALUE on every record (repeatable; KEY alone: null value)");
    sub
      ->add_option("-p,--partition", c.partition,
                   "Partition to produce to (-1: by key hash as Kafka's default partitioner, round-robin "
                   "without a key)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 1'000'000));
    sub->add_option("-z,--compression", c.compression, "none, gzip, snappy, lz4 or zstd")
      ->capture_default_str();
    sub->add_option("--acks", c.acks, "0, 1 or all")->capture_default_str();
    sub->add_flag("--tombstone", c.tombstone,
                  "Empty values are produced as null (tombstones for compaction)");
    sub->add_option("--delimiter", c.delimiter, "Record delimiter: one byte, or \\n, \\t, \\0")
      ->capture_default_str();
    sub->add_option("--max-record-bytes", c.max_record_bytes, "Longest input record accepted")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
    sub->add_option("--batch-bytes", c.batch_bytes, "Send once this many bytes are queued")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
    add_examples(*sub,
                 "  echo hello | memorystreamer produce orders\n"
                 "  printf 'k1:v1\\nk2:v2\\n' | memorystreamer produce orders --key-delim : -H source=cli\n"
                 "  memorystreamer produce orders events.txt -z zstd --acks 1 --format json\n"
                 "Records are sent when --batch-bytes are queued and whenever input pauses, so an\n"
                 "interactive line is sent at once. Prints how many records went to which offsets.");
    sub->callback([&c] { c.action = [&c] { return run_produce(c); }; });
    return sub;
}

int run_produce(const produce_command& c) {
    const std::string cmd = "produce";
    auto codec = parse_compression(c.compression);
    if (!codec) {
        return fail(cmd, codec.error(), exit_usage);
    }
    auto acks = parse_acks(c.acks);
    if (!acks) {
        return fail(cmd, acks.error(), exit_usage);
    }
    auto delimiter = parse_delimiter(c.delimiter);
    if (!delimiter) {
        return fail(cmd, delimiter.error(), exit_usage);
    }
    record_parser_settings settings;
    if (!c.key.empty()) {
        settings.key = c.key;
    }
    if (!c.key_delim.empty()) {
        settings.key_delim = c.key_delim;
    }
    settings.tombstone = c.tombstone;
    for (const auto& h : c.headers) {
        auto parsed = parse_header(h);
        if (!parsed) {
            return fail(cmd, parsed.error(), exit_usage);
        }
        settings.headers.push_back(std::move(*parsed));
    }
    std::vector<int> fds;
    for (const auto& f : c.files) {
        if (f == "-") {
            fds.push_back(STDIN_FILENO);
            continue;
        }
        const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            const std::string why = std::strerror(errno);
            for (const int open_fd : fds) {
                if (open_fd != STDIN_FILENO) {
                    ::close(open_fd);
                }
            }
            return fail(cmd, fmt::format("cannot open '{}': {}", f, why));
        }
        fds.push_back(fd);
    }
    if (fds.empty()) {
        fds.push_back(STDIN_FILENO);
    }
    const auto close_all = [&fds] {
        for (const int fd : fds) {
            if (fd != STDIN_FILENO) {
                ::close(fd);
            }
        }
    };
    auto pool = connect(c.client);
    if (!pool) {
        close_all();
        return fail(cmd, pool.error().message, pool.error().exit_code);
    }
    client::producer_settings ps;
    ps.acks = *acks;
    ps.codec = *codec;
    auto producer = client::producer::open(*pool, c.topic, ps);
    if (!producer) {
        close_all();
        return fail(cmd, producer.error());
    }
    if (c.partition >= producer->partitions()) {
        close_all();
        return fail(cmd, fmt::format("topic '{}' has no partition {} (it has {})", c.topic, c.partition,
                                     producer->partitions()));
    }
    int64_t total = 0;
    const auto send_queued = [&]() -> result<void, std::string> {
        if (producer->queued_records() == 0) {
            return {};
        }
        const auto n = static_cast<int64_t>(producer->queued_records());
        auto sent = producer->flush();
        if (sent) {
            total += n;
        }
        return sent;
    };
    std::string failure;
    for (const int fd : fds) {
        line_source source(fd, *delimiter, static_cast<size_t>(c.max_record_bytes));
        for (;;) {
            auto line = source.next(send_queued);
            if (!line) {
                failure = line.error();
                break;
            }
            if (!*line) {
                break;
            }
            auto record = parse_line(**line, settings);
            if (!record) {
                failure = record.error();
                break;
            }
            if (auto added = producer->add(std::move(*record), c.partition); !added) {
                failure = added.error();
                break;
            }
            if (producer->queued_bytes() >= static_cast<size_t>(c.batch_bytes)) {
                if (auto sent = send_queued(); !sent) {
                    failure = sent.error();
                    break;
                }
            }
        }
        if (!failure.empty()) {
            break;
        }
    }
    close_all();
    if (failure.empty()) {
        if (auto sent = send_queued(); !sent) {
            failure = sent.error();
        }
    }
    print_summary(c, *producer, total);
    if (!failure.empty()) {
        return fail(cmd, failure);
    }
    return exit_ok;
}

} // namespace ms::cli
