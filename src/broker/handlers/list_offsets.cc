// ListOffsets (key 2): earliest (-2), latest (-1), or the first offset whose record timestamp is
// at or after a time. v0 answers in the old list form (old_style_offsets).
#include "broker/broker.h"
#include "broker/handlers/handler.h"
#include "broker/handlers/owner_plan.h"

namespace ms::broker {

namespace {

using protocol::kafka_error;

constexpr int64_t latest_timestamp = -1;
constexpr int64_t earliest_timestamp = -2;

struct lookup_item {
    std::string_view topic;
    int32_t partition = 0;
    model::timestamp when;
    size_t topic_index = 0;
    size_t partition_index = 0;
};

struct lookup_outcome {
    int16_t error = 0;
    model::offset offset{-1};
    model::timestamp timestamp{-1};
};

std::vector<lookup_outcome> look_up_on_owner(partition_manager& partitions,
                                             const std::vector<lookup_item>& items) {
    std::vector<lookup_outcome> outcomes(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        const lookup_item& item = items[i];
        lookup_outcome& out = outcomes[i];
        partition* p = partitions.find(item.topic, item.partition);
        if (p == nullptr) {
            out.error = error_code(kafka_error::unknown_topic_or_partition);
            continue;
        }
        const storage::partition_log& log = *p->log;
        if (item.when.value() == latest_timestamp) {
            out.offset = log.log_end_offset();
        } else if (item.when.value() == earliest_timestamp) {
            out.offset = log.log_start_offset();
        } else if (item.when.value() < 0) {
            out.error = error_code(kafka_error::invalid_request);
        } else {
            auto hit = log.find_by_timestamp(item.when);
            if (!hit) {
                out.error = error_code(kafka_error::kafka_storage_error);
            } else if (*hit) {
                out.offset = (*hit)->offset;
                out.timestamp = (*hit)->timestamp;
            }
        }
    }
    return outcomes;
}

} // namespace

boost::asio::awaitable<handler_reply> handle_list_offsets(request_context& ctx, protocol::any_request& body) {
    const auto& request = std::get<protocol::list_offsets_request>(body);
    broker& b = ctx.owner;
    protocol::list_offsets_response r;
    auto plan = std::make_shared<owner_plan<lookup_item>>();
    for (size_t t = 0; t < request.topics.size(); ++t) {
        const auto& topic = request.topics[t];
        auto& answer = r.topics.emplace_back();
        answer.name = topic.name;
        answer.partitions.resize(topic.partitions.size());
        for (size_t p = 0; p < topic.partitions.size(); ++p) {
            const auto& part = topic.partitions[p];
            answer.partitions[p].partition_index = part.partition_index;
            plan->add(b.shard_of(topic.name, part.partition_index.value()),
                      lookup_item{topic.name, part.partition_index.value(), part.timestamp, t, p});
        }
    }
    // Named, not a temporary inside the co_await expression: GCC 12 destroys those twice.
    auto look_up_there = [&b, plan](net::shard_id shard, auto reply) {
        reply(look_up_on_owner(b.partitions_on(shard), plan->items_for(shard)));
    };
    auto results =
      co_await net::call_on_each<std::vector<lookup_outcome>>(b.shards(), plan->owners, look_up_there);
    plan->for_each_answer(results, [&r, &ctx](const lookup_item& item, const lookup_outcome& out) {
        auto& answer = r.topics[item.topic_index].partitions[item.partition_index];
        answer.error_code = out.error;
        if (ctx.version == 0) {
            if (out.error == 0 && out.offset.value() >= 0) {
                answer.old_style_offsets = {out.offset.value()};
            }
        } else {
            answer.offset = out.offset;
            answer.timestamp = out.timestamp;
            answer.leader_epoch = model::leader_epoch(out.offset.value() >= 0 ? 0 : -1);
        }
    });
    co_return handler_reply{std::move(r)};
}

} // namespace ms::broker
