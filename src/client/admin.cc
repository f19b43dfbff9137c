#include "client/admin.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "protocol/kafka_error.h"
#include "protocol/messages/all.h"

namespace ms::client {

namespace {

using steady = std::chrono::steady_clock;
constexpr int16_t metadata_key = 3;
constexpr int16_t create_topics_key = 19;

std::string error_text(int16_t code) {
    const auto e = protocol::to_kafka_error(code);
    return fmt::format("{} ({})", protocol::name(e), protocol::description(e));
}

milliseconds left_until(steady::time_point deadline) {
    return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - steady::now()));
}

} // namespace

result<cluster_layout, std::string> describe_topic(kafka_connection& conn, const std::string& topic,
                                                   milliseconds timeout) {
    const auto version = conn.version_for(metadata_key, 8);
    if (!version) {
        return unexpected(
          fmt::format("{} does not speak a Metadata version this tool knows", conn.peer().to_string()));
    }
    protocol::metadata_request request;
    request.topics.emplace();
    protocol::metadata_request::metadata_request_topic_data wanted;
    wanted.name = topic;
    request.topics->push_back(std::move(wanted));
    request.allow_auto_topic_creation = false;
    auto answer = conn.call<protocol::metadata_response>(request, *version, timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    cluster_layout layout;
    for (const auto& b : answer->brokers) {
        layout.brokers[b.node_id.value()] = endpoint{b.host, static_cast<uint16_t>(b.port)};
    }
    for (const auto& t : answer->topics) {
        if (t.name != topic) {
            continue;
        }
        if (t.error_code == protocol::code(protocol::kafka_error::unknown_topic_or_partition)) {
            return layout;
        }
        if (t.error_code != 0 &&
            t.error_code != protocol::code(protocol::kafka_error::leader_not_available)) {
            return unexpected(fmt::format("topic '{}': {}", topic, error_text(t.error_code)));
        }
        topic_layout out{t.name, {}};
        for (const auto& p : t.partitions) {
            out.partitions.push_back(
              {p.partition_index.value(), p.error_code == 0 ? p.leader_id.value() : -1});
        }
        std::sort(
          out.partitions.begin(), out.partitions.end(),
          [](const partition_leader& a, const partition_leader& b) { return a.partition < b.partition; });
        layout.topic = std::move(out);
    }
    return layout;
}

result<cluster_layout, std::string> ensure_topic(kafka_connection& conn, const std::string& topic,
                                                 int32_t partitions, int16_t replication_factor,
                                                 milliseconds timeout) {
    const auto deadline = steady::now() + timeout;
    auto existing = describe_topic(conn, topic, timeout);
    if (!existing) {
        return existing;
    }
    if (!existing->topic) {
        const auto version = conn.version_for(create_topics_key, 7);
        if (!version) {
            return unexpected(fmt::format("{} does not speak a CreateTopics version this tool knows",
                                          conn.peer().to_string()));
        }
        protocol::create_topics_request request;
        request.timeout_ms = static_cast<int32_t>(left_until(deadline).count());
        protocol::create_topics_request::creatable_topic_data t;
        t.name = topic;
        t.num_partitions = partitions;
        t.replication_factor = replication_factor;
        request.topics.push_back(std::move(t));
        auto created = conn.call<protocol::create_topics_response>(request, *version, left_until(deadline));
        if (!created) {
            return unexpected(std::move(created.error()));
        }
        for (const auto& r : created->topics) {
            if (r.error_code != 0 &&
                r.error_code != protocol::code(protocol::kafka_error::topic_already_exists)) {
                return unexpected(fmt::format("cannot create topic '{}': {}{}", topic,
                                              error_text(r.error_code),
                                              r.error_message ? ": " + *r.error_message : std::string()));
            }
        }
    }
    // Creation is asynchronous in a cluster: wait until every partition has a leader.
    for (;;) {
        auto layout = describe_topic(conn, topic, left_until(deadline));
        if (!layout) {
            return layout;
        }
        const bool ready = layout->topic && !layout->topic->partitions.empty() &&
                           std::all_of(layout->topic->partitions.begin(), layout->topic->partitions.end(),
                                       [](const partition_leader& p) { return p.leader >= 0; });
        if (ready) {
            return layout;
        }
        if (steady::now() >= deadline) {
            return unexpected(
              fmt::format("topic '{}' has partitions without a leader after {} ms", topic, timeout.count()));
        }
        std::this_thread::sleep_for(milliseconds(50));
    }
}

} // namespace ms::client
