#include "admin/metrics_page.h"

#include "admin/api_names.h"
#include "admin/prometheus_text.h"
#include "broker/handlers/handler.h"

namespace ms::admin {

namespace {

using broker::shard_metrics;

// The slots worth a series: every API this broker serves (zeros included, so rate() works from
// the first scrape), and any other key a client actually sent.
template<typename Fn>
void for_each_api(const broker_totals& t, Fn fn) {
    for (size_t slot = 0; slot < t.apis.size(); ++slot) {
        const bool served = slot < static_cast<size_t>(shard_metrics::api_slots) &&
                            broker::find_handler(static_cast<int16_t>(slot)) != nullptr;
        if (served || t.apis[slot].requests > 0) {
            const auto key = slot == shard_metrics::unknown_api ? int16_t{-1} : static_cast<int16_t>(slot);
            fn(api_name(key), t.apis[slot]);
        }
    }
}

void request_metrics(prometheus_text& out, const broker_totals& t) {
    out.family("memorystreamer_kafka_requests_total", metric_type::counter,
               "Kafka requests received, by API (refused ones included)");
    for_each_api(t, [&out](const std::string& api, const broker::api_stats& s) {
        out.sample("memorystreamer_kafka_requests_total", {{"api", api}}, s.requests);
    });
    out.family(
      "memorystreamer_kafka_request_errors_total", metric_type::counter,
      "Kafka requests refused (unsupported API or version, undecodable: the connection is closed) or "
      "answered with an error code for at least one partition (Produce, Fetch)");
    for_each_api(t, [&out](const std::string& api, const broker::api_stats& s) {
        out.sample("memorystreamer_kafka_request_errors_total", {{"api", api}}, s.errors);
    });
    out.family("memorystreamer_kafka_request_duration_seconds", metric_type::histogram,
               "Time from a decoded Kafka request to its encoded response (acks=all produce includes the "
               "fsync; fetch includes the long poll), by API");
    for_each_api(t, [&out](const std::string& api, const broker::api_stats& s) {
        out.histogram("memorystreamer_kafka_request_duration_seconds", {{"api", api}}, s.latency);
    });
    out.family("memorystreamer_kafka_connections", metric_type::gauge, "Open Kafka client connections");
    out.sample("memorystreamer_kafka_connections", {}, t.connections);
}

void topic_metrics(prometheus_text& out, const broker_totals& t) {
    struct counter {
        const char* name;
        const char* help;
        uint64_t broker::topic_stats::*field;
    };
    const counter counters[] = {
      {"memorystreamer_topic_produced_bytes_total", "Record batch bytes appended to the topic by producers",
       &broker::topic_stats::produced_bytes},
      {"memorystreamer_topic_produced_records_total", "Records appended to the topic by producers",
       &broker::topic_stats::produced_records},
      {"memorystreamer_topic_fetched_bytes_total", "Record batch bytes of the topic sent to fetchers",
       &broker::topic_stats::fetched_bytes},
      {"memorystreamer_topic_fetched_records_total",
       "Offsets covered by the record batches of the topic sent to fetchers (records, counting those "
       "removed by compaction inside a batch)",
       &broker::topic_stats::fetched_records},
    };
    for (const counter& c : counters) {
        out.family(c.name, metric_type::counter, c.help);
        for (const auto& [name, totals] : t.topics) {
            out.sample(c.name, {{"topic", name}}, totals.traffic.*c.field);
        }
    }
    out.family("memorystreamer_topic_partitions", metric_type::gauge, "Partitions of the topic");
    for (const auto& [name, totals] : t.topics) {
        out.sample("memorystreamer_topic_partitions", {{"topic", name}},
                   static_cast<uint64_t>(totals.partitions));
    }
    out.family("memorystreamer_topic_log_size_bytes", metric_type::gauge,
               "Bytes of the topic's log segments, over all its partitions");
    for (const auto& [name, totals] : t.topics) {
        out.sample("memorystreamer_topic_log_size_bytes", {{"topic", name}}, totals.log_bytes);
    }
    out.family("memorystreamer_topic_log_segments", metric_type::gauge,
               "Log segments of the topic, over all its partitions");
    for (const auto& [name, totals] : t.topics) {
        out.sample("memorystreamer_topic_log_segments", {{"topic", name}}, totals.segments);
    }
}

void broker_metrics(prometheus_text& out, const broker_totals& t) {
    out.family("memorystreamer_partitions", metric_type::gauge,
               "Partition logs open on this broker (internal topics included)");
    out.sample("memorystreamer_partitions", {}, t.partitions);
    out.family("memorystreamer_fsync_duration_seconds", metric_type::histogram,
               "Duration of one group commit on a flusher thread: fdatasync of a log's data files, then its "
               "index, directory and checkpoint syncs");
    out.histogram("memorystreamer_fsync_duration_seconds", {}, t.sync_latency);
    out.family("memorystreamer_groups", metric_type::gauge, "Consumer groups this broker coordinates");
    out.sample("memorystreamer_groups", {}, t.groups);
    out.family("memorystreamer_group_rebalances_total", metric_type::counter,
               "Consumer group rebalances started (entries into PreparingRebalance)");
    out.sample("memorystreamer_group_rebalances_total", {}, t.rebalances);
    out.family("memorystreamer_shard_cpu_seconds_total", metric_type::counter,
               "CPU time used by each shard's thread; its rate is the shard's utilisation (0 to 1)");
    for (const shard_totals& s : t.shards) {
        out.sample("memorystreamer_shard_cpu_seconds_total", {{"shard", std::to_string(s.shard)}},
                   s.cpu_seconds);
    }
    out.family("memorystreamer_shard_partitions", metric_type::gauge, "Partition logs owned by each shard");
    for (const shard_totals& s : t.shards) {
        out.sample("memorystreamer_shard_partitions", {{"shard", std::to_string(s.shard)}}, s.partitions);
    }
}

} // namespace

std::string render_metrics(const broker_totals& totals) {
    prometheus_text out;
    request_metrics(out, totals);
    topic_metrics(out, totals);
    broker_metrics(out, totals);
    return out.take();
}

} // namespace ms::admin
