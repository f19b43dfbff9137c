#include "client/producer.h"

#include <thread>

#include <fmt/format.h>

#include "protocol/kafka_error.h"
#include "protocol/messages/all.h"

namespace ms::client {

namespace {

constexpr int max_attempts = 8;
constexpr milliseconds retry_backoff{200};

size_t record_bytes(const client_record& r) {
    size_t n = 32 + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
    for (const auto& h : r.headers) {
        n += h.key.size() + (h.value ? h.value->size() : 0) + 4;
    }
    return n;
}

} // namespace

int32_t murmur2(std::string_view data) noexcept {
    const auto length = static_cast<uint32_t>(data.size());
    constexpr uint32_t seed = 0x9747b28c;
    constexpr uint32_t m = 0x5bd1e995;
    constexpr int r = 24;
    uint32_t h = seed ^ length;
    const auto byte = [&data](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(data[i])); };
    const size_t length4 = length / 4;
    for (size_t i = 0; i < length4; ++i) {
        const size_t i4 = i * 4;
        uint32_t k = byte(i4) | (byte(i4 + 1) << 8) | (byte(i4 + 2) << 16) | (byte(i4 + 3) << 24);
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const size_t tail = length & ~3U;
    switch (length % 4) {
    case 3: h ^= byte(tail + 2) << 16; [[fallthrough]];
    case 2: h ^= byte(tail + 1) << 8; [[fallthrough]];
    case 1:
        h ^= byte(tail);
        h *= m;
        break;
    default: break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return static_cast<int32_t>(h);
}

int32_t partition_for_key(std::string_view key, int32_t partitions) noexcept {
    const auto positive = static_cast<uint32_t>(murmur2(key)) & 0x7fffffffU;
    return static_cast<int32_t>(positive % static_cast<uint32_t>(partitions));
}

result<producer, std::string> producer::open(broker_pool& pool, std::string topic,
                                             producer_settings settings) {
    producer p(pool, std::move(topic), settings);
    if (auto refreshed = p.refresh_metadata(); !refreshed) {
        return unexpected(std::move(refreshed.error()));
    }
    return p;
}

result<void, std::string> producer::refresh_metadata() {
    auto md = fetch_metadata(_pool->bootstrap(), std::vector<std::string>{_topic}, _pool->timeout());
    if (!md) {
        return unexpected(std::move(md.error()));
    }
    _pool->learn(md->addresses());
    const auto* t = md->find(_topic);
    if (t == nullptr || t->error_code == protocol::code(protocol::kafka_error::unknown_topic_or_partition)) {
        return unexpected(
          fmt::format("topic '{}' does not exist (create it with `memorystreamer topic create`)", _topic));
    }
    if (t->error_code != 0 && t->error_code != protocol::code(protocol::kafka_error::leader_not_available)) {
        return unexpected(fmt::format("topic '{}': {}", _topic, kafka_error_text(t->error_code)));
    }
    if (t->partitions.empty()) {
        return unexpected(fmt::format("topic '{}' has no partitions", _topic));
    }
    for (size_t i = 0; i < t->partitions.size(); ++i) {
        if (t->partitions[i].id != static_cast<int32_t>(i)) {
            return unexpected(fmt::format("topic '{}': the metadata lacks partition {}", _topic, i));
        }
    }
    _metadata = *t;
    return {};
}

result<void, std::string> producer::add(client_record r, int32_t partition) {
    if (partition < 0) {
        partition = r.key ? partition_for_key(*r.key, partitions())
                          : static_cast<int32_t>(_round_robin++ % static_cast<uint32_t>(partitions()));
    } else if (partition >= partitions()) {
        return unexpected(
          fmt::format("topic '{}' has no partition {} (it has {})", _topic, partition, partitions()));
    }
    _queued_bytes += record_bytes(r);
    ++_queued_records;
    _queued[partition].push_back(std::move(r));
    return {};
}

result<std::string, std::string> producer::send_round() {
    // Partitions by leader.
    std::map<int32_t, std::vector<int32_t>> by_leader;
    for (const auto& [partition, records] : _queued) {
        if (static_cast<size_t>(partition) >= _metadata.partitions.size()) {
            return unexpected(fmt::format("topic '{}' no longer has partition {}", _topic, partition));
        }
        by_leader[_metadata.partitions[static_cast<size_t>(partition)].leader].push_back(partition);
    }
    std::string retriable;
    for (const auto& [leader, partitions] : by_leader) {
        if (leader < 0) {
            retriable = fmt::format("partitions of '{}' have no leader", _topic);
            continue;
        }
        auto conn = _pool->node(leader);
        if (!conn) {
            return unexpected(std::move(conn.error()));
        }
        auto version = negotiate<protocol::produce_request>(**conn);
        if (!version) {
            return unexpected(std::move(version.error()));
        }
        protocol::any_request wrapped{protocol::produce_request{}};
        auto& request = std::get<protocol::produce_request>(wrapped);
        request.acks = _settings.acks;
        request.timeout_ms = _settings.produce_timeout_ms;
        request.topic_data.resize(1);
        request.topic_data[0].name = _topic;
        for (const int32_t p : partitions) {
            auto batch = encode_records(_queued[p], _settings.codec);
            if (!batch) {
                return unexpected(std::move(batch.error()));
            }
            protocol::produce_request::topic_produce_data_data::partition_produce_data_data d;
            d.index = model::partition_id(p);
            d.records = std::move(*batch);
            request.topic_data[0].partition_data.push_back(std::move(d));
        }
        if (_settings.acks == 0) {
            (*conn)->send(wrapped, *version, false);
            if (auto flushed = (*conn)->flush(_pool->timeout()); !flushed) {
                return unexpected(std::move(flushed.error()));
            }
            for (const int32_t p : partitions) {
                _progress[p].records += static_cast<int64_t>(_queued[p].size());
                _queued.erase(p);
            }
            continue;
        }
        (*conn)->send(wrapped, *version);
        auto answer = (*conn)->receive(_pool->timeout() + milliseconds(_settings.produce_timeout_ms));
        if (!answer) {
            return unexpected(std::move(answer.error()));
        }
        if (!answer->has_value()) {
            return unexpected(fmt::format("{}: no answer to Produce within {} ms",
                                          (*conn)->peer().to_string(), _pool->timeout().count()));
        }
        const auto& response = std::get<protocol::produce_response>(**answer);
        for (const auto& t : response.responses) {
            if (t.name != _topic) {
                continue;
            }
            for (const auto& pr : t.partition_responses) {
                const int32_t p = pr.index.value();
                auto queued = _queued.find(p);
                if (queued == _queued.end()) {
                    continue;
                }
                if (pr.error_code != 0) {
                    const auto e = protocol::to_kafka_error(pr.error_code);
                    if (protocol::retriable(e)) {
                        retriable = fmt::format("{}-{}: {}", _topic, p,
                                                kafka_error_text(pr.error_code, pr.error_message));
                        continue;
                    }
                    return unexpected(fmt::format("producing to {}-{} failed: {}", _topic, p,
                                                  kafka_error_text(pr.error_code, pr.error_message)));
                }
                auto& progress = _progress[p];
                const auto n = static_cast<int64_t>(queued->second.size());
                if (progress.first_offset < 0) {
                    progress.first_offset = pr.base_offset.value();
                }
                progress.last_offset = pr.base_offset.value() + n - 1;
                progress.records += n;
                _queued.erase(queued);
            }
        }
    }
    return retriable;
}

result<void, std::string> producer::flush() {
    for (int attempt = 1; !_queued.empty(); ++attempt) {
        auto round = send_round();
        if (!round) {
            return unexpected(std::move(round.error()));
        }
        if (_queued.empty()) {
            break;
        }
        if (attempt >= max_attempts) {
            return unexpected(
              fmt::format("producing to '{}' failed after {} attempts: {}", _topic, attempt,
                          round->empty() ? std::string("no answer for some partitions") : *round));
        }
        std::this_thread::sleep_for(retry_backoff);
        if (auto refreshed = refresh_metadata(); !refreshed) {
            return unexpected(std::move(refreshed.error()));
        }
    }
    _queued_bytes = 0;
    _queued_records = 0;
    return {};
}

} // namespace ms::client
