// CreatePartitions (key 37) and DeleteRecords (key 21): growing a topic (through the controller)
// and moving partitions' log start offsets forward (on the shards that own them).
#include <memory>

#include <fmt/format.h>

#include "broker/broker.h"
#include "broker/handlers/handler.h"
#include "broker/handlers/owner_plan.h"

namespace ms::broker {

namespace {

using protocol::kafka_error;

// DeleteRecords' offset meaning "up to the high watermark".
constexpr int64_t delete_to_high_watermark = -1;

struct deletion_item {
    std::string_view topic;
    int32_t partition = 0;
    int64_t offset = 0;
    size_t topic_index = 0;
    size_t partition_index = 0;
};

struct deletion_outcome {
    int16_t error = 0;
    model::offset low_watermark{-1};
};

// On the owner shard: moves each partition's start, then replies once every new start is durable.
template<typename Reply>
void delete_on_owner(partition_manager& partitions, const std::vector<deletion_item>& items, Reply reply) {
    auto state = std::make_shared<pending_outcomes<deletion_outcome, Reply>>(items.size(), std::move(reply));
    for (size_t i = 0; i < items.size(); ++i) {
        const deletion_item& item = items[i];
        deletion_outcome& out = state->outcomes[i];
        partition* p = partitions.find(item.topic, item.partition);
        if (p == nullptr) {
            out.error = error_code(kafka_error::unknown_topic_or_partition);
            continue;
        }
        if (!p->config.log.delete_by_retention) {
            // As Kafka: records of a compact-only topic are removed by compaction, not by offset.
            out.error = error_code(kafka_error::policy_violation);
            continue;
        }
        const model::offset high_watermark = p->log->log_end_offset();
        const model::offset target =
          item.offset == delete_to_high_watermark ? high_watermark : model::offset(item.offset);
        if (target.value() < 0 || target > high_watermark) {
            out.error = error_code(kafka_error::offset_out_of_range);
            continue;
        }
        ++state->pending;
        p->log->delete_records_before(target, [state, i](const storage::result<model::offset>& start) {
            if (start) {
                state->outcomes[i].low_watermark = *start;
            } else {
                state->outcomes[i].error = error_code(kafka_error::kafka_storage_error);
            }
            state->finish();
        });
    }
    state->finish();
}

} // namespace

boost::asio::awaitable<handler_reply> handle_create_partitions(request_context& ctx,
                                                               protocol::any_request& body) {
    const auto& request = std::get<protocol::create_partitions_request>(body);
    const auto& topics = ctx.owner.topics_here();
    const int32_t node = ctx.owner.config().node_id;
    std::vector<partition_addition> additions;
    for (const auto& t : request.topics) {
        partition_addition a;
        a.name = t.name;
        a.count = t.count;
        if (t.assignments) {
            const auto current = topics.find(t.name);
            const int32_t existing = current == topics.end() ? 0 : current->second.partitions;
            a.assignment_size_ok = static_cast<int64_t>(t.assignments->size()) == int64_t{t.count} - existing;
            for (const auto& assignment : *t.assignments) {
                a.assignment_ok &= assignment.broker_ids.size() == 1 && assignment.broker_ids[0] == node;
            }
        }
        additions.push_back(std::move(a));
    }
    auto outcomes = co_await ctx.owner.create_partitions(std::move(additions), request.validate_only);
    protocol::create_partitions_response r;
    for (size_t i = 0; i < outcomes.size(); ++i) {
        auto& out = r.results.emplace_back();
        out.name = request.topics[i].name;
        out.error_code = outcomes[i].error_code;
        if (outcomes[i].error_code != 0) {
            out.error_message = outcomes[i].error_message;
        }
    }
    co_return handler_reply{std::move(r)};
}

boost::asio::awaitable<handler_reply> handle_delete_records(request_context& ctx,
                                                            protocol::any_request& body) {
    const auto& request = std::get<protocol::delete_records_request>(body);
    broker& b = ctx.owner;
    protocol::delete_records_response r;
    auto plan = std::make_shared<owner_plan<deletion_item>>();
    for (size_t t = 0; t < request.topics.size(); ++t) {
        const auto& topic = request.topics[t];
        auto& answer = r.topics.emplace_back();
        answer.name = topic.name;
        answer.partitions.resize(topic.partitions.size());
        for (size_t p = 0; p < topic.partitions.size(); ++p) {
            const auto& part = topic.partitions[p];
            answer.partitions[p].partition_index = part.partition_index;
            answer.partitions[p].low_watermark = model::offset(-1);
            plan->add(b.shard_of(topic.name, part.partition_index.value()),
                      deletion_item{topic.name, part.partition_index.value(), part.offset.value(), t, p});
        }
    }
    // Named, not a temporary inside the co_await expression: GCC 12 destroys those twice.
    auto delete_there = [&b, plan](net::shard_id shard, auto reply) {
        delete_on_owner(b.partitions_on(shard), plan->items_for(shard), std::move(reply));
    };
    auto results =
      co_await net::call_on_each<std::vector<deletion_outcome>>(b.shards(), plan->owners, delete_there);
    plan->for_each_answer(results, [&r](const deletion_item& item, const deletion_outcome& out) {
        auto& answer = r.topics[item.topic_index].partitions[item.partition_index];
        answer.error_code = out.error;
        answer.low_watermark = out.low_watermark;
    });
    co_return handler_reply{std::move(r)};
}

boost::asio::awaitable<handler_reply> handle_describe_cluster(request_context& ctx,
                                                              protocol::any_request& body) {
    const auto& request = std::get<protocol::describe_cluster_request>(body);
    broker& b = ctx.owner;
    protocol::describe_cluster_response r;
    const int32_t node = b.config().node_id;
    const auto advertised = b.advertised();
    r.cluster_id = b.cluster_id();
    r.controller_id = model::node_id(node);
    r.brokers.push_back({model::node_id(node), advertised.host, advertised.port, std::nullopt, {}});
    if (request.include_cluster_authorized_operations) {
        // No authorizer: every cluster operation is allowed, as Kafka reports without one.
        // AclOperation codes: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10,
        // ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
        int32_t ops = 0;
        for (const int op : {5, 7, 8, 9, 10, 11, 12}) {
            ops |= 1 << op;
        }
        r.cluster_authorized_operations = ops;
    }
    co_return handler_reply{std::move(r)};
}

} // namespace ms::broker
