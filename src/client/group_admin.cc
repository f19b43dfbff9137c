#include "client/group_admin.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "client/topic_admin.h"
#include "protocol/kafka_error.h"
#include "protocol/messages/all.h"

namespace ms::client {

namespace {

constexpr int coordinator_attempts = 25;
constexpr milliseconds coordinator_backoff{200};

} // namespace

result<kafka_connection*, std::string> find_coordinator(broker_pool& pool, const std::string& group) {
    auto version = negotiate<protocol::find_coordinator_request>(pool.bootstrap());
    if (!version) {
        return unexpected(std::move(version.error()));
    }
    std::string last;
    for (int attempt = 0; attempt < coordinator_attempts; ++attempt) {
        protocol::find_coordinator_request request;
        request.key = group;
        request.key_type = 0;
        auto answer =
          pool.bootstrap().call<protocol::find_coordinator_response>(request, *version, pool.timeout());
        if (!answer) {
            return unexpected(std::move(answer.error()));
        }
        if (answer->error_code == 0) {
            if (answer->port <= 0 || answer->port > 65535) {
                return unexpected(fmt::format("FindCoordinator answered port {}", answer->port));
            }
            return pool.at(endpoint{answer->host, static_cast<uint16_t>(answer->port)});
        }
        last = kafka_error_text(answer->error_code, answer->error_message);
        if (!protocol::retriable(protocol::to_kafka_error(answer->error_code))) {
            break;
        }
        std::this_thread::sleep_for(coordinator_backoff);
    }
    return unexpected(fmt::format("cannot find the coordinator of group '{}': {}", group, last));
}

result<std::vector<listed_group>, std::string> list_groups(broker_pool& pool) {
    auto md = fetch_metadata(pool.bootstrap(), std::vector<std::string>{}, pool.timeout());
    if (!md) {
        return unexpected(std::move(md.error()));
    }
    pool.learn(md->addresses());
    std::vector<listed_group> out;
    for (const auto& b : md->brokers) {
        auto conn = pool.at(b.address);
        if (!conn) {
            return unexpected(std::move(conn.error()));
        }
        auto version = negotiate<protocol::list_groups_request>(**conn);
        if (!version) {
            return unexpected(std::move(version.error()));
        }
        auto answer = (*conn)->call<protocol::list_groups_response>(protocol::list_groups_request{}, *version,
                                                                    pool.timeout());
        if (!answer) {
            return unexpected(std::move(answer.error()));
        }
        if (answer->error_code != 0) {
            return unexpected(fmt::format("ListGroups on {} failed: {}", (*conn)->peer().to_string(),
                                          kafka_error_text(answer->error_code)));
        }
        for (const auto& g : answer->groups) {
            out.push_back({g.group_id, g.protocol_type, g.group_state});
        }
    }
    std::sort(out.begin(), out.end(),
              [](const listed_group& a, const listed_group& b) { return a.group_id < b.group_id; });
    return out;
}

result<group_description, std::string> describe_group(broker_pool& pool, const std::string& group) {
    auto conn = find_coordinator(pool, group);
    if (!conn) {
        return unexpected(std::move(conn.error()));
    }
    auto version = negotiate<protocol::describe_groups_request>(**conn);
    if (!version) {
        return unexpected(std::move(version.error()));
    }
    protocol::describe_groups_request request;
    request.groups.push_back(group);
    auto answer = (*conn)->call<protocol::describe_groups_response>(request, *version, pool.timeout());
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    for (const auto& g : answer->groups) {
        if (g.group_id != group) {
            continue;
        }
        group_description d;
        d.group_id = g.group_id;
        d.error_code = g.error_code;
        if (g.error_code != 0) {
            d.error = kafka_error_text(g.error_code);
        }
        d.state = g.group_state;
        d.protocol_type = g.protocol_type;
        d.protocol = g.protocol_data;
        for (const auto& m : g.members) {
            group_member_description md;
            md.member_id = m.member_id;
            md.instance_id = m.group_instance_id;
            md.client_id = m.client_id;
            md.client_host = m.client_host;
            if (g.protocol_type == "consumer") {
                if (auto a = decode_assignment(m.member_assignment)) {
                    md.assignment = std::move(*a);
                }
            }
            d.members.push_back(std::move(md));
        }
        return d;
    }
    return unexpected(fmt::format("DescribeGroups did not answer for group '{}'", group));
}

result<std::vector<group_outcome>, std::string> delete_groups(broker_pool& pool,
                                                              const std::vector<std::string>& groups) {
    std::vector<group_outcome> out;
    for (const auto& group : groups) {
        auto conn = find_coordinator(pool, group);
        if (!conn) {
            return unexpected(std::move(conn.error()));
        }
        auto version = negotiate<protocol::delete_groups_request>(**conn);
        if (!version) {
            return unexpected(std::move(version.error()));
        }
        protocol::delete_groups_request request;
        request.groups_names.push_back(group);
        auto answer = (*conn)->call<protocol::delete_groups_response>(request, *version, pool.timeout());
        if (!answer) {
            return unexpected(std::move(answer.error()));
        }
        bool answered = false;
        for (const auto& r : answer->results) {
            if (r.group_id == group) {
                out.push_back(
                  {r.group_id, r.error_code, r.error_code != 0 ? kafka_error_text(r.error_code) : ""});
                answered = true;
            }
        }
        if (!answered) {
            return unexpected(fmt::format("DeleteGroups did not answer for group '{}'", group));
        }
    }
    return out;
}

result<committed_offsets, std::string> fetch_committed(kafka_connection& coordinator,
                                                       const std::string& group,
                                                       const std::optional<std::string>& topic,
                                                       const std::vector<int32_t>& partitions,
                                                       milliseconds timeout) {
    auto version = negotiate<protocol::offset_fetch_request>(coordinator, topic ? 1 : 2);
    if (!version) {
        return unexpected(std::move(version.error()));
    }
    protocol::offset_fetch_request request;
    request.group_id = group;
    if (topic) {
        request.topics = std::vector<protocol::offset_fetch_request::offset_fetch_request_topic_data>(1);
        (*request.topics)[0].name = *topic;
        (*request.topics)[0].partition_indexes = partitions;
    }
    auto answer = coordinator.call<protocol::offset_fetch_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    if (answer->error_code != 0) {
        return unexpected(
          fmt::format("OffsetFetch for group '{}' failed: {}", group, kafka_error_text(answer->error_code)));
    }
    committed_offsets out;
    for (const auto& t : answer->topics) {
        for (const auto& p : t.partitions) {
            if (p.error_code != 0) {
                return unexpected(fmt::format("OffsetFetch for group '{}', {}-{}: {}", group, t.name,
                                              p.partition_index.value(), kafka_error_text(p.error_code)));
            }
            if (p.committed_offset.value() >= 0) {
                out[t.name][p.partition_index.value()] = p.committed_offset.value();
            }
        }
    }
    return out;
}

result<void, commit_failure> commit_offsets(kafka_connection& coordinator, const std::string& group,
                                            int32_t generation, const std::string& member_id,
                                            const std::string& topic,
                                            const std::map<int32_t, int64_t>& offsets, milliseconds timeout) {
    auto version = negotiate<protocol::offset_commit_request>(coordinator, 2);
    if (!version) {
        return unexpected(commit_failure{0, std::move(version.error())});
    }
    protocol::offset_commit_request request;
    request.group_id = group;
    request.generation_id_or_member_epoch = generation;
    request.member_id = member_id;
    request.topics.resize(1);
    request.topics[0].name = topic;
    for (const auto& [p, offset] : offsets) {
        protocol::offset_commit_request::offset_commit_request_topic_data::
          offset_commit_request_partition_data d;
        d.partition_index = model::partition_id(p);
        d.committed_offset = model::offset(offset);
        request.topics[0].partitions.push_back(std::move(d));
    }
    auto answer = coordinator.call<protocol::offset_commit_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(commit_failure{0, std::move(answer.error())});
    }
    for (const auto& t : answer->topics) {
        for (const auto& p : t.partitions) {
            if (p.error_code != 0) {
                return unexpected(commit_failure{
                  p.error_code,
                  fmt::format("committing offsets of group '{}' for {}-{} failed: {}", group, t.name,
                              p.partition_index.value(), kafka_error_text(p.error_code))});
            }
        }
    }
    return {};
}

} // namespace ms::client
