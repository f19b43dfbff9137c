#include "client/topic_admin.h"

#include <algorithm>

#include <fmt/format.h>

#include "client/broker_pool.h"
#include "protocol/kafka_error.h"
#include "protocol/messages/all.h"

namespace ms::client {

namespace {

constexpr int8_t topic_resource = 2;
constexpr int8_t op_set = 0;
constexpr int8_t op_delete = 1;

int32_t timeout_ms(milliseconds t) {
    return static_cast<int32_t>(std::min<int64_t>(t.count(), INT32_MAX));
}

topic_outcome outcome(std::string name, int16_t code, const std::optional<std::string>& message) {
    topic_outcome o{std::move(name), code, {}};
    if (code != 0) {
        o.error = kafka_error_text(code, message);
    }
    return o;
}

} // namespace

std::map<int32_t, endpoint> cluster_metadata::addresses() const {
    std::map<int32_t, endpoint> out;
    for (const auto& b : brokers) {
        out[b.id] = b.address;
    }
    return out;
}

const topic_metadata* cluster_metadata::find(const std::string& topic) const {
    for (const auto& t : topics) {
        if (t.name == topic) {
            return &t;
        }
    }
    return nullptr;
}

result<cluster_metadata, std::string> fetch_metadata(kafka_connection& conn,
                                                     const std::optional<std::vector<std::string>>& topics,
                                                     milliseconds timeout) {
    auto version = negotiate<protocol::metadata_request>(conn, 1);
    if (!version) {
        return unexpected(std::move(version.error()));
    }
    protocol::metadata_request request;
    if (topics) {
        request.topics = std::vector<protocol::metadata_request::metadata_request_topic_data>{};
        for (const auto& name : *topics) {
            protocol::metadata_request::metadata_request_topic_data t;
            t.name = name;
            request.topics->push_back(std::move(t));
        }
    }
    request.allow_auto_topic_creation = false;
    auto answer = conn.call<protocol::metadata_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    cluster_metadata out;
    out.cluster_id = answer->cluster_id;
    out.controller = answer->controller_id.value();
    for (const auto& b : answer->brokers) {
        if (b.port <= 0 || b.port > 65535) {
            return unexpected(fmt::format("{} sent broker {} with port {}", conn.peer().to_string(),
                                          b.node_id.value(), b.port));
        }
        out.brokers.push_back({b.node_id.value(), endpoint{b.host, static_cast<uint16_t>(b.port)}, b.rack});
    }
    std::sort(out.brokers.begin(), out.brokers.end(),
              [](const broker_address& a, const broker_address& b) { return a.id < b.id; });
    for (const auto& t : answer->topics) {
        topic_metadata tm;
        tm.name = t.name;
        tm.error_code = t.error_code;
        tm.internal = t.is_internal;
        for (const auto& p : t.partitions) {
            partition_metadata pm;
            pm.id = p.partition_index.value();
            pm.error_code = p.error_code;
            pm.leader = p.leader_id.value();
            pm.leader_epoch = p.leader_epoch.value();
            pm.replicas = p.replica_nodes;
            pm.isr = p.isr_nodes;
            tm.partitions.push_back(std::move(pm));
        }
        std::sort(tm.partitions.begin(), tm.partitions.end(),
                  [](const partition_metadata& a, const partition_metadata& b) { return a.id < b.id; });
        out.topics.push_back(std::move(tm));
    }
    std::sort(out.topics.begin(), out.topics.end(),
              [](const topic_metadata& a, const topic_metadata& b) { return a.name < b.name; });
    return out;
}

result<std::vector<topic_outcome>, std::string> create_topics(kafka_connection& conn,
                                                              const std::vector<new_topic>& topics,
                                                              bool validate_only, milliseconds timeout) {
    // Defaults (-1 partitions or replication factor) need v4+ (KIP-464).
    auto version = negotiate<protocol::create_topics_request>(conn, 4);
    if (!version) {
        return unexpected(std::move(version.error()));
    }
    protocol::create_topics_request request;
    request.timeout_ms = timeout_ms(timeout);
    request.validate_only = validate_only;
    for (const auto& t : topics) {
        protocol::create_topics_request::creatable_topic_data d;
        d.name = t.name;
        d.num_partitions = t.partitions;
        d.replication_factor = t.replication_factor;
        for (const auto& [k, v] : t.configs) {
            protocol::create_topics_request::creatable_topic_data::creatable_topic_config_data c;
            c.name = k;
            c.value = v;
            d.configs.push_back(std::move(c));
        }
        request.topics.push_back(std::move(d));
    }
    auto answer = conn.call<protocol::create_topics_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    std::vector<topic_outcome> out;
    for (const auto& r : answer->topics) {
        out.push_back(outcome(r.name, r.error_code, r.error_message));
    }
    return out;
}

result<std::vector<topic_outcome>, std::string>
delete_topics(kafka_connection& conn, const std::vector<std::string>& topics, milliseconds timeout) {
    auto version = negotiate<protocol::delete_topics_request>(conn);
    if (!version) {
        return unexpected(std::move(version.error()));
    }
    protocol::delete_topics_request request;
    request.timeout_ms = timeout_ms(timeout);
    for (const auto& name : topics) {
        request.topic_names.push_back(name); // v0-5
        protocol::delete_topics_request::delete_topic_state_data d;
        d.name = name; // v6+
        request.topics.push_back(std::move(d));
    }
    auto answer = conn.call<protocol::delete_topics_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    std::vector<topic_outcome> out;
    for (const auto& r : answer->responses) {
        out.push_back(outcome(r.name.value_or(""), r.error_code, r.error_message));
    }
    return out;
}

result<std::vector<topic_outcome>, std::string>
create_partitions(kafka_connection& conn, const std::vector<std::pair<std::string, int32_t>>& totals,
                  bool validate_only, milliseconds timeout) {
    auto version = negotiate<protocol::create_partitions_request>(conn);
    if (!version) {
        return unexpected(std::move(version.error()));
    }
    protocol::create_partitions_request request;
    request.timeout_ms = timeout_ms(timeout);
    request.validate_only = validate_only;
    for (const auto& [name, count] : totals) {
        protocol::create_partitions_request::create_partitions_topic_data d;
        d.name = name;
        d.count = count;
        request.topics.push_back(std::move(d));
    }
    auto answer = conn.call<protocol::create_partitions_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    std::vector<topic_outcome> out;
    for (const auto& r : answer->results) {
        out.push_back(outcome(r.name, r.error_code, r.error_message));
    }
    return out;
}

std::string config_source_name(int8_t source) {
    switch (source) {
    case 0: return "UNKNOWN";
    case 1: return "DYNAMIC_TOPIC_CONFIG";
    case 2: return "DYNAMIC_BROKER_CONFIG";
    case 3: return "DYNAMIC_DEFAULT_BROKER_CONFIG";
    case 4: return "STATIC_BROKER_CONFIG";
    case 5: return "DEFAULT_CONFIG";
    case 6: return "DYNAMIC_BROKER_LOGGER_CONFIG";
    case 7: return "CLIENT_METRICS_CONFIG";
    default: return "UNKNOWN";
    }
}

result<std::vector<topic_configs>, std::string>
describe_topic_configs(kafka_connection& conn, const std::vector<std::string>& topics, milliseconds timeout) {
    auto version = negotiate<protocol::describe_configs_request>(conn);
    if (!version) {
        return unexpected(std::move(version.error()));
    }
    protocol::describe_configs_request request;
    for (const auto& name : topics) {
        protocol::describe_configs_request::describe_configs_resource_data r;
        r.resource_type = topic_resource;
        r.resource_name = name;
        request.resources.push_back(std::move(r)); // configuration_keys null: all of them
    }
    auto answer = conn.call<protocol::describe_configs_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    std::vector<topic_configs> out;
    for (const auto& r : answer->results) {
        topic_configs tc;
        tc.topic = r.resource_name;
        tc.error_code = r.error_code;
        if (r.error_code != 0) {
            tc.error = kafka_error_text(r.error_code, r.error_message);
        }
        for (const auto& c : r.configs) {
            config_entry e;
            e.name = c.name;
            e.value = c.value;
            e.read_only = c.read_only;
            e.sensitive = c.is_sensitive;
            if (*version == 0) {
                e.source = c.is_default ? "DEFAULT_CONFIG" : "UNKNOWN";
            } else {
                e.source = config_source_name(c.config_source);
            }
            tc.configs.push_back(std::move(e));
        }
        std::sort(tc.configs.begin(), tc.configs.end(),
                  [](const config_entry& a, const config_entry& b) { return a.name < b.name; });
        out.push_back(std::move(tc));
    }
    return out;
}

namespace {

result<topic_outcome, std::string> alter_with_replace(kafka_connection& conn, const std::string& topic,
                                                      const std::vector<config_change>& changes,
                                                      milliseconds timeout) {
    auto version = negotiate<protocol::alter_configs_request>(conn);
    if (!version) {
        return unexpected(unsupported_api_message(conn, "IncrementalAlterConfigs or AlterConfigs", 44));
    }
    // AlterConfigs replaces every dynamic config of the topic: start from the current ones.
    auto current = describe_topic_configs(conn, {topic}, timeout);
    if (!current) {
        return unexpected(std::move(current.error()));
    }
    std::map<std::string, std::string> values;
    for (const auto& tc : *current) {
        if (tc.error_code != 0) {
            return topic_outcome{topic, tc.error_code, tc.error};
        }
        for (const auto& c : tc.configs) {
            if (c.source == "DYNAMIC_TOPIC_CONFIG" && c.value) {
                values[c.name] = *c.value;
            }
        }
    }
    for (const auto& ch : changes) {
        if (ch.value) {
            values[ch.name] = *ch.value;
        } else {
            values.erase(ch.name);
        }
    }
    protocol::alter_configs_request request;
    protocol::alter_configs_request::alter_configs_resource_data r;
    r.resource_type = topic_resource;
    r.resource_name = topic;
    for (const auto& [k, v] : values) {
        protocol::alter_configs_request::alter_configs_resource_data::alterable_config_data c;
        c.name = k;
        c.value = v;
        r.configs.push_back(std::move(c));
    }
    request.resources.push_back(std::move(r));
    auto answer = conn.call<protocol::alter_configs_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    for (const auto& resp : answer->responses) {
        if (resp.resource_name == topic) {
            return outcome(topic, resp.error_code, resp.error_message);
        }
    }
    return unexpected(fmt::format("the AlterConfigs answer does not mention topic '{}'", topic));
}

} // namespace

result<topic_outcome, std::string> alter_topic_configs(kafka_connection& conn, const std::string& topic,
                                                       const std::vector<config_change>& changes,
                                                       milliseconds timeout) {
    auto version = negotiate<protocol::incremental_alter_configs_request>(conn);
    if (!version) {
        return alter_with_replace(conn, topic, changes, timeout);
    }
    protocol::incremental_alter_configs_request request;
    protocol::incremental_alter_configs_request::alter_configs_resource_data r;
    r.resource_type = topic_resource;
    r.resource_name = topic;
    for (const auto& ch : changes) {
        protocol::incremental_alter_configs_request::alter_configs_resource_data::alterable_config_data c;
        c.name = ch.name;
        c.config_operation = ch.value ? op_set : op_delete;
        c.value = ch.value;
        r.configs.push_back(std::move(c));
    }
    request.resources.push_back(std::move(r));
    auto answer = conn.call<protocol::incremental_alter_configs_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    for (const auto& resp : answer->responses) {
        if (resp.resource_name == topic) {
            return outcome(topic, resp.error_code, resp.error_message);
        }
    }
    return unexpected(fmt::format("the IncrementalAlterConfigs answer does not mention topic '{}'", topic));
}

result<cluster_description, std::string> describe_cluster(kafka_connection& conn, milliseconds timeout) {
    cluster_description out;
    if (auto version = negotiate<protocol::describe_cluster_request>(conn); version) {
        auto answer = conn.call<protocol::describe_cluster_response>(protocol::describe_cluster_request{},
                                                                     *version, timeout);
        if (!answer) {
            return unexpected(std::move(answer.error()));
        }
        if (answer->error_code != 0) {
            return unexpected("DescribeCluster failed: " +
                              kafka_error_text(answer->error_code, answer->error_message));
        }
        out.source = "DescribeCluster";
        out.cluster_id = answer->cluster_id;
        out.controller = answer->controller_id.value();
        for (const auto& b : answer->brokers) {
            if (b.port <= 0 || b.port > 65535) {
                return unexpected(fmt::format("{} sent broker {} with port {}", conn.peer().to_string(),
                                              b.broker_id.value(), b.port));
            }
            out.brokers.push_back(
              {b.broker_id.value(), endpoint{b.host, static_cast<uint16_t>(b.port)}, b.rack});
        }
        std::sort(out.brokers.begin(), out.brokers.end(),
                  [](const broker_address& a, const broker_address& b) { return a.id < b.id; });
        return out;
    }
    auto md = fetch_metadata(conn, std::vector<std::string>{}, timeout);
    if (!md) {
        return unexpected(std::move(md.error()));
    }
    out.source = "Metadata";
    out.cluster_id = md->cluster_id;
    out.controller = md->controller;
    out.brokers = md->brokers;
    return out;
}

} // namespace ms::client
