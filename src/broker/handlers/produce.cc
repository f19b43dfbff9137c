// Produce (key 0): validates each partition's record batch, appends it on the shard that owns the
// partition, and answers when the batch is in the page cache (acks=1), on disk through the log's
// group commit (acks=-1, "all": one node is the whole ISR), or not at all (acks=0).
//
// Every partition's batch is checked before anything is written (length, magic, CRC-32C, record
// count, timestamps, max.message.bytes); a bad batch gets its Kafka error and nothing of it is
// stored, and the other partitions of the request are unaffected.
#include <chrono>

#include "base/clock.h"
#include "base/crc32c.h"
#include "base/endian.h"
#include "base/logging.h"
#include "broker/broker.h"
#include "broker/handlers/handler.h"
#include "broker/handlers/owner_plan.h"
#include "model/record_batch.h"

namespace ms::broker {

namespace {

using protocol::kafka_error;

struct produce_item {
    std::string_view topic;
    int32_t partition = 0;
    const std::optional<iobuf>* records = nullptr;
    size_t topic_index = 0;
    size_t partition_index = 0;
};

struct produce_outcome {
    int16_t error = 0;
    std::string message;
    model::offset base_offset{-1};
    model::offset log_start{-1};
    model::timestamp append_time{-1};
    uint64_t bytes = 0;   // appended (for the topic's counters)
    uint64_t records = 0; // offsets assigned
};

kafka_error to_kafka_error(const storage::error& e) {
    using model::batch_errc;
    using storage::errc;
    switch (e.code) {
    case errc::invalid_batch:
        switch (e.batch_error) {
        case batch_errc::too_large:
        case batch_errc::decompressed_too_large: return kafka_error::message_too_large;
        case batch_errc::unsupported_magic: return kafka_error::unsupported_for_message_format;
        case batch_errc::unsupported_compression: return kafka_error::unsupported_compression_type;
        case batch_errc::invalid_record_count: return kafka_error::invalid_record;
        case batch_errc::invalid_timestamp: return kafka_error::invalid_timestamp;
        case batch_errc::truncated:
        case batch_errc::invalid_length:
        case batch_errc::crc_mismatch:
        case batch_errc::corrupt_records:
        case batch_errc::decompression_failed: return kafka_error::corrupt_message;
        }
        return kafka_error::corrupt_message;
    case errc::offset_out_of_range: return kafka_error::offset_out_of_range;
    case errc::closed: return kafka_error::not_leader_or_follower;
    case errc::io_error:
    case errc::no_space:
    case errc::corrupt:
    case errc::log_failed:
    case errc::invalid_config: return kafka_error::kafka_storage_error;
    }
    return kafka_error::unknown_server_error;
}

// Checks what the log does not know about: one batch per partition (Kafka requires exactly one
// from Produce v3 on), no client-made control or transactional batches, zstd only from v7.
std::optional<std::pair<kafka_error, std::string>> check_shape(const std::optional<iobuf>& records,
                                                               protocol::api_version version) {
    if (!records || records->empty()) {
        return std::pair{kafka_error::invalid_record, std::string("no record batch")};
    }
    if (records->size() < model::batch_header_size) {
        return std::pair{kafka_error::corrupt_message, std::string("records shorter than a batch header")};
    }
    std::array<std::byte, model::batch_header_size> head{};
    records->copy_out(0, head);
    const auto h = model::record_batch_header::decode(head);
    if (h.batch_length < 0 || h.size_bytes() > records->size()) {
        return std::pair{
          kafka_error::corrupt_message,
          fmt::format("batchLength {} runs past the {} bytes of records", h.batch_length, records->size())};
    }
    if (h.size_bytes() < records->size()) {
        return std::pair{kafka_error::invalid_record,
                         std::string("a produce request must carry exactly one batch "
                                     "per partition")};
    }
    if (h.magic != 2) {
        return std::pair{kafka_error::unsupported_for_message_format,
                         fmt::format("record batch magic {} (only v2 batches are accepted)", h.magic)};
    }
    if (h.attributes.control()) {
        return std::pair{kafka_error::invalid_record, std::string("clients may not produce control batches")};
    }
    if (h.attributes.transactional()) {
        return std::pair{kafka_error::invalid_record, std::string("transactions are not supported yet")};
    }
    if (h.attributes.codec() == model::compression::zstd && version < 7) {
        return std::pair{kafka_error::unsupported_compression_type,
                         std::string("zstd needs Produce v7 or later")};
    }
    return std::nullopt;
}

// message.timestamp.type=LogAppendTime: the broker's clock replaces the producer's. The batch is
// validated first (its CRC must hold as sent), then copied, stamped and given a new CRC.
result<iobuf, storage::error> stamp_log_append_time(const iobuf& batch, const storage::log_config& config,
                                                    model::timestamp now) {
    model::batch_limits limits;
    limits.max_batch_bytes = config.max_batch_bytes;
    if (auto valid = model::validate_batch(batch, limits); !valid) {
        return unexpected(storage::error{storage::errc::invalid_batch,
                                         std::string(model::describe(valid.error())), valid.error()});
    }
    std::vector<std::byte> bytes = batch.to_bytes();
    auto header = model::record_batch_header::decode(std::span(bytes).first<model::batch_header_size>());
    header.attributes.bits =
      static_cast<int16_t>(header.attributes.bits | model::batch_attributes::timestamp_type_bit);
    header.max_timestamp = now;
    header.encode(std::span(bytes).first<model::batch_header_size>());
    const uint32_t crc = crc32c(0, std::span<const std::byte>(bytes).subspan(model::batch_crc_covered_from));
    store_be<uint32_t>(bytes.data() + model::batch_crc_position, crc);
    return iobuf::copy_of(bytes);
}

// On the owner shard: appends every item, then (acks=-1) waits for the group commit of each
// partition written, then replies with one outcome per item.
template<typename Reply>
void append_on_owner(partition_manager& partitions, const std::vector<produce_item>& items, int16_t acks,
                     protocol::api_version version, Reply reply) {
    auto state = std::make_shared<pending_outcomes<produce_outcome, Reply>>(items.size(), std::move(reply));
    for (size_t i = 0; i < items.size(); ++i) {
        const produce_item& item = items[i];
        produce_outcome& out = state->outcomes[i];
        partition* p = partitions.find(item.topic, item.partition);
        if (p == nullptr) {
            out.error = error_code(kafka_error::unknown_topic_or_partition);
            continue;
        }
        if (item.topic == groups::offsets_topic) {
            // Only the group coordinator writes there (as in Kafka).
            out.error = error_code(kafka_error::invalid_topic_exception);
            out.message = fmt::format("{} is an internal topic: clients cannot produce to it", item.topic);
            continue;
        }
        if (auto bad = check_shape(*item.records, version)) {
            out.error = error_code(bad->first);
            out.message = std::move(bad->second);
            continue;
        }
        std::optional<iobuf> stamped;
        if (p->config.timestamps == timestamp_type::log_append_time) {
            const model::timestamp now(wall_clock_ms());
            auto copy = stamp_log_append_time(**item.records, p->log->config(), now);
            if (!copy) {
                out.error = error_code(to_kafka_error(copy.error()));
                out.message = copy.error().message;
                continue;
            }
            stamped = std::move(*copy);
            out.append_time = now;
        }
        auto appended = p->log->append(stamped ? *stamped : **item.records);
        if (!appended) {
            out.error = error_code(to_kafka_error(appended.error()));
            out.message = appended.error().message;
            if (appended.error().code != storage::errc::invalid_batch) {
                logging::get("produce")->error("append to {}-{} failed: {}", item.topic, item.partition,
                                               appended.error().message);
            }
            continue;
        }
        out.base_offset = appended->base_offset;
        out.bytes = appended->bytes;
        out.records =
          static_cast<uint64_t>(appended->last_offset.value() - appended->base_offset.value() + 1);
        out.log_start = p->log->log_start_offset();
        p->wake_fetches();
        if (acks == -1) {
            ++state->pending;
            p->log->sync([state, i](const storage::result<model::offset>& durable) {
                if (!durable) {
                    state->outcomes[i].error = error_code(kafka_error::kafka_storage_error);
                    state->outcomes[i].message = durable.error().message;
                }
                state->finish();
            });
        }
    }
    state->finish();
}

} // namespace

boost::asio::awaitable<handler_reply> handle_produce(request_context& ctx, protocol::any_request& body) {
    const auto& request = std::get<protocol::produce_request>(body);
    broker& b = ctx.owner;
    protocol::produce_response r;
    const bool valid_acks = request.acks == 0 || request.acks == 1 || request.acks == -1;

    // Group the partitions by owner shard, remembering where each answer goes.
    auto plan = std::make_shared<owner_plan<produce_item>>();
    for (size_t t = 0; t < request.topic_data.size(); ++t) {
        const auto& topic = request.topic_data[t];
        auto& topic_answer = r.responses.emplace_back();
        topic_answer.name = topic.name;
        for (size_t p = 0; p < topic.partition_data.size(); ++p) {
            const auto& part = topic.partition_data[p];
            auto& answer = topic_answer.partition_responses.emplace_back();
            answer.index = part.index;
            answer.base_offset = model::offset(-1);
            if (!valid_acks) {
                answer.error_code = error_code(kafka_error::invalid_required_acks);
                continue;
            }
            plan->add(b.shard_of(topic.name, part.index.value()),
                      produce_item{topic.name, part.index.value(), &part.records, t, p});
        }
    }
    // Even for acks=0 the request waits for the owners: they read the request's bytes.
    std::vector<net::shard_id> targets = plan->owners;
    const int16_t acks = request.acks;
    const protocol::api_version version = ctx.version;
    // Named, not a temporary inside the co_await expression: GCC 12 destroys those twice.
    auto append_there = [&b, plan, acks, version](net::shard_id shard, auto reply) {
        append_on_owner(b.partitions_on(shard), plan->items_for(shard), acks, version, std::move(reply));
    };
    auto results =
      co_await net::call_on_each<std::vector<produce_outcome>>(b.shards(), std::move(targets), append_there);
    bool failed = false;
    shard_metrics& metrics = b.metrics_here();
    plan->for_each_answer(results, [&](const produce_item& item, const produce_outcome& out) {
        if (out.error == 0) {
            topic_stats& counters = metrics.topic(item.topic);
            counters.produced_bytes += out.bytes;
            counters.produced_records += out.records;
        }
        auto& answer = r.responses[item.topic_index].partition_responses[item.partition_index];
        answer.error_code = out.error;
        answer.base_offset = out.base_offset;
        answer.log_start_offset = out.log_start;
        answer.log_append_time_ms = out.append_time;
        if (!out.message.empty()) {
            answer.error_message = out.message;
        }
        failed |= out.error != 0;
    });
    if (request.acks == 0) {
        // No answer is sent; an error can only be signalled by closing the connection (as Kafka does).
        handler_reply silent; // no response (built field by field: GCC 12 -O1 misreads the braced form)
        silent.close = failed;
        silent.failed = failed;
        co_return silent;
    }
    handler_reply answered{std::move(r)};
    answered.failed = failed;
    co_return answered;
}

} // namespace ms::broker
