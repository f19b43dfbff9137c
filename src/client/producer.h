#pragma once

// producer: sends records to one topic for `memorystreamer produce`. Records are queued per
// partition and sent by flush(): one batch per partition, one Produce request per leader, errors
// that Kafka calls retriable (leader moved, not yet available) retried a bounded number of times
// after refreshing the metadata. Partitions are chosen as the Java client's default partitioner
// does for keyed records (murmur2 of the key), so keys land where other Kafka clients put them;
// records without a key go round-robin. Single-threaded; one flush at a time.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/broker_pool.h"
#include "client/records.h"
#include "client/topic_admin.h"
#include "model/compression.h"

namespace ms::client {

struct producer_settings {
    int16_t acks = -1; // -1 (all), 0 or 1
    model::compression codec = model::compression::none;
    int32_t produce_timeout_ms = 30'000;
};

struct partition_progress {
    int64_t records = 0;
    int64_t first_offset = -1; // -1 with acks=0 (no answer)
    int64_t last_offset = -1;
};

class producer {
public:
    // Looks the topic up (it must exist). REQUIRES: `pool` outlives the producer.
    [[nodiscard]] static result<producer, std::string> open(broker_pool& pool, std::string topic,
                                                            producer_settings settings);

    [[nodiscard]] int32_t partitions() const noexcept {
        return static_cast<int32_t>(_metadata.partitions.size());
    }

    // Queues `r` for `partition` (-1: chosen from the key). Fails when the partition does not exist.
    [[nodiscard]] result<void, std::string> add(client_record r, int32_t partition = -1);
    [[nodiscard]] size_t queued_bytes() const noexcept { return _queued_bytes; }
    [[nodiscard]] size_t queued_records() const noexcept { return _queued_records; }

    // Sends what is queued and waits for the answers (acks 1/all).
    [[nodiscard]] result<void, std::string> flush();

    // What was acknowledged so far, by partition.
    [[nodiscard]] const std::map<int32_t, partition_progress>& progress() const noexcept { return _progress; }

private:
    producer(broker_pool& pool, std::string topic, producer_settings settings) noexcept
      : _pool(&pool), _topic(std::move(topic)), _settings(settings) {}
    [[nodiscard]] result<void, std::string> refresh_metadata();
    // Sends the queued batches of the partitions led by each broker once. Partitions that failed
    // with a retriable error stay queued; others are removed. Returns the last retriable error.
    [[nodiscard]] result<std::string, std::string> send_round();

    broker_pool* _pool;
    std::string _topic;
    producer_settings _settings;
    topic_metadata _metadata;
    std::map<int32_t, std::vector<client_record>> _queued;
    size_t _queued_bytes = 0;
    size_t _queued_records = 0;
    uint32_t _round_robin = 0;
    std::map<int32_t, partition_progress> _progress;
};

// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2).
[[nodiscard]] int32_t murmur2(std::string_view data) noexcept;
// The partition the Java client's default partitioner picks for a key.
[[nodiscard]] int32_t partition_for_key(std::string_view key, int32_t partitions) noexcept;

} // namespace ms::client
