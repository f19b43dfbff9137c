#include "cli/serve_options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>

#include <fmt/format.h>

namespace ms::cli {

namespace {

const std::vector<serve_option> options{
  {"listen", "127.0.0.1:9092", "Kafka API address (HOST:PORT; port 0 picks a free port)"},
  {"advertise", "", "address given to clients in metadata (default: the listen address)"},
  {"admin.listen", "127.0.0.1:9644",
   "admin HTTP API address (/metrics for Prometheus, /v1/health, /v1/ready, /v1/topics, /v1/groups, "
   "/v1/config); HOST:PORT, port 0 picks a free port, `off` disables it"},
  {"data.dir", "./data", "where topics and logs are stored"},
  {"smp", "0", "number of shards (threads, one per core); 0 = every available core"},
  {"pin.shards", "false",
   "pin each shard to its own core: for machines dedicated to the broker (with clients on the same cores, "
   "pinned shards cannot move off a busy core and tail latency suffers)"},
  {"node.id", "0", "this broker's node id"},
  {"num.partitions", "1", "partition count of auto-created topics and of CreateTopics with -1"},
  {"auto.create.topics.enable", "true", "create unknown topics named in a Metadata request"},
  {"socket.request.max.bytes", "104857600",
   "largest request frame accepted; bigger ones close the connection"},
  {"connections.max.idle.ms", "600000", "close connections idle this long"},
  {"max.connections", "10000", "refuse connections beyond this many"},
  {"message.max.bytes", "1048588", "default max.message.bytes of topics (largest record batch)"},
  {"log.segment.bytes", "1073741824", "default segment.bytes of topics"},
  {"log.roll.ms", "604800000", "default segment.ms of topics"},
  {"log.retention.ms", "604800000", "default retention.ms of topics (-1 = keep forever)"},
  {"log.retention.bytes", "-1", "default retention.bytes of topics (-1 = no size limit)"},
  {"log.message.timestamp.type", "CreateTime",
   "default message.timestamp.type (CreateTime or LogAppendTime)"},
  {"log.retention.check.interval.ms", "300000", "how often retention runs"},
  {"log.cleanup.policy", "delete",
   "default cleanup.policy of topics: delete, compact (keep the newest record per key) or compact,delete"},
  {"log.cleaner.delete.retention.ms", "86400000",
   "default delete.retention.ms: how long tombstones stay readable in compacted topics"},
  {"log.cleaner.min.cleanable.ratio", "0.5",
   "default min.cleanable.dirty.ratio: compact a log once this fraction of its closed segments is not "
   "compacted"},
  {"log.cleaner.backoff.ms", "15000", "how often each shard looks for compacted logs due for compaction"},
  {"shard.idle.spin.us", "0",
   "how long a shard keeps polling for work before it sleeps: saves a thread wake-up per request when "
   "traffic is dense and cores are spare; costs a busy core (measure with memorystreamer bench e2e)"},
  {"log.flush.threads", "8",
   "threads that run fdatasync for acks=all and commits: syncs of different partitions run at once (the "
   "file system joins concurrent syncs into one journal commit), so more threads raise durable throughput"},
  {"log.preallocate.bytes", "33554432",
   "how far ahead of a busy partition's writes its segment file's disk blocks are allocated, in the "
   "background (0 = off), so that appends do not wait for the filesystem to allocate blocks while it "
   "writes the same file back. Grows with the segment, never past what it already holds"},
  {"shutdown.grace.ms", "10000", "on SIGTERM, how long requests in flight may take to finish"},
  {"offsets.topic.num.partitions", "16",
   "partitions of the internal topic __consumer_offsets (groups are spread over them and over shards); "
   "used when the topic is created"},
  {"offsets.topic.segment.bytes", "104857600",
   "segment.bytes of __consumer_offsets; used when the topic is created"},
  {"offsets.retention.minutes", "10080",
   "how long committed offsets stay after their group became empty (or after the last commit of a group "
   "that only commits)"},
  {"offsets.retention.check.interval.ms", "600000", "how often expired offsets and empty groups are removed"},
  {"offset.metadata.max.bytes", "4096", "longest metadata string of a committed offset"},
  {"group.min.session.timeout.ms", "6000", "smallest session timeout a consumer may ask for"},
  {"group.max.session.timeout.ms", "1800000", "largest session timeout a consumer may ask for"},
  {"group.initial.rebalance.delay.ms", "3000",
   "how long the first rebalance of an empty group waits for more members to join"},
  {"group.max.size", "2147483647", "most members in one group"},
  {"log.level", "info", "trace, debug, info, warn, error or off"},
  {"log.format", "text", "text or json (one object per line)"},
};

result<int64_t, std::string> integer(std::string_view key, std::string_view text, int64_t min, int64_t max) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < min || v > max) {
        return unexpected(fmt::format("{}: '{}' is not an integer from {} to {}", key, text, min, max));
    }
    return v;
}

result<bool, std::string> boolean(std::string_view key, std::string_view text) {
    if (text == "true" || text == "1" || text == "yes") {
        return true;
    }
    if (text == "false" || text == "0" || text == "no") {
        return false;
    }
    return unexpected(fmt::format("{}: '{}' is not true or false", key, text));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

} // namespace

const std::vector<serve_option>& serve_options() {
    return options;
}

std::string flag_name(std::string_view key) {
    std::string out = "--";
    for (char c : key) {
        out += c == '.' ? '-' : c;
    }
    return out;
}

std::string env_name(std::string_view key) {
    std::string out = "MEMORYSTREAMER_";
    for (char c : key) {
        out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

result<std::map<std::string, std::string>, std::string> read_config_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return unexpected(fmt::format("cannot read config file '{}'", path));
    }
    std::map<std::string, std::string> values;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        std::string_view text = trim(line);
        if (text.empty() || text.front() == '#') {
            continue;
        }
        const size_t eq = text.find('=');
        if (eq == std::string_view::npos) {
            return unexpected(fmt::format("{}:{}: expected 'key = value', got '{}'", path, n, text));
        }
        const std::string key(trim(text.substr(0, eq)));
        const bool known =
          std::any_of(options.begin(), options.end(), [&](const serve_option& o) { return o.key == key; });
        if (!known) {
            return unexpected(
              fmt::format("{}:{}: unknown setting '{}' (see `memorystreamer serve --help`)", path, n, key));
        }
        values[key] = std::string(trim(text.substr(eq + 1)));
    }
    return values;
}

result<void, std::string> apply_options(const std::map<std::string, std::string>& values,
                                        broker::broker_config& config, logging_settings& logs) {
    constexpr int64_t max_i64 = std::numeric_limits<int64_t>::max();
    constexpr int64_t max_i32 = std::numeric_limits<int32_t>::max();
    for (const auto& entry : values) {
        const std::string& key = entry.first; // named references: lambdas below capture them
        const std::string& value = entry.second;
        result<void, std::string> applied;
        auto set_int = [&](int64_t min, int64_t max, const std::function<void(int64_t)>& set) {
            auto v = integer(key, value, min, max);
            if (!v) {
                applied = unexpected(v.error());
            } else {
                set(*v);
            }
        };
        if (key == "listen" || key == "advertise") {
            if (key == "advertise" && value.empty()) {
                config.advertise.reset();
                continue;
            }
            auto address = net::parse_listen_address(value);
            if (!address) {
                applied = unexpected(fmt::format("{}: {}", key, address.error()));
            } else if (key == "listen") {
                config.listen = *address;
            } else {
                config.advertise = *address;
            }
        } else if (key == "admin.listen") {
            if (value == "off") {
                config.admin_listen.reset();
                continue;
            }
            auto address = net::parse_listen_address(value);
            if (!address) {
                applied = unexpected(fmt::format("{}: {} (or `off`)", key, address.error()));
            } else {
                config.admin_listen = *address;
            }
        } else if (key == "data.dir") {
            if (value.empty()) {
                applied = unexpected(std::string("data.dir: must not be empty"));
            }
            config.data_dir = value;
        } else if (key == "smp") {
            set_int(0, 1024, [&](int64_t v) { config.smp = static_cast<size_t>(v); });
        } else if (key == "pin.shards") {
            auto v = boolean(key, value);
            if (v) {
                config.pin_shards = *v;
            } else {
                applied = unexpected(v.error());
            }
        } else if (key == "node.id") {
            set_int(0, max_i32, [&](int64_t v) { config.node_id = static_cast<int32_t>(v); });
        } else if (key == "num.partitions") {
            set_int(1, broker::max_partitions_per_topic,
                    [&](int64_t v) { config.num_partitions = static_cast<int32_t>(v); });
        } else if (key == "auto.create.topics.enable") {
            auto v = boolean(key, value);
            if (v) {
                config.auto_create_topics = *v;
            } else {
                applied = unexpected(v.error());
            }
        } else if (key == "socket.request.max.bytes") {
            set_int(1024, max_i32,
                    [&](int64_t v) { config.limits.max_request_bytes = static_cast<size_t>(v); });
        } else if (key == "connections.max.idle.ms") {
            set_int(1, max_i64 / 1000,
                    [&](int64_t v) { config.limits.idle_timeout = std::chrono::milliseconds(v); });
        } else if (key == "max.connections") {
            set_int(1, max_i32, [&](int64_t v) { config.limits.max_connections = static_cast<size_t>(v); });
        } else if (key == "message.max.bytes") {
            set_int(0, max_i32,
                    [&](int64_t v) { config.topics.log.max_batch_bytes = static_cast<uint32_t>(v); });
        } else if (key == "log.segment.bytes") {
            set_int(14, max_i32,
                    [&](int64_t v) { config.topics.log.segment_bytes = static_cast<uint64_t>(v); });
        } else if (key == "log.roll.ms") {
            set_int(1, max_i64, [&](int64_t v) { config.topics.log.segment_ms = v; });
        } else if (key == "log.retention.ms") {
            set_int(-1, max_i64, [&](int64_t v) { config.topics.log.retention_ms = v; });
        } else if (key == "log.retention.bytes") {
            set_int(-1, max_i64, [&](int64_t v) { config.topics.log.retention_bytes = v; });
        } else if (key == "log.message.timestamp.type") {
            if (value == "CreateTime") {
                config.topics.timestamps = broker::timestamp_type::create_time;
            } else if (value == "LogAppendTime") {
                config.topics.timestamps = broker::timestamp_type::log_append_time;
            } else {
                applied = unexpected(fmt::format("{}: '{}' is not CreateTime or LogAppendTime", key, value));
            }
        } else if (key == "log.retention.check.interval.ms") {
            set_int(1, max_i64 / 1000,
                    [&](int64_t v) { config.retention_check_interval = std::chrono::milliseconds(v); });
        } else if (key == "shutdown.grace.ms") {
            set_int(0, max_i64 / 1000,
                    [&](int64_t v) { config.shutdown_grace = std::chrono::milliseconds(v); });
        } else if (key == "log.cleanup.policy" || key == "log.cleaner.min.cleanable.ratio") {
            // The same parser and checks as the topic configs these are defaults of.
            const char* topic_key =
              key == "log.cleanup.policy" ? "cleanup.policy" : "min.cleanable.dirty.ratio";
            auto parsed = broker::make_topic_config({{topic_key, value}}, config.topics);
            if (!parsed) {
                applied = unexpected(fmt::format("{}: {}", key, parsed.error()));
            } else {
                config.topics.log = parsed->log;
            }
        } else if (key == "log.cleaner.delete.retention.ms") {
            set_int(0, max_i64, [&](int64_t v) { config.topics.log.delete_retention_ms = v; });
        } else if (key == "log.cleaner.backoff.ms") {
            set_int(1, max_i64 / 1000,
                    [&](int64_t v) { config.cleaner_backoff = std::chrono::milliseconds(v); });
        } else if (key == "shard.idle.spin.us") {
            set_int(0, 1'000'000, [&](int64_t v) { config.idle_spin = std::chrono::microseconds(v); });
        } else if (key == "log.preallocate.bytes") {
            set_int(0, int64_t{1} << 30,
                    [&](int64_t v) { config.preallocate_bytes = static_cast<uint64_t>(v); });
        } else if (key == "log.flush.threads") {
            set_int(1, 256, [&](int64_t v) { config.flush_threads = static_cast<size_t>(v); });
        } else if (key == "offsets.topic.num.partitions") {
            set_int(1, 1000, [&](int64_t v) { config.groups.offsets_partitions = static_cast<int32_t>(v); });
        } else if (key == "offsets.topic.segment.bytes") {
            set_int(14, std::numeric_limits<int32_t>::max(),
                    [&](int64_t v) { config.groups.offsets_segment_bytes = v; });
        } else if (key == "offsets.retention.minutes") {
            set_int(1, max_i64 / 60'000, [&](int64_t v) { config.groups.offsets_retention_ms = v * 60'000; });
        } else if (key == "offsets.retention.check.interval.ms") {
            set_int(1, max_i64 / 2,
                    [&](int64_t v) { config.groups.offsets_retention_check_interval_ms = v; });
        } else if (key == "offset.metadata.max.bytes") {
            set_int(0, max_i32,
                    [&](int64_t v) { config.groups.offset_metadata_max_bytes = static_cast<int32_t>(v); });
        } else if (key == "group.min.session.timeout.ms") {
            set_int(1, max_i32,
                    [&](int64_t v) { config.groups.min_session_timeout_ms = static_cast<int32_t>(v); });
        } else if (key == "group.max.session.timeout.ms") {
            set_int(1, max_i32,
                    [&](int64_t v) { config.groups.max_session_timeout_ms = static_cast<int32_t>(v); });
        } else if (key == "group.initial.rebalance.delay.ms") {
            set_int(0, max_i32,
                    [&](int64_t v) { config.groups.initial_rebalance_delay_ms = static_cast<int32_t>(v); });
        } else if (key == "group.max.size") {
            set_int(1, max_i32, [&](int64_t v) { config.groups.max_group_size = static_cast<int32_t>(v); });
        } else if (key == "log.level") {
            logs.level = value;
        } else if (key == "log.format") {
            if (value != "text" && value != "json") {
                applied = unexpected(fmt::format("{}: '{}' is not text or json", key, value));
            }
            logs.format = value;
        } else {
            applied = unexpected(fmt::format("unknown setting '{}'", key));
        }
        if (!applied) {
            return applied;
        }
    }
    if (auto valid = config.topics.log.validate(); !valid) {
        return unexpected(valid.error().message);
    }
    if (config.groups.min_session_timeout_ms > config.groups.max_session_timeout_ms) {
        return unexpected(
          fmt::format("group.min.session.timeout.ms ({}) is above group.max.session.timeout.ms ({})",
                      config.groups.min_session_timeout_ms, config.groups.max_session_timeout_ms));
    }
    return {};
}

} // namespace ms::cli
