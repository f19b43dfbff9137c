#include "admin/json_pages.h"

#include <fmt/format.h>

#include "admin/json.h"
#include "broker/groups/partition_offsets_log.h"

namespace ms::admin {

namespace {

// Kafka's text form of a topic id: URL-safe base64 without padding (22 characters).
std::string topic_id_text(const protocol::uuid& id) {
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    uint32_t bits = 0;
    int held = 0;
    for (const std::byte b : id.bytes) {
        bits = (bits << 8U) | static_cast<uint32_t>(b);
        held += 8;
        while (held >= 6) {
            held -= 6;
            out += alphabet[(bits >> static_cast<uint32_t>(held)) & 0x3fU];
        }
    }
    if (held > 0) {
        out += alphabet[(bits << static_cast<uint32_t>(6 - held)) & 0x3fU];
    }
    return out;
}

} // namespace

std::string render_topics(const broker_totals& totals) {
    std::string out = "{\"topics\":[";
    bool first = true;
    if (totals.table) {
        for (const auto& [name, meta] : *totals.table) {
            const auto it = totals.topics.find(name);
            const topic_totals none;
            const topic_totals& t = it == totals.topics.end() ? none : it->second;
            fmt::format_to(
              std::back_inserter(out),
              "{}{{\"name\":{},\"id\":{},\"partitions\":{},\"internal\":{},\"log_size_bytes\":{},"
              "\"log_segments\":{},\"produced_bytes\":{},\"produced_records\":{},"
              "\"fetched_bytes\":{},\"fetched_records\":{},\"configs\":{{",
              first ? "" : ",", json_string(name), json_string(topic_id_text(meta.id)), meta.partitions,
              name == broker::groups::offsets_topic ? "true" : "false", t.log_bytes, t.segments,
              t.traffic.produced_bytes, t.traffic.produced_records, t.traffic.fetched_bytes,
              t.traffic.fetched_records);
            bool first_config = true;
            for (const auto& [key, value] : meta.overrides) {
                fmt::format_to(std::back_inserter(out), "{}{}:{}", first_config ? "" : ",", json_string(key),
                               json_string(value));
                first_config = false;
            }
            out += "}}";
            first = false;
        }
    }
    out += "]}\n";
    return out;
}

std::string render_groups(const std::vector<group_entry>& groups) {
    std::string out = "{\"groups\":[";
    bool first = true;
    for (const group_entry& g : groups) {
        fmt::format_to(std::back_inserter(out),
                       "{}{{\"group_id\":{},\"protocol_type\":{},\"state\":{},\"coordinator_shard\":{}}}",
                       first ? "" : ",", json_string(g.group.group_id), json_string(g.group.protocol_type),
                       json_string(broker::groups::state_name(g.group.state)), g.shard);
        first = false;
    }
    out += "]}\n";
    return out;
}

std::string render_config(const std::vector<broker::resolved_setting>& settings) {
    std::string out = "{\"settings\":[";
    bool first = true;
    for (const broker::resolved_setting& s : settings) {
        fmt::format_to(std::back_inserter(out),
                       "{}{{\"key\":{},\"value\":{},\"default\":{},\"source\":{},\"help\":{}}}",
                       first ? "" : ",", json_string(s.key), json_string(s.value),
                       json_string(s.default_value), json_string(s.source), json_string(s.help));
        first = false;
    }
    out += "]}\n";
    return out;
}

} // namespace ms::admin
