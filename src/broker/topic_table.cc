#include "broker/topic_table.h"

#include <array>
#include <charconv>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "storage/file.h"

namespace ms::broker {

namespace {

constexpr std::string_view topics_file = "topics";
constexpr std::string_view topics_header = "memorystreamer-topics 1";

constexpr std::array<topic_config_key, 10> keys{{
  {"cleanup.policy", "delete (retention deletes old segments), compact (keep the newest record per key), or "
                     "compact,delete (both)"},
  {"compression.type", "producer: batches are stored as the producer compressed them"},
  {"delete.retention.ms", "compacted topics: how long a tombstone (null value) stays readable"},
  {"max.message.bytes", "largest record batch accepted, in bytes"},
  {"message.timestamp.type", "CreateTime (the producer's) or LogAppendTime (the broker's clock)"},
  {"min.cleanable.dirty.ratio",
   "compacted topics: compact when this fraction (0..1) of closed segments is not "
   "yet compacted"},
  {"retention.bytes", "delete old segments while the partition stays above this size; -1 = no limit"},
  {"retention.ms", "delete segments whose newest record is older than this; -1 = forever"},
  {"segment.bytes", "roll to a new segment file at this size"},
  {"segment.ms", "roll to a new segment file after this time"},
}};

result<int64_t, std::string> parse_integer(std::string_view key, std::string_view text, int64_t min,
                                           int64_t max) {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        return unexpected(fmt::format("{}={}: must be an integer from {} to {}", key, text, min, max));
    }
    return value;
}

result<double, std::string> parse_ratio(std::string_view key, std::string_view text) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !(value >= 0.0 && value <= 1.0)) {
        return unexpected(fmt::format("{}={}: must be a number from 0 to 1", key, text));
    }
    return value;
}

std::string hex(const protocol::uuid& id) {
    std::string out;
    for (std::byte b : id.bytes) {
        out += fmt::format("{:02x}", static_cast<unsigned>(b));
    }
    return out;
}

std::optional<protocol::uuid> parse_hex(std::string_view text) {
    protocol::uuid id;
    if (text.size() != 32) {
        return std::nullopt;
    }
    for (size_t i = 0; i < 16; ++i) {
        unsigned v = 0;
        const auto [end, ec] = std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, v, 16);
        if (ec != std::errc{} || end != text.data() + 2 * i + 2) {
            return std::nullopt;
        }
        id.bytes[i] = static_cast<std::byte>(v);
    }
    return id;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (;;) {
        const size_t pos = text.find(sep, start);
        parts.push_back(text.substr(start, pos - start));
        if (pos == std::string_view::npos) {
            return parts;
        }
        start = pos + 1;
    }
}

} // namespace

std::span<const topic_config_key> topic_config_keys() noexcept {
    return keys;
}

result<topic_config, std::string> make_topic_config(const config_overrides& overrides,
                                                    const topic_defaults& defaults) {
    topic_config config{defaults.log, defaults.timestamps};
    constexpr int64_t max_i64 = std::numeric_limits<int64_t>::max();
    for (const auto& [key, value] : overrides) {
        for (char c : value) {
            if (static_cast<unsigned char>(c) < 0x20) {
                return unexpected(fmt::format("{}: value contains a control character", key));
            }
        }
        if (key == "retention.ms") {
            auto v = parse_integer(key, value, -1, max_i64);
            if (!v) {
                return unexpected(v.error());
            }
            config.log.retention_ms = *v;
        } else if (key == "retention.bytes") {
            auto v = parse_integer(key, value, -1, max_i64);
            if (!v) {
                return unexpected(v.error());
            }
            config.log.retention_bytes = *v;
        } else if (key == "segment.bytes") {
            auto v = parse_integer(key, value, 14, std::numeric_limits<int32_t>::max());
            if (!v) {
                return unexpected(v.error());
            }
            config.log.segment_bytes = static_cast<uint64_t>(*v);
        } else if (key == "segment.ms") {
            auto v = parse_integer(key, value, 1, max_i64);
            if (!v) {
                return unexpected(v.error());
            }
            config.log.segment_ms = *v;
        } else if (key == "max.message.bytes") {
            auto v = parse_integer(key, value, 0, std::numeric_limits<int32_t>::max());
            if (!v) {
                return unexpected(v.error());
            }
            config.log.max_batch_bytes = static_cast<uint32_t>(*v);
        } else if (key == "message.timestamp.type") {
            if (value == "CreateTime") {
                config.timestamps = timestamp_type::create_time;
            } else if (value == "LogAppendTime") {
                config.timestamps = timestamp_type::log_append_time;
            } else {
                return unexpected(fmt::format("{}={}: must be CreateTime or LogAppendTime", key, value));
            }
        } else if (key == "cleanup.policy") {
            if (value == "delete") {
                config.log.compact = false;
                config.log.delete_by_retention = true;
            } else if (value == "compact") {
                config.log.compact = true;
                config.log.delete_by_retention = false;
            } else if (value == "compact,delete" || value == "delete,compact") {
                config.log.compact = true;
                config.log.delete_by_retention = true;
            } else {
                return unexpected(
                  fmt::format("{}={}: must be delete, compact, or compact,delete", key, value));
            }
        } else if (key == "delete.retention.ms") {
            auto v = parse_integer(key, value, 0, max_i64);
            if (!v) {
                return unexpected(v.error());
            }
            config.log.delete_retention_ms = *v;
        } else if (key == "min.cleanable.dirty.ratio") {
            auto v = parse_ratio(key, value);
            if (!v) {
                return unexpected(v.error());
            }
            config.log.min_cleanable_dirty_ratio = *v;
        } else if (key == "compression.type") {
            if (value != "producer") {
                return unexpected(fmt::format(
                  "{}={}: only 'producer' is supported (batches are stored as produced)", key, value));
            }
        } else {
            return unexpected(
              fmt::format("unknown topic config '{}'; supported: cleanup.policy, compression.type, "
                          "delete.retention.ms, max.message.bytes, message.timestamp.type, "
                          "min.cleanable.dirty.ratio, retention.bytes, retention.ms, segment.bytes, "
                          "segment.ms",
                          key));
        }
    }
    if (auto valid = config.log.validate(); !valid) {
        return unexpected(valid.error().message);
    }
    return config;
}

std::string config_value(const topic_config& config, std::string_view key) {
    if (key == "retention.ms") {
        return std::to_string(config.log.retention_ms);
    }
    if (key == "retention.bytes") {
        return std::to_string(config.log.retention_bytes);
    }
    if (key == "segment.bytes") {
        return std::to_string(config.log.segment_bytes);
    }
    if (key == "segment.ms") {
        return std::to_string(config.log.segment_ms);
    }
    if (key == "max.message.bytes") {
        return std::to_string(config.log.max_batch_bytes);
    }
    if (key == "message.timestamp.type") {
        return config.timestamps == timestamp_type::create_time ? "CreateTime" : "LogAppendTime";
    }
    if (key == "cleanup.policy") {
        if (!config.log.compact) {
            return "delete";
        }
        return config.log.delete_by_retention ? "compact,delete" : "compact";
    }
    if (key == "delete.retention.ms") {
        return std::to_string(config.log.delete_retention_ms);
    }
    if (key == "min.cleanable.dirty.ratio") {
        return fmt::format("{}", config.log.min_cleanable_dirty_ratio);
    }
    if (key == "compression.type") {
        return "producer";
    }
    return {};
}

std::optional<std::string> invalid_topic_name(std::string_view name) {
    if (name.empty()) {
        return "a topic name must not be empty";
    }
    if (name.size() > 249) {
        return fmt::format("topic name is {} characters long; the limit is 249", name.size());
    }
    if (name == "." || name == "..") {
        return fmt::format("'{}' is not a valid topic name", name);
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '_' || c == '-';
        if (!ok) {
            return fmt::format("topic name '{}' has a character outside [a-zA-Z0-9._-]", name);
        }
    }
    return std::nullopt;
}

protocol::uuid random_topic_id() {
    std::random_device entropy;
    protocol::uuid id;
    for (size_t i = 0; i < id.bytes.size(); i += 4) {
        const uint32_t v = entropy();
        for (size_t j = 0; j < 4; ++j) {
            id.bytes[i + j] = static_cast<std::byte>((v >> (8 * j)) & 0xffU);
        }
    }
    return id;
}

result<topic_map, std::string> load_topics(const std::filesystem::path& data_dir,
                                           const topic_defaults& defaults) {
    const auto path = data_dir / topics_file;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return topic_map{};
    }
    auto text = storage::read_small_file(path);
    if (!text) {
        return unexpected(text.error().message);
    }
    topic_map topics;
    const auto lines = split(*text, '\n');
    if (lines.empty() || lines[0] != topics_header) {
        return unexpected(
          fmt::format("{}: not a topics file (first line is not '{}')", path.string(), topics_header));
    }
    for (size_t n = 1; n < lines.size(); ++n) {
        if (lines[n].empty()) {
            continue;
        }
        const auto fields = split(lines[n], '\t');
        auto bad = [&](std::string_view what) {
            return unexpected(fmt::format("{} line {}: {}", path.string(), n + 1, what));
        };
        if (fields.size() < 3) {
            return bad("expected name, partition count and topic id");
        }
        topic_metadata t;
        t.name = std::string(fields[0]);
        if (auto why = invalid_topic_name(t.name)) {
            return bad(*why);
        }
        auto count = parse_integer("partitions", fields[1], 1, max_partitions_per_topic);
        auto id = parse_hex(fields[2]);
        if (!count || !id) {
            return bad("bad partition count or topic id");
        }
        t.partitions = static_cast<int32_t>(*count);
        t.id = *id;
        for (size_t i = 3; i < fields.size(); ++i) {
            const size_t eq = fields[i].find('=');
            if (eq == std::string_view::npos) {
                return bad(fmt::format("config '{}' is not key=value", fields[i]));
            }
            t.overrides.emplace(std::string(fields[i].substr(0, eq)), std::string(fields[i].substr(eq + 1)));
        }
        auto config = make_topic_config(t.overrides, defaults);
        if (!config) {
            return bad(config.error());
        }
        t.config = *config;
        topics.emplace(t.name, std::move(t));
    }
    return topics;
}

result<void, std::string> save_topics(const std::filesystem::path& data_dir, const topic_map& topics) {
    std::string text(topics_header);
    text += '\n';
    for (const auto& [name, t] : topics) {
        text += fmt::format("{}\t{}\t{}", name, t.partitions, hex(t.id));
        for (const auto& [key, value] : t.overrides) {
            text += fmt::format("\t{}={}", key, value);
        }
        text += '\n';
    }
    auto written = storage::write_file_atomic(data_dir / topics_file, std::as_bytes(std::span(text)));
    if (!written) {
        return unexpected(written.error().message);
    }
    return {};
}

} // namespace ms::broker
