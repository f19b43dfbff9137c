#include "client/group_member.h"

#include <thread>

#include <fmt/format.h>

#include "client/group_admin.h"
#include "client/topic_admin.h"
#include "protocol/kafka_error.h"
#include "protocol/messages/all.h"

namespace ms::client {

namespace {

using steady = std::chrono::steady_clock;
constexpr int join_attempts = 10;

bool is(int16_t code, protocol::kafka_error e) {
    return code == protocol::code(e);
}

} // namespace

result<topic_partitions, std::string> group_member::join() {
    std::string last;
    for (int attempt = 0; attempt < join_attempts; ++attempt) {
        if (_coordinator == nullptr) {
            auto conn = find_coordinator(*_pool, _group);
            if (!conn) {
                return unexpected(std::move(conn.error()));
            }
            _coordinator = *conn;
        }
        bool retry = false;
        auto joined = join_once(*_coordinator, retry);
        if (joined || !retry) {
            return joined;
        }
        last = joined.error();
    }
    return unexpected(
      fmt::format("cannot join group '{}' after {} attempts: {}", _group, join_attempts, last));
}

result<topic_partitions, std::string> group_member::join_once(kafka_connection& coordinator, bool& retry) {
    auto version = negotiate<protocol::join_group_request>(coordinator);
    auto sync_version = negotiate<protocol::sync_group_request>(coordinator);
    if (!version || !sync_version) {
        return unexpected(!version ? version.error() : sync_version.error());
    }
    protocol::join_group_request request;
    request.group_id = _group;
    request.session_timeout_ms = _settings.session_timeout_ms;
    request.rebalance_timeout_ms = _settings.rebalance_timeout_ms;
    request.member_id = _member_id;
    request.protocol_type = "consumer";
    protocol::join_group_request::join_group_request_protocol_data range;
    range.name = "range";
    range.metadata = encode_subscription(_topics);
    request.protocols.push_back(std::move(range));
    const milliseconds join_timeout = _pool->timeout() + milliseconds(_settings.rebalance_timeout_ms);
    auto answer = coordinator.call<protocol::join_group_response>(request, *version, join_timeout);
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    const int16_t code = answer->error_code;
    if (is(code, protocol::kafka_error::member_id_required)) {
        _member_id = answer->member_id; // KIP-394: join again with the id the coordinator chose
        retry = true;
        return unexpected(std::string("member id required"));
    }
    if (is(code, protocol::kafka_error::unknown_member_id)) {
        _member_id.clear();
        retry = true;
        return unexpected(kafka_error_text(code));
    }
    if (is(code, protocol::kafka_error::not_coordinator) ||
        is(code, protocol::kafka_error::coordinator_not_available)) {
        _coordinator = nullptr;
        retry = true;
        return unexpected(kafka_error_text(code));
    }
    if (code != 0) {
        retry = protocol::retriable(protocol::to_kafka_error(code));
        return unexpected(fmt::format("JoinGroup for group '{}' failed: {}", _group, kafka_error_text(code)));
    }
    _member_id = answer->member_id;
    _generation = answer->generation_id;

    protocol::sync_group_request sync;
    sync.group_id = _group;
    sync.generation_id = _generation;
    sync.member_id = _member_id;
    if (answer->leader == _member_id) {
        std::map<std::string, std::vector<std::string>> subscriptions;
        std::vector<std::string> all_topics;
        for (const auto& m : answer->members) {
            auto topics = decode_subscription(m.metadata);
            if (!topics) {
                return unexpected(fmt::format(
                  "member {} of group '{}' sent a subscription that does not parse", m.member_id, _group));
            }
            all_topics.insert(all_topics.end(), topics->begin(), topics->end());
            subscriptions[m.member_id] = std::move(*topics);
        }
        auto md = fetch_metadata(_pool->bootstrap(), all_topics, _pool->timeout());
        if (!md) {
            return unexpected(std::move(md.error()));
        }
        std::map<std::string, int32_t> counts;
        for (const auto& t : md->topics) {
            if (t.error_code == 0) {
                counts[t.name] = static_cast<int32_t>(t.partitions.size());
            }
        }
        for (const auto& [member, assignment] : range_assign(subscriptions, counts)) {
            protocol::sync_group_request::sync_group_request_assignment_data a;
            a.member_id = member;
            a.assignment = encode_assignment(assignment);
            sync.assignments.push_back(std::move(a));
        }
    }
    auto synced = coordinator.call<protocol::sync_group_response>(sync, *sync_version, join_timeout);
    if (!synced) {
        return unexpected(std::move(synced.error()));
    }
    if (synced->error_code != 0) {
        if (is(synced->error_code, protocol::kafka_error::unknown_member_id)) {
            _member_id.clear(); // the coordinator dropped us: join as a new member
        }
        retry = is(synced->error_code, protocol::kafka_error::rebalance_in_progress) ||
                is(synced->error_code, protocol::kafka_error::illegal_generation) ||
                is(synced->error_code, protocol::kafka_error::unknown_member_id);
        return unexpected(
          fmt::format("SyncGroup for group '{}' failed: {}", _group, kafka_error_text(synced->error_code)));
    }
    auto assignment = decode_assignment(synced->assignment);
    if (!assignment) {
        return unexpected(fmt::format("the assignment of group '{}' does not parse", _group));
    }
    _last_heartbeat = steady::now();
    return std::move(*assignment);
}

bool group_member::needs_rejoin(int16_t code) {
    if (is(code, protocol::kafka_error::rebalance_in_progress)) {
        return true;
    }
    if (is(code, protocol::kafka_error::illegal_generation) ||
        is(code, protocol::kafka_error::unknown_member_id)) {
        _member_id.clear(); // the coordinator no longer knows this id: join as a new member
        return true;
    }
    if (is(code, protocol::kafka_error::not_coordinator) ||
        is(code, protocol::kafka_error::coordinator_not_available)) {
        _coordinator = nullptr; // find the coordinator again before rejoining
        return true;
    }
    return false;
}

result<membership, std::string> group_member::heartbeat() {
    if (_coordinator == nullptr) {
        return membership::rejoin_needed;
    }
    if (steady::now() - _last_heartbeat < _settings.heartbeat_interval) {
        return membership::stable;
    }
    auto version = negotiate<protocol::heartbeat_request>(*_coordinator);
    if (!version) {
        return unexpected(std::move(version.error()));
    }
    protocol::heartbeat_request request;
    request.group_id = _group;
    request.generation_id = _generation;
    request.member_id = _member_id;
    auto answer = _coordinator->call<protocol::heartbeat_response>(request, *version, _pool->timeout());
    if (!answer) {
        return unexpected(std::move(answer.error()));
    }
    _last_heartbeat = steady::now();
    const int16_t code = answer->error_code;
    if (code == 0) {
        return membership::stable;
    }
    if (needs_rejoin(code)) {
        return membership::rejoin_needed;
    }
    return unexpected(fmt::format("Heartbeat for group '{}' failed: {}", _group, kafka_error_text(code)));
}

result<std::map<int32_t, int64_t>, std::string>
group_member::committed(const std::string& topic, const std::vector<int32_t>& partitions) {
    if (_coordinator == nullptr) {
        return unexpected(fmt::format("not a member of group '{}'", _group));
    }
    auto offsets = fetch_committed(*_coordinator, _group, topic, partitions, _pool->timeout());
    if (!offsets) {
        return unexpected(std::move(offsets.error()));
    }
    return (*offsets)[topic];
}

result<membership, std::string> group_member::commit(const std::string& topic,
                                                     const std::map<int32_t, int64_t>& offsets) {
    if (_coordinator == nullptr) {
        return membership::rejoin_needed;
    }
    auto done =
      commit_offsets(*_coordinator, _group, _generation, _member_id, topic, offsets, _pool->timeout());
    if (done) {
        return membership::stable;
    }
    if (needs_rejoin(done.error().error_code)) {
        return membership::rejoin_needed;
    }
    return unexpected(std::move(done.error().message));
}

void group_member::leave() noexcept {
    if (_coordinator == nullptr || _member_id.empty()) {
        return;
    }
    try {
        auto version = negotiate<protocol::leave_group_request>(*_coordinator);
        if (!version) {
            return;
        }
        protocol::leave_group_request request;
        request.group_id = _group;
        request.member_id = _member_id; // v0-2
        protocol::leave_group_request::member_identity_data me;
        me.member_id = _member_id; // v3+
        request.members.push_back(std::move(me));
        (void)_coordinator->call<protocol::leave_group_response>(request, *version, _pool->timeout());
    } catch (...) { // NOLINT(bugprone-empty-catch): leaving is best effort
    }
    _member_id.clear();
    _generation = -1;
}

} // namespace ms::client
