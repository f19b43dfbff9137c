// CreateTopics (key 19) and DeleteTopics (key 20). The controller (shard 0) applies them; these
// handlers translate requests and answers.
#include "broker/broker.h"
#include "broker/handlers/handler.h"

namespace ms::broker {

namespace {
using created_topic = protocol::create_topics_response::creatable_topic_result_data;
using created_config = created_topic::creatable_topic_configs_data;

// DescribeConfigs' ConfigSource values used in CreateTopics v5+ answers.
constexpr int8_t source_topic_override = 1;
constexpr int8_t source_default = 5;
} // namespace

boost::asio::awaitable<handler_reply> handle_create_topics(request_context& ctx,
                                                           protocol::any_request& body) {
    auto& request = std::get<protocol::create_topics_request>(body);
    const int32_t node = ctx.owner.config().node_id;
    std::vector<topic_creation> wanted;
    for (auto& t : request.topics) {
        topic_creation c;
        c.name = t.name;
        c.partitions = t.num_partitions;
        c.replication_factor = t.replication_factor;
        if (!t.assignments.empty()) {
            // Manual assignment: every partition on this node, numbered 0..n-1, and no count given.
            c.manual_assignment_ok = t.num_partitions == -1 && t.replication_factor == -1;
            for (size_t i = 0; i < t.assignments.size(); ++i) {
                const auto& a = t.assignments[i];
                c.manual_assignment_ok &= a.partition_index.value() == static_cast<int32_t>(i) &&
                                          a.broker_ids.size() == 1 && a.broker_ids[0] == node;
            }
            c.partitions = static_cast<int32_t>(t.assignments.size());
        }
        for (auto& cfg : t.configs) {
            if (cfg.value) {
                c.configs[cfg.name] = *cfg.value;
            }
        }
        wanted.push_back(std::move(c));
    }
    auto outcomes = co_await ctx.owner.create_topics(std::move(wanted), request.validate_only);

    protocol::create_topics_response r;
    for (auto& o : outcomes) {
        created_topic t;
        t.name = o.name;
        t.error_code = o.error_code;
        if (!o.error_message.empty()) {
            t.error_message = o.error_message;
        }
        if (o.topic && o.error_code == 0) {
            t.topic_id = o.topic->id;
            t.num_partitions = o.topic->partitions;
            t.replication_factor = 1;
            std::vector<created_config> configs;
            for (const auto& key : topic_config_keys()) {
                created_config c;
                c.name = std::string(key.name);
                c.value = config_value(o.topic->config, key.name);
                c.config_source =
                  o.topic->overrides.contains(key.name) ? source_topic_override : source_default;
                configs.push_back(std::move(c));
            }
            t.configs = std::move(configs);
        }
        r.topics.push_back(std::move(t));
    }
    co_return handler_reply{std::move(r)};
}

boost::asio::awaitable<handler_reply> handle_delete_topics(request_context& ctx,
                                                           protocol::any_request& body) {
    auto& request = std::get<protocol::delete_topics_request>(body);
    protocol::delete_topics_response r;
    std::vector<std::string> names;
    // v6 names topics by name or by id; earlier versions by name only.
    if (ctx.version >= 6) {
        for (const auto& t : request.topics) {
            if (t.name) {
                names.push_back(*t.name);
                continue;
            }
            std::optional<std::string> found;
            for (const auto& [name, meta] : ctx.owner.topics_here()) {
                if (meta.id == t.topic_id) {
                    found = name;
                }
            }
            if (!found) {
                protocol::delete_topics_response::deletable_topic_result_data missing;
                missing.topic_id = t.topic_id;
                missing.error_code = error_code(protocol::kafka_error::unknown_topic_id);
                missing.error_message = "no topic has this id";
                r.responses.push_back(std::move(missing));
                continue;
            }
            names.push_back(*found);
        }
    } else {
        names = request.topic_names;
    }
    auto outcomes = co_await ctx.owner.delete_topics(names);
    for (size_t i = 0; i < outcomes.size(); ++i) {
        protocol::delete_topics_response::deletable_topic_result_data t;
        t.name = outcomes[i].name;
        if (outcomes[i].topic) {
            t.topic_id = outcomes[i].topic->id;
        }
        t.error_code = outcomes[i].error_code;
        if (!outcomes[i].error_message.empty()) {
            t.error_message = outcomes[i].error_message;
        }
        r.responses.push_back(std::move(t));
    }
    co_return handler_reply{std::move(r)};
}

} // namespace ms::broker
