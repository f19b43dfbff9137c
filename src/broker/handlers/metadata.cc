// Metadata (key 3): this broker, and the requested topics (all of them when the request asks for
// all), creating unknown topics when auto.create.topics.enable is on and the request allows it.
#include "broker/broker.h"
#include "broker/handlers/handler.h"

namespace ms::broker {

namespace {
using metadata_topic = protocol::metadata_response::metadata_response_topic_data;
using metadata_partition = metadata_topic::metadata_response_partition_data;

metadata_topic describe_topic(const topic_metadata& t, int32_t node) {
    metadata_topic out;
    out.name = t.name;
    out.is_internal = t.name == groups::offsets_topic;
    out.partitions.reserve(static_cast<size_t>(t.partitions));
    for (int32_t p = 0; p < t.partitions; ++p) {
        metadata_partition part;
        part.partition_index = model::partition_id(p);
        part.leader_id = model::node_id(node);
        part.leader_epoch = model::leader_epoch(0);
        part.replica_nodes = {node};
        part.isr_nodes = {node};
        out.partitions.push_back(std::move(part));
    }
    return out;
}
} // namespace

boost::asio::awaitable<handler_reply> handle_metadata(request_context& ctx, protocol::any_request& body) {
    const auto& request = std::get<protocol::metadata_request>(body);
    broker& b = ctx.owner;
    const int32_t node = b.config().node_id;
    protocol::metadata_response r;
    const auto advertised = b.advertised();
    r.brokers.push_back({model::node_id(node), advertised.host, advertised.port, std::nullopt, {}});
    r.cluster_id = b.cluster_id();
    r.controller_id = model::node_id(node);

    // v0: an empty list means every topic; v1+: null means every topic, empty means none.
    const bool all = !request.topics || (ctx.version == 0 && request.topics->empty());
    if (all) {
        for (const auto& [name, t] : b.topics_here()) {
            r.topics.push_back(describe_topic(t, node));
        }
        co_return handler_reply{std::move(r)};
    }
    // Versions before 4 have no allow_auto_topic_creation field: those clients always allowed it.
    const bool may_create =
      b.config().auto_create_topics && (ctx.version < 4 || request.allow_auto_topic_creation);
    std::vector<topic_creation> to_create;
    for (const auto& wanted : *request.topics) {
        if (!b.topics_here().contains(wanted.name) && may_create && !invalid_topic_name(wanted.name)) {
            to_create.push_back(topic_creation{wanted.name, -1, -1, true, {}});
        }
    }
    std::vector<topic_outcome> created;
    if (!to_create.empty()) {
        created = co_await b.create_topics(std::move(to_create), false);
    }
    for (const auto& wanted : *request.topics) {
        const topic_map& topics = b.topics_here(); // refreshed: creation publishes before it returns
        if (auto it = topics.find(wanted.name); it != topics.end()) {
            r.topics.push_back(describe_topic(it->second, node));
            continue;
        }
        metadata_topic missing;
        missing.name = wanted.name;
        if (invalid_topic_name(wanted.name)) {
            missing.error_code = error_code(protocol::kafka_error::invalid_topic_exception);
        } else if (!may_create) {
            missing.error_code = error_code(protocol::kafka_error::unknown_topic_or_partition);
        } else {
            // Created by a concurrent request that has not reached this shard yet, or creation
            // failed: a retriable answer either way.
            missing.error_code = error_code(protocol::kafka_error::leader_not_available);
        }
        r.topics.push_back(std::move(missing));
    }
    co_return handler_reply{std::move(r)};
}

} // namespace ms::broker
