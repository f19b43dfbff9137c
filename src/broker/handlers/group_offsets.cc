// OffsetCommit (8), OffsetFetch (9), OffsetDelete (47): committed offsets, stored in
// __consumer_offsets by the group's coordinator shard. A commit is answered once its records are
// durable (fdatasync through the log's group commit).
#include "broker/handlers/group_routing.h"

namespace ms::broker {

namespace {

using protocol::kafka_error;

// UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist (Kafka refuses to store them).
int16_t check_partition(const topic_map& topics, std::string_view topic, int32_t partition) {
    auto it = topics.find(topic);
    if (it == topics.end() || partition < 0 || partition >= it->second.partitions) {
        return error_code(kafka_error::unknown_topic_or_partition);
    }
    return 0;
}

} // namespace

boost::asio::awaitable<handler_reply> handle_offset_commit(request_context& ctx,
                                                           protocol::any_request& body) {
    auto& request = std::get<protocol::offset_commit_request>(body);
    const topic_map& topics = ctx.owner.topics_here();
    groups::commit_params p;
    p.group_id = request.group_id;
    p.generation = ctx.version >= 1 ? request.generation_id_or_member_epoch : -1;
    p.member_id = request.member_id;
    p.instance_id = request.group_instance_id;
    p.retention_ms = ctx.version >= 2 && ctx.version <= 4 ? request.retention_time_ms : -1;
    for (const auto& t : request.topics) {
        for (const auto& part : t.partitions) {
            groups::commit_item item;
            item.topic = t.name;
            item.partition = part.partition_index.value();
            item.offset = part.committed_offset.value();
            item.leader_epoch = part.committed_leader_epoch.value();
            item.metadata = part.committed_metadata;
            item.error = check_partition(topics, t.name, item.partition);
            p.items.push_back(std::move(item));
        }
    }
    auto work = [p = std::move(p)](groups::group_manager& groups, auto reply) mutable {
        groups.commit(std::move(p), std::move(reply));
    };
    std::vector<int16_t> errors =
      co_await call_on_group<std::vector<int16_t>>(ctx.owner, request.group_id, std::move(work));
    protocol::offset_commit_response response;
    size_t i = 0;
    for (const auto& t : request.topics) {
        auto& out = response.topics.emplace_back();
        out.name = t.name;
        for (const auto& part : t.partitions) {
            auto& op = out.partitions.emplace_back();
            op.partition_index = part.partition_index;
            op.error_code = errors.at(i++);
        }
    }
    co_return handler_reply{std::move(response)};
}

boost::asio::awaitable<handler_reply> handle_offset_fetch(request_context& ctx, protocol::any_request& body) {
    auto& request = std::get<protocol::offset_fetch_request>(body);
    std::optional<std::vector<groups::topic_partitions>> wanted;
    if (request.topics) {
        wanted.emplace();
        for (const auto& t : *request.topics) {
            wanted->push_back({t.name, t.partition_indexes});
        }
    }
    auto work = [&request, &wanted](groups::group_manager& groups, auto reply) {
        reply(groups.fetch_offsets(request.group_id, wanted));
    };
    std::vector<groups::fetched_topic> found = co_await call_on_group<std::vector<groups::fetched_topic>>(
      ctx.owner, request.group_id, std::move(work));
    protocol::offset_fetch_response response;
    for (auto& t : found) {
        auto& out = response.topics.emplace_back();
        out.name = std::move(t.topic);
        for (auto& f : t.partitions) {
            auto& op = out.partitions.emplace_back();
            op.partition_index = model::partition_id(f.partition);
            op.committed_offset = model::offset(f.offset);
            op.committed_leader_epoch = model::leader_epoch(f.leader_epoch);
            op.metadata = std::move(f.metadata);
        }
    }
    co_return handler_reply{std::move(response)};
}

boost::asio::awaitable<handler_reply> handle_offset_delete(request_context& ctx,
                                                           protocol::any_request& body) {
    auto& request = std::get<protocol::offset_delete_request>(body);
    const topic_map& topics = ctx.owner.topics_here();
    std::vector<groups::commit_item> items;
    for (const auto& t : request.topics) {
        for (const auto& part : t.partitions) {
            groups::commit_item item;
            item.topic = t.name;
            item.partition = part.partition_index.value();
            item.error = check_partition(topics, t.name, item.partition);
            items.push_back(std::move(item));
        }
    }
    auto work = [&request, items = std::move(items)](groups::group_manager& groups, auto reply) mutable {
        groups.delete_offsets(request.group_id, std::move(items), std::move(reply));
    };
    groups::offset_delete_result r =
      co_await call_on_group<groups::offset_delete_result>(ctx.owner, request.group_id, std::move(work));
    protocol::offset_delete_response response;
    response.error_code = r.error;
    size_t i = 0;
    for (const auto& t : request.topics) {
        auto& out = response.topics.emplace_back();
        out.name = t.name;
        for (const auto& part : t.partitions) {
            auto& op = out.partitions.emplace_back();
            op.partition_index = part.partition_index;
            op.error_code = r.error != 0 ? int16_t{0} : r.item_errors.at(i);
            ++i;
        }
    }
    co_return handler_reply{std::move(response)};
}

} // namespace ms::broker
