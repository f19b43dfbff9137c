#include "client/fetcher.h"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/kafka_error.h"
#include "protocol/messages/all.h"

namespace ms::client {

namespace {

int32_t leader_of(const topic_metadata& topic, int32_t partition) {
    for (const auto& p : topic.partitions) {
        if (p.id == partition) {
            return p.leader;
        }
    }
    return -1;
}

// Partitions grouped by leader; an error when one has no leader or does not exist.
result<std::map<int32_t, std::vector<int32_t>>, std::string>
by_leader(const topic_metadata& topic, const std::vector<int32_t>& partitions) {
    std::map<int32_t, std::vector<int32_t>> out;
    for (const int32_t p : partitions) {
        const int32_t leader = leader_of(topic, p);
        if (leader < 0) {
            return unexpected(
              fmt::format("partition {}-{} has no leader (or does not exist)", topic.name, p));
        }
        out[leader].push_back(p);
    }
    return out;
}

} // namespace

result<std::map<int32_t, int64_t>, std::string> list_offsets(broker_pool& pool, const topic_metadata& topic,
                                                             const std::vector<int32_t>& partitions,
                                                             int64_t timestamp) {
    auto leaders = by_leader(topic, partitions);
    if (!leaders) {
        return unexpected(std::move(leaders.error()));
    }
    std::map<int32_t, int64_t> offsets;
    for (const auto& [leader, ps] : *leaders) {
        auto conn = pool.node(leader);
        if (!conn) {
            return unexpected(std::move(conn.error()));
        }
        auto version = negotiate<protocol::list_offsets_request>(**conn, 1);
        if (!version) {
            return unexpected(std::move(version.error()));
        }
        protocol::list_offsets_request request;
        request.replica_id = model::node_id(-1);
        request.topics.resize(1);
        request.topics[0].name = topic.name;
        for (const int32_t p : ps) {
            protocol::list_offsets_request::list_offsets_topic_data::list_offsets_partition_data d;
            d.partition_index = model::partition_id(p);
            d.timestamp = model::timestamp(timestamp);
            request.topics[0].partitions.push_back(d);
        }
        auto answer = (*conn)->call<protocol::list_offsets_response>(request, *version, pool.timeout());
        if (!answer) {
            return unexpected(std::move(answer.error()));
        }
        for (const auto& t : answer->topics) {
            if (t.name != topic.name) {
                continue;
            }
            for (const auto& p : t.partitions) {
                if (p.error_code != 0) {
                    return unexpected(fmt::format("ListOffsets for {}-{}: {}", topic.name,
                                                  p.partition_index.value(), kafka_error_text(p.error_code)));
                }
                offsets[p.partition_index.value()] = p.offset.value();
            }
        }
    }
    for (const int32_t p : partitions) {
        if (!offsets.contains(p)) {
            return unexpected(fmt::format("ListOffsets did not answer for {}-{}", topic.name, p));
        }
    }
    return offsets;
}

void fetcher::assign(std::map<int32_t, int64_t> positions) {
    _positions = std::move(positions);
    _high_watermarks.clear();
}

bool fetcher::at_end() const {
    for (const auto& [p, position] : _positions) {
        const auto hw = _high_watermarks.find(p);
        if (hw == _high_watermarks.end() || position < hw->second) {
            return false;
        }
    }
    return true;
}

result<std::vector<client_record>, std::string> fetcher::poll() {
    std::vector<int32_t> partitions;
    for (const auto& [p, position] : _positions) {
        partitions.push_back(p);
    }
    auto leaders = by_leader(_topic, partitions);
    if (!leaders) {
        return unexpected(std::move(leaders.error()));
    }
    // Send to every leader first, then read the answers.
    std::vector<std::pair<kafka_connection*, std::vector<int32_t>>> sent;
    for (const auto& [leader, ps] : *leaders) {
        auto conn = _pool->node(leader);
        if (!conn) {
            return unexpected(std::move(conn.error()));
        }
        auto version = negotiate<protocol::fetch_request>(**conn);
        if (!version) {
            return unexpected(std::move(version.error()));
        }
        protocol::any_request wrapped{protocol::fetch_request{}};
        auto& request = std::get<protocol::fetch_request>(wrapped);
        request.replica_id = model::node_id(-1);
        request.max_wait_ms = _settings.max_wait_ms;
        request.min_bytes = 1;
        request.max_bytes = _settings.max_bytes;
        request.isolation_level = 0;
        request.topics.resize(1);
        request.topics[0].topic = _topic.name;
        for (const int32_t p : ps) {
            protocol::fetch_request::fetch_topic_data::fetch_partition_data d;
            d.partition = model::partition_id(p);
            d.fetch_offset = model::offset(_positions[p]);
            const auto limit = _partition_limits.find(p);
            d.partition_max_bytes =
              limit == _partition_limits.end() ? _settings.partition_max_bytes : limit->second;
            request.topics[0].partitions.push_back(d);
        }
        (*conn)->send(wrapped, *version);
        sent.emplace_back(*conn, ps);
    }
    std::vector<client_record> out;
    std::vector<int32_t> out_of_range;
    for (auto& [conn, ps] : sent) {
        auto answer = conn->receive(_pool->timeout() + milliseconds(_settings.max_wait_ms));
        if (!answer) {
            return unexpected(std::move(answer.error()));
        }
        if (!answer->has_value()) {
            return unexpected(fmt::format("{}: no answer to Fetch within {} ms", conn->peer().to_string(),
                                          _pool->timeout().count()));
        }
        const auto& response = std::get<protocol::fetch_response>(**answer);
        if (response.error_code != 0) {
            return unexpected("Fetch failed: " + kafka_error_text(response.error_code));
        }
        for (const auto& t : response.responses) {
            if (t.topic != _topic.name) {
                continue;
            }
            for (const auto& p : t.partitions) {
                const int32_t id = p.partition_index.value();
                auto position = _positions.find(id);
                if (position == _positions.end()) {
                    continue;
                }
                if (p.error_code == protocol::code(protocol::kafka_error::offset_out_of_range)) {
                    out_of_range.push_back(id);
                    continue;
                }
                if (p.error_code != 0) {
                    return unexpected(fmt::format("fetching {}-{} failed: {}", _topic.name, id,
                                                  kafka_error_text(p.error_code)));
                }
                _high_watermarks[id] = p.high_watermark.value();
                if (!p.records || p.records->empty()) {
                    continue;
                }
                const iobuf linear = p.records->piece_count() == 1 ? iobuf{} : p.records->copy();
                const auto bytes =
                  p.records->piece_count() == 1 ? p.records->piece_bytes(0) : linear.piece_bytes(0);
                auto decoded = decode_records(bytes, id, position->second);
                if (!decoded) {
                    return unexpected(fmt::format("topic '{}': {}", _topic.name, decoded.error()));
                }
                if (decoded->next_offset == position->second) {
                    // Only part of a batch came back (a broker that cuts at partition_max_bytes
                    // instead of returning the first batch whole, KIP-74): ask for more next time.
                    auto& limit =
                      _partition_limits.try_emplace(id, _settings.partition_max_bytes).first->second;
                    if (limit >= _settings.max_bytes) {
                        return unexpected(
                          fmt::format("{}-{}: the batch at offset {} is larger than the fetch "
                                      "limit of {} bytes",
                                      _topic.name, id, position->second, _settings.max_bytes));
                    }
                    limit = static_cast<int32_t>(std::min<int64_t>(int64_t{limit} * 2, _settings.max_bytes));
                }
                position->second = decoded->next_offset;
                for (auto& r : decoded->records) {
                    out.push_back(std::move(r));
                }
            }
        }
    }
    if (!out_of_range.empty()) {
        auto earliest = list_offsets(*_pool, _topic, out_of_range, earliest_timestamp);
        auto latest = earliest ? list_offsets(*_pool, _topic, out_of_range, latest_timestamp) : earliest;
        if (!latest) {
            return unexpected(std::move(latest.error()));
        }
        for (const int32_t p : out_of_range) {
            auto& position = _positions[p];
            position = position > (*latest)[p] ? (*latest)[p] : (*earliest)[p];
        }
    }
    return out;
}

} // namespace ms::client
