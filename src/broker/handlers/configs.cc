// DescribeConfigs (key 32), AlterConfigs (33) and IncrementalAlterConfigs (44). Topic configs are
// dynamic (the controller saves and applies them); broker settings are described but static here:
// they come from the config file, the environment and flags, and change with a restart.
#include <fmt/format.h>

#include "broker/broker.h"
#include "broker/config_description.h"
#include "broker/handlers/handler.h"

namespace ms::broker {

namespace {

using protocol::kafka_error;
using described = protocol::describe_configs_response::describe_configs_result_data;
using described_entry = described::describe_configs_resource_result_data;

// A broker resource names this broker by its node id; "" means whichever broker answers.
bool names_this_broker(const std::string& name, int32_t node_id) {
    return name.empty() || name == std::to_string(node_id);
}

described_entry to_wire(const described_config& c, protocol::api_version version, bool synonyms, bool docs) {
    described_entry e;
    e.name = c.name;
    e.value = c.value;
    e.read_only = c.read_only;
    e.is_default = c.source == config_source::default_config;
    e.config_source = static_cast<int8_t>(c.source);
    e.is_sensitive = c.sensitive;
    if (version >= 1 && synonyms) {
        for (const auto& s : c.synonyms) {
            e.synonyms.push_back({s.name, s.value, static_cast<int8_t>(s.source), {}});
        }
    }
    e.config_type = static_cast<int8_t>(c.type);
    if (docs) {
        e.documentation = c.documentation;
    }
    return e;
}

template<typename Response>
void add_result(Response& r, int8_t type, const std::string& name, kafka_error e,
                const std::string& message) {
    auto& out = r.responses.emplace_back();
    out.resource_type = type;
    out.resource_name = name;
    out.error_code = error_code(e);
    if (e != kafka_error::none) {
        out.error_message = message;
    }
}

// Shared by AlterConfigs and IncrementalAlterConfigs: topic resources go to the controller in one
// call; broker resources are refused (static settings); other types are invalid.
template<typename Request, typename Response>
boost::asio::awaitable<Response> alter(request_context& ctx, const Request& request, bool incremental) {
    Response r;
    std::vector<topic_config_update> updates;
    std::vector<size_t> update_slots; // index into r.responses of each update
    for (const auto& resource : request.resources) {
        const auto type = static_cast<config_resource>(resource.resource_type);
        if (type == config_resource::topic) {
            topic_config_update u;
            u.name = resource.resource_name;
            u.incremental = incremental;
            bool bad_operation = false;
            for (const auto& c : resource.configs) {
                config_change change{c.name, config_operation::set, c.value};
                if constexpr (requires { c.config_operation; }) {
                    bad_operation |= c.config_operation < 0 || c.config_operation > 3;
                    change.operation = static_cast<config_operation>(c.config_operation);
                }
                u.changes.push_back(std::move(change));
            }
            if (bad_operation) {
                add_result(r, resource.resource_type, resource.resource_name, kafka_error::invalid_request,
                           "config operation must be 0 (SET), 1 (DELETE), 2 (APPEND) or 3 (SUBTRACT)");
                continue;
            }
            update_slots.push_back(r.responses.size());
            add_result(r, resource.resource_type, resource.resource_name, kafka_error::none, "");
            updates.push_back(std::move(u));
        } else if (type == config_resource::broker || type == config_resource::broker_logger) {
            if (!names_this_broker(resource.resource_name, ctx.owner.config().node_id)) {
                add_result(r, resource.resource_type, resource.resource_name, kafka_error::invalid_request,
                           fmt::format("broker '{}' is not this broker (node {})", resource.resource_name,
                                       ctx.owner.config().node_id));
            } else {
                add_result(r, resource.resource_type, resource.resource_name, kafka_error::invalid_request,
                           "broker settings are static: set them in the config file, environment or flags "
                           "and restart (topic configs are dynamic)");
            }
        } else {
            add_result(r, resource.resource_type, resource.resource_name, kafka_error::invalid_request,
                       fmt::format("unsupported resource type {}", resource.resource_type));
        }
    }
    if (!updates.empty()) {
        auto outcomes = co_await ctx.owner.alter_topic_configs(std::move(updates), request.validate_only);
        for (size_t i = 0; i < outcomes.size(); ++i) {
            auto& out = r.responses[update_slots[i]];
            out.error_code = outcomes[i].error_code;
            if (outcomes[i].error_code != 0) {
                out.error_message = outcomes[i].error_message;
            }
        }
    }
    co_return r;
}

} // namespace

boost::asio::awaitable<handler_reply> handle_describe_configs(request_context& ctx,
                                                              protocol::any_request& body) {
    const auto& request = std::get<protocol::describe_configs_request>(body);
    broker& b = ctx.owner;
    const bool synonyms = ctx.version >= 1 && request.include_synonyms;
    const bool docs = ctx.version >= 3 && request.include_documentation;
    protocol::describe_configs_response r;
    for (const auto& resource : request.resources) {
        auto& out = r.results.emplace_back();
        out.resource_type = resource.resource_type;
        out.resource_name = resource.resource_name;
        auto fail = [&](kafka_error e, std::string message) {
            out.error_code = error_code(e);
            out.error_message = std::move(message);
        };
        // Null asks for every config; so does an empty list (as Kafka's ConfigHelper treats it).
        std::optional<std::vector<std::string>> names = resource.configuration_keys;
        if (names && names->empty()) {
            names.reset();
        }
        std::vector<described_config> configs;
        switch (static_cast<config_resource>(resource.resource_type)) {
        case config_resource::topic: {
            const auto& topics = b.topics_here();
            const auto it = topics.find(resource.resource_name);
            if (it == topics.end()) {
                fail(kafka_error::unknown_topic_or_partition,
                     fmt::format("topic '{}' does not exist", resource.resource_name));
                continue;
            }
            configs = describe_topic_configs(it->second, b.config(), names);
            break;
        }
        case config_resource::broker:
            if (!names_this_broker(resource.resource_name, b.config().node_id)) {
                fail(kafka_error::invalid_request, fmt::format("broker '{}' is not this broker (node {})",
                                                               resource.resource_name, b.config().node_id));
                continue;
            }
            configs = describe_broker_configs(b.config(), names);
            break;
        default:
            fail(kafka_error::invalid_request,
                 fmt::format("unsupported resource type {}", resource.resource_type));
            continue;
        }
        for (const auto& c : configs) {
            out.configs.push_back(to_wire(c, ctx.version, synonyms, docs));
        }
    }
    co_return handler_reply{std::move(r)};
}

boost::asio::awaitable<handler_reply> handle_alter_configs(request_context& ctx,
                                                           protocol::any_request& body) {
    const auto& request = std::get<protocol::alter_configs_request>(body);
    auto r =
      co_await alter<protocol::alter_configs_request, protocol::alter_configs_response>(ctx, request, false);
    co_return handler_reply{std::move(r)};
}

boost::asio::awaitable<handler_reply> handle_incremental_alter_configs(request_context& ctx,
                                                                       protocol::any_request& body) {
    const auto& request = std::get<protocol::incremental_alter_configs_request>(body);
    auto r = co_await alter<protocol::incremental_alter_configs_request,
                            protocol::incremental_alter_configs_response>(ctx, request, true);
    co_return handler_reply{std::move(r)};
}

} // namespace ms::broker
