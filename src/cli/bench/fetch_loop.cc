#include "cli/bench/fetch_loop.h"

#include <algorithm>
#include <span>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "cli/bench/checked_batch.h"
#include "model/record_reader.h"
#include "model/record_set.h"
#include "protocol/kafka_error.h"
#include "protocol/messages/all.h"

namespace ms::cli::bench {

namespace {

using steady = std::chrono::steady_clock;
constexpr int16_t fetch_key = 1;
constexpr int16_t list_offsets_key = 2;
constexpr int64_t latest_timestamp = -1;
constexpr int64_t earliest_timestamp = -2;

struct partition_cursor {
    int32_t partition = 0;
    int64_t next = 0;
    int64_t end = 0; // where stop_at_end stops
};

// The offset at `timestamp` (-1 latest, -2 earliest) of each of the worker's partitions.
result<std::map<int32_t, int64_t>, std::string>
list_offsets(client::kafka_connection& conn, const fetch_loop_settings& s, int64_t timestamp) {
    const auto version = conn.version_for(list_offsets_key, 4);
    if (!version || *version < 1) {
        return unexpected(fmt::format("{} does not speak ListOffsets v1-4", conn.peer().to_string()));
    }
    protocol::list_offsets_request request;
    request.replica_id = model::node_id(-1);
    request.topics.resize(1);
    request.topics[0].name = s.topic;
    for (const int32_t p : s.plan.partitions) {
        protocol::list_offsets_request::list_offsets_topic_data::list_offsets_partition_data data;
        data.partition_index = model::partition_id(p);
        data.timestamp = model::timestamp(timestamp);
        request.topics[0].partitions.push_back(data);
    }
    auto answer = conn.call<protocol::list_offsets_response>(request, *version, s.timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    std::map<int32_t, int64_t> offsets;
    for (const auto& t : answer->topics) {
        for (const auto& p : t.partitions) {
            if (p.error_code != 0) {
                return unexpected(fmt::format("ListOffsets for {}-{}: {}", s.topic, p.partition_index.value(),
                                              protocol::name(protocol::to_kafka_error(p.error_code))));
            }
            offsets[p.partition_index.value()] = p.offset.value();
        }
    }
    return offsets;
}

// A partition's records as one span (an answer read into one buffer has one piece).
std::span<const std::byte> contiguous(const iobuf& records, iobuf& linear) {
    if (records.piece_count() == 1) {
        return records.piece_bytes(0);
    }
    linear = records.copy();
    return linear.piece_bytes(0);
}

// Sends a Fetch for every partition not yet read to its end; false when none is left.
bool send_fetch(client::kafka_connection& conn, protocol::any_request& wrapped, int16_t version,
                const fetch_loop_settings& settings, const std::vector<partition_cursor>& cursors) {
    auto& request = std::get<protocol::fetch_request>(wrapped);
    request.topics.clear();
    request.topics.resize(1);
    request.topics[0].topic = settings.topic;
    for (const auto& c : cursors) {
        if (settings.stop_at_end && c.next >= c.end) {
            continue;
        }
        protocol::fetch_request::fetch_topic_data::fetch_partition_data data;
        data.partition = model::partition_id(c.partition);
        data.fetch_offset = model::offset(c.next);
        data.partition_max_bytes = settings.partition_max_bytes;
        request.topics[0].partitions.push_back(data);
    }
    if (request.topics[0].partitions.empty()) {
        return false;
    }
    conn.send(wrapped, version);
    return true;
}

// Where each partition's next Fetch starts, from the batch headers alone: known before the
// records are checked and parsed, so the next Fetch can be on its way meanwhile.
void advance_past(const protocol::fetch_response& response,
                  const std::unordered_map<int32_t, size_t>& cursor_of,
                  std::vector<partition_cursor>& cursors) {
    for (const auto& t : response.responses) {
        for (const auto& p : t.partitions) {
            const auto found = cursor_of.find(p.partition_index.value());
            if (found == cursor_of.end() || p.error_code != 0 || !p.records || p.records->empty()) {
                continue;
            }
            partition_cursor& cursor = cursors[found->second];
            iobuf linear;
            // A damaged header stops here; the check of the same answer reports it.
            (void)model::for_each_whole_batch(
              contiguous(*p.records, linear),
              [&cursor](const model::record_batch_header& header, std::span<const std::byte>) {
                  cursor.next = std::max(cursor.next, header.last_offset().value() + 1);
                  return true;
              });
        }
    }
}

} // namespace

void run_fetch_loop(const fetch_loop_settings& settings, const record_visitor& visit, stop_rule& stop,
                    live_counters& live, worker_outcome& out, std::atomic<int>* ready) {
    const auto signal_ready = [ready] {
        if (ready != nullptr) {
            ready->fetch_add(1, std::memory_order_release);
        }
    };
    auto conn =
      client::kafka_connection::open(settings.plan.broker, settings.timeout, "memorystreamer-bench");
    if (!conn) {
        out.failure = conn.error();
        signal_ready();
        return;
    }
    const auto version = conn->version_for(fetch_key, 12);
    if (!version) {
        out.failure =
          fmt::format("{} does not speak a Fetch version this tool knows", settings.plan.broker.to_string());
        signal_ready();
        return;
    }
    auto earliest = list_offsets(*conn, settings, earliest_timestamp);
    auto latest = earliest ? list_offsets(*conn, settings, latest_timestamp) : earliest;
    if (!latest) {
        out.failure = latest.error();
        signal_ready();
        return;
    }
    std::vector<partition_cursor> cursors;
    std::unordered_map<int32_t, size_t> cursor_of; // partition id -> index in cursors
    for (const int32_t p : settings.plan.partitions) {
        const int64_t end = (*latest)[p];
        cursor_of[p] = cursors.size();
        cursors.push_back({p, settings.from_end ? end : (*earliest)[p], end});
    }
    signal_ready();

    protocol::any_request wrapped{protocol::fetch_request{}};
    auto& request = std::get<protocol::fetch_request>(wrapped);
    request.replica_id = model::node_id(-1);
    request.max_wait_ms = settings.max_wait_ms;
    request.min_bytes = 1;
    request.max_bytes = settings.max_bytes;
    model::record_reader reader;
    std::vector<model::record_view> kept; // a batch's records for `visit`, once its CRC matched
    // One Fetch is always on its way while the previous answer is checked and parsed, as Kafka's
    // consumers prefetch: `cursors` is where the answer being read started, `ahead` where the
    // Fetch in flight starts.
    std::vector<partition_cursor> ahead = cursors;
    auto sent = steady::now();
    bool in_flight = send_fetch(*conn, wrapped, *version, settings, ahead);
    while (in_flight) {
        if (stop.expired()) {
            return;
        }
        auto answer = conn->receive(settings.timeout + client::milliseconds(settings.max_wait_ms));
        if (!answer || !answer->has_value()) {
            out.failure = answer ? fmt::format("{}: no answer to a Fetch within {} ms",
                                               settings.plan.broker.to_string(), settings.timeout.count())
                                 : answer.error();
            return;
        }
        const auto received = steady::now();
        out.latency_ns.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(received - sent).count()));
        const auto& response = std::get<protocol::fetch_response>(**answer);
        if (response.error_code != 0) {
            out.failure =
              fmt::format("Fetch failed: {}", protocol::name(protocol::to_kafka_error(response.error_code)));
            return;
        }
        advance_past(response, cursor_of, ahead);
        sent = steady::now();
        in_flight = send_fetch(*conn, wrapped, *version, settings, ahead);

        checked_records tally;
        for (const auto& t : response.responses) {
            for (const auto& p : t.partitions) {
                const auto found = cursor_of.find(p.partition_index.value());
                if (found == cursor_of.end()) {
                    continue;
                }
                partition_cursor* cursor = &cursors[found->second];
                if (p.error_code != 0) {
                    ++out.errors;
                    ++out.error_names[std::string(protocol::name(protocol::to_kafka_error(p.error_code)))];
                    live.errors.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                if (!p.records || p.records->empty()) {
                    continue;
                }
                iobuf linear;
                const auto end = model::for_each_whole_batch(
                  contiguous(*p.records, linear),
                  [&](const model::record_batch_header& header, std::span<const std::byte> batch) {
                      kept.clear();
                      auto read = read_checked_batch(reader, header, batch, settings.check_crc, cursor->next,
                                                     visit ? &kept : nullptr, tally);
                      if (!read) {
                          out.failure =
                            fmt::format("{}-{}: {}", settings.topic, cursor->partition, read.error());
                          return false;
                      }
                      for (const auto& rec : kept) {
                          visit(rec, received);
                      }
                      cursor->next = std::max(cursor->next, header.last_offset().value() + 1);
                      return true;
                  });
                if (end == model::record_set_end::damaged) {
                    out.failure = fmt::format("{}-{}: a batch header after offset {} is damaged",
                                              settings.topic, cursor->partition, cursor->next);
                }
                if (!out.failure.empty()) {
                    return;
                }
            }
        }
        out.messages += tally.messages;
        out.bytes += tally.bytes;
        live.messages.fetch_add(tally.messages, std::memory_order_relaxed);
        live.bytes.fetch_add(tally.bytes, std::memory_order_relaxed);
        if (tally.messages > 0 && (!stop.claim(static_cast<int64_t>(tally.messages)) || stop.exhausted())) {
            return;
        }
    }
}

} // namespace ms::cli::bench
