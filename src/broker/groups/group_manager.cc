#include "broker/groups/group_manager.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "base/clock.h"
#include "base/logging.h"
#include "protocol/kafka_error.h"
#include "protocol/wire.h"

namespace ms::broker::groups {

namespace {

using protocol::code;
using protocol::kafka_error;

constexpr int16_t ok = 0;

auto& logger() {
    static auto log = logging::get("groups");
    return log;
}

constexpr std::array<std::string_view, 5> state_names{"Empty", "PreparingRebalance", "CompletingRebalance",
                                                      "Stable", "Dead"};

// The topics of a consumer-protocol subscription (ConsumerProtocolSubscription: version i16,
// topics [string], ...); nothing when the bytes are not one.
std::vector<std::string> subscription_topics(const bytes& metadata) {
    protocol::wire_reader r(metadata);
    (void)r.read_int16();
    const int32_t count = r.read_array_length(false, false, 2);
    std::vector<std::string> topics;
    for (int32_t i = 0; r.ok() && i < count; ++i) {
        topics.push_back(r.read_string(false));
    }
    if (!r.ok()) {
        return {};
    }
    return topics;
}

int16_t commit_store_error(store_errc e) {
    switch (e) {
    case store_errc::none: return ok;
    case store_errc::too_large: return code(kafka_error::invalid_commit_offset_size);
    case store_errc::unavailable: return code(kafka_error::coordinator_not_available);
    }
    return code(kafka_error::unknown_server_error);
}

// Kafka answers a group record that cannot be stored with UNKNOWN_SERVER_ERROR when it is too
// big, and with COORDINATOR_NOT_AVAILABLE when the log cannot take it.
int16_t group_store_error(store_errc e) {
    switch (e) {
    case store_errc::none: return ok;
    case store_errc::too_large: return code(kafka_error::unknown_server_error);
    case store_errc::unavailable: return code(kafka_error::coordinator_not_available);
    }
    return code(kafka_error::unknown_server_error);
}

} // namespace

std::string_view state_name(group_state s) noexcept {
    return state_names[static_cast<size_t>(s)];
}

std::optional<group_state> parse_state(std::string_view name) noexcept {
    for (size_t i = 0; i < state_names.size(); ++i) {
        if (state_names[i] == name) {
            return static_cast<group_state>(i);
        }
    }
    return std::nullopt;
}

int32_t partition_for(std::string_view group_id, int32_t partitions) noexcept {
    int32_t h = 0;
    for (char c : group_id) {
        // Java int arithmetic wraps; do it in unsigned to keep C++ defined.
        h = static_cast<int32_t>(static_cast<uint32_t>(h) * 31U + static_cast<unsigned char>(c));
    }
    // Kafka's Utils.abs: maps INT_MIN to 0 rather than overflowing.
    const int32_t positive = h == std::numeric_limits<int32_t>::min() ? 0 : (h < 0 ? -h : h);
    return partitions <= 0 ? 0 : positive % partitions;
}

group_manager::group_manager(group_settings settings, offsets_log& log,
                             std::function<clock::time_point()> now, std::function<int64_t()> wall_ms)
  : _settings(settings), _log(log), _now(std::move(now)), _wall_ms(std::move(wall_ms)),
    _alive(std::make_shared<group_manager*>(this)), _random(std::random_device{}()) {}

group_manager::~group_manager() {
    *_alive = nullptr;
}

int64_t group_manager::wall_ms() const {
    if (_wall_ms) {
        return _wall_ms();
    }
    return wall_clock_ms();
}

group_manager::group* group_manager::find(std::string_view id) noexcept {
    auto it = _groups.find(id);
    return it == _groups.end() ? nullptr : it->second.get();
}

const group_manager::group* group_manager::find(std::string_view id) const noexcept {
    auto it = _groups.find(id);
    return it == _groups.end() ? nullptr : it->second.get();
}

group_manager::group& group_manager::create(std::string_view id) {
    auto g = std::make_unique<group>();
    g->id = std::string(id);
    g->partition = partition_for(id, _settings.offsets_partitions);
    g->state_ms = wall_ms();
    group& ref = *g;
    _groups.emplace(std::string(id), std::move(g));
    return ref;
}

std::string group_manager::new_member_id(std::string_view prefix) {
    // Kafka's form: the client id (or the group instance id) then a random UUID.
    const uint64_t a = _random();
    const uint64_t b = _random();
    return fmt::format("{}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", prefix, a >> 32U, (a >> 16U) & 0xffffU,
                       a & 0xffffU, b >> 48U, b & 0xffffffffffffULL);
}

// ---- start-up ------------------------------------------------------------------------------

result<void, std::string> group_manager::replay(int32_t partition, std::span<const std::byte> key,
                                                std::optional<std::span<const std::byte>> value) {
    auto decoded = decode_key(key);
    if (!decoded) {
        return unexpected(decoded.error());
    }
    if (auto* k = std::get_if<offset_key>(&*decoded)) {
        group* g = find(k->group);
        if (!value) {
            if (g != nullptr) {
                g->offsets.erase({k->topic, k->partition});
            }
            return {};
        }
        auto v = decode_offset_value(*value);
        if (!v) {
            return unexpected(v.error());
        }
        if (g == nullptr) {
            g = &create(k->group);
        }
        g->partition = partition;
        g->offsets[{k->topic, k->partition}] = std::move(*v);
        return {};
    }
    const auto& k = std::get<group_key>(*decoded);
    if (!value) {
        _loading.erase(k.group);
        if (group* g = find(k.group); g != nullptr) {
            // A deleted group: its offsets were deleted before its record (delete_groups order).
            _groups.erase(k.group);
        }
        return {};
    }
    auto v = decode_group_value(*value);
    if (!v) {
        return unexpected(v.error());
    }
    _loading[k.group] = {partition, std::move(*v)};
    if (find(k.group) == nullptr) {
        create(k.group).partition = partition;
    }
    return {};
}

void group_manager::loaded() {
    const auto t = now();
    for (auto& [id, entry] : _loading) {
        auto& [partition, v] = entry;
        group* g = find(id);
        if (g == nullptr) {
            g = &create(id);
        }
        g->partition = partition;
        g->metadata_stored = true;
        g->generation = v.generation;
        g->protocol_type = v.protocol_type;
        g->protocol_name = v.protocol;
        g->leader = v.leader;
        g->state_ms = v.state_timestamp >= 0 ? v.state_timestamp : wall_ms();
        for (auto& sm : v.members) {
            member m;
            m.id = sm.member_id;
            m.instance_id = sm.instance_id;
            m.client_id = sm.client_id;
            m.client_host = sm.client_host;
            m.protocol_type = v.protocol_type;
            m.session_timeout_ms = sm.session_timeout_ms;
            m.rebalance_timeout_ms = sm.rebalance_timeout_ms;
            m.protocols.push_back({v.protocol.value_or(""), std::move(sm.subscription)});
            m.assignment = std::move(sm.assignment);
            m.last_heard = t; // a restarted coordinator gives every member a full session
            m.synced = true;
            if (m.instance_id) {
                g->static_members[*m.instance_id] = m.id;
            }
            g->members.emplace(m.id, std::move(m));
        }
        // Stored with members only once their assignment was stored: the group was Stable.
        g->state = g->members.empty() ? group_state::empty : group_state::stable;
        if (g->leader && !g->members.contains(*g->leader)) {
            g->leader.reset();
        }
    }
    _loading.clear();
    _next_retention_check_ms = wall_ms() + _settings.offsets_retention_check_interval_ms;
}

// ---- JoinGroup -----------------------------------------------------------------------------

void group_manager::join(join_params p, join_callback done) {
    auto fail = [&](kafka_error e) {
        join_result r;
        r.error = code(e);
        r.member_id = p.member_id;
        done(std::move(r));
    };
    if (_shut_down) {
        return fail(kafka_error::not_coordinator);
    }
    if (p.group_id.empty()) {
        return fail(kafka_error::invalid_group_id);
    }
    if (p.session_timeout_ms < _settings.min_session_timeout_ms ||
        p.session_timeout_ms > _settings.max_session_timeout_ms) {
        return fail(kafka_error::invalid_session_timeout);
    }
    if (p.rebalance_timeout_ms <= 0) {
        p.rebalance_timeout_ms =
          p.session_timeout_ms; // JoinGroup v0 has none: Kafka uses the session timeout
    }
    if (p.protocol_type.empty() || p.protocols.empty()) {
        return fail(kafka_error::inconsistent_group_protocol);
    }
    group* g = find(p.group_id);
    if (g == nullptr) {
        if (!p.member_id.empty()) {
            return fail(kafka_error::unknown_member_id);
        }
        g = &create(p.group_id);
    }
    if (g->state == group_state::dead) {
        // Being deleted: the client retries and meets a new, empty group.
        return fail(kafka_error::coordinator_not_available);
    }
    if (!supports_protocols(*g, p)) {
        return fail(kafka_error::inconsistent_group_protocol);
    }
    if (p.member_id.empty()) {
        join_new_member(*g, p, done);
    } else {
        join_known_member(*g, p, done);
    }
}

bool group_manager::supports_protocols(const group& g, const join_params& p) const {
    if (g.members.empty()) {
        return true;
    }
    if (g.protocol_type != p.protocol_type) {
        return false;
    }
    // Some protocol of the newcomer must be one every current member supports.
    return std::any_of(p.protocols.begin(), p.protocols.end(), [&](const member_protocol& proto) {
        return std::all_of(g.members.begin(), g.members.end(), [&](const auto& entry) {
            if (entry.first == p.member_id) {
                return true; // a rejoining member is judged by its new protocols only
            }
            return protocol_metadata(entry.second, proto.name) != nullptr;
        });
    });
}

void group_manager::join_new_member(group& g, join_params& p, join_callback& done) {
    if (p.instance_id) {
        if (auto known = g.static_members.find(*p.instance_id); known != g.static_members.end()) {
            const std::string old_id = known->second;
            replace_static_member(g, old_id, p, done);
            return;
        }
    }
    if (g.members.size() + g.pending.size() >= static_cast<size_t>(_settings.max_group_size)) {
        join_result r;
        r.error = code(kafka_error::group_max_size_reached);
        done(std::move(r));
        return;
    }
    std::string id = new_member_id(p.instance_id ? *p.instance_id : p.client_id);
    if (!p.instance_id && p.member_id_required) {
        // KIP-394: the client must come back with this id, so a retried first join cannot leave
        // an orphan member behind.
        g.pending[id] = now() + std::chrono::milliseconds(p.session_timeout_ms);
        join_result r;
        r.error = code(kafka_error::member_id_required);
        r.member_id = std::move(id);
        done(std::move(r));
        return;
    }
    add_member_and_rebalance(g, std::move(id), p, done);
}

void group_manager::join_known_member(group& g, join_params& p, join_callback& done) {
    auto reject = [&](kafka_error e) {
        join_result r;
        r.error = code(e);
        r.member_id = p.member_id;
        done(std::move(r));
    };
    if (g.pending.contains(p.member_id)) {
        g.pending.erase(p.member_id);
        add_member_and_rebalance(g, p.member_id, p, done);
        return;
    }
    if (p.instance_id) {
        auto known = g.static_members.find(*p.instance_id);
        if (known == g.static_members.end()) {
            return reject(kafka_error::unknown_member_id);
        }
        if (known->second != p.member_id) {
            return reject(kafka_error::fenced_instance_id);
        }
    }
    auto it = g.members.find(p.member_id);
    if (it == g.members.end()) {
        return reject(kafka_error::unknown_member_id);
    }
    member& m = it->second;
    m.last_heard = now();
    const bool same_metadata = m.protocol_type == p.protocol_type &&
                               m.protocols.size() == p.protocols.size() &&
                               std::equal(m.protocols.begin(), m.protocols.end(), p.protocols.begin(),
                                          [](const member_protocol& a, const member_protocol& b) {
                                              return a.name == b.name && a.metadata == b.metadata;
                                          });
    switch (g.state) {
    case group_state::preparing_rebalance:
        update_member(m, p, done);
        try_complete_join(g);
        return;
    case group_state::completing_rebalance:
        if (same_metadata) {
            // It missed its JoinGroup answer: give it again.
            done(current_join_result(g, m));
            return;
        }
        update_member(m, p, done);
        prepare_rebalance(g);
        try_complete_join(g);
        return;
    case group_state::stable:
        if (g.leader == m.id || !same_metadata) {
            // A leader's rejoin asks for a new assignment (its view of topics changed).
            update_member(m, p, done);
            prepare_rebalance(g);
            try_complete_join(g);
            return;
        }
        done(current_join_result(g, m));
        return;
    case group_state::empty:
    case group_state::dead: return reject(kafka_error::unknown_member_id);
    }
}

void group_manager::update_member(member& m, join_params& p, join_callback& done) {
    if (m.awaiting_join) {
        // A second JoinGroup while the first waits: the first connection is presumably gone.
        join_result r;
        r.error = code(kafka_error::rebalance_in_progress);
        r.member_id = m.id;
        auto old = std::move(m.awaiting_join);
        m.awaiting_join = nullptr;
        old(std::move(r));
    }
    m.protocol_type = p.protocol_type;
    m.protocols = std::move(p.protocols);
    m.session_timeout_ms = p.session_timeout_ms;
    m.rebalance_timeout_ms = p.rebalance_timeout_ms;
    m.client_id = std::move(p.client_id);
    m.client_host = std::move(p.client_host);
    m.awaiting_join = std::move(done);
}

void group_manager::add_member_and_rebalance(group& g, std::string id, join_params& p, join_callback& done) {
    member m;
    m.id = id;
    m.instance_id = p.instance_id;
    m.last_heard = now();
    if (g.members.empty()) {
        g.protocol_type = p.protocol_type;
    }
    if (!g.leader) {
        g.leader = id;
    }
    if (m.instance_id) {
        g.static_members[*m.instance_id] = id;
    }
    auto [it, inserted] = g.members.emplace(id, std::move(m));
    update_member(it->second, p, done);
    if (g.initial_until && now() < *g.initial_until) {
        g.joined_during_delay = true;
    }
    if (g.state != group_state::preparing_rebalance) {
        prepare_rebalance(g);
    }
    try_complete_join(g);
}

void group_manager::replace_static_member(group& g, const std::string& old_id, join_params& p,
                                          join_callback& done) {
    // KIP-345: a static member that restarts takes its old place under a new member id; the old
    // incarnation, if still waiting, is fenced.
    auto node = g.members.extract(old_id);
    member m = std::move(node.mapped());
    if (m.awaiting_join) {
        join_result r;
        r.error = code(kafka_error::fenced_instance_id);
        r.member_id = old_id;
        auto old = std::move(m.awaiting_join);
        m.awaiting_join = nullptr;
        old(std::move(r));
    }
    if (m.awaiting_sync) {
        auto old = std::move(m.awaiting_sync);
        m.awaiting_sync = nullptr;
        old(sync_result{code(kafka_error::fenced_instance_id), {}});
    }
    const std::string new_id = new_member_id(*p.instance_id);
    m.id = new_id;
    m.last_heard = now();
    g.static_members[*p.instance_id] = new_id;
    if (g.leader == old_id) {
        g.leader = new_id;
    }
    auto [it, inserted] = g.members.emplace(new_id, std::move(m));
    member& moved = it->second;

    if (g.state == group_state::stable) {
        moved.protocol_type = p.protocol_type;
        moved.protocols = p.protocols;
        moved.session_timeout_ms = p.session_timeout_ms;
        moved.rebalance_timeout_ms = p.rebalance_timeout_ms;
        moved.client_id = p.client_id;
        moved.client_host = p.client_host;
        if (g.protocol_name && select_protocol(g) == *g.protocol_name) {
            // Same protocol for the group: keep the generation and the assignment, no rebalance.
            // The new id must be durable first: after a restart, the old one would fence it.
            const int32_t generation = g.generation;
            store(g, {group_record(g)},
                  [generation, new_id, done = std::move(done), this](group* gp, store_errc e) {
                      join_result r;
                      r.member_id = new_id;
                      if (gp == nullptr) {
                          r.error = code(kafka_error::coordinator_not_available);
                      } else if (e != store_errc::none) {
                          r.error = group_store_error(e);
                      } else if (auto mi = gp->members.find(new_id);
                                 mi == gp->members.end() || gp->generation != generation) {
                          r.error = code(kafka_error::rebalance_in_progress);
                      } else {
                          gp->metadata_stored = true;
                          r = current_join_result(*gp, mi->second);
                      }
                      done(std::move(r));
                  });
            return;
        }
    }
    update_member(moved, p, done);
    if (g.state == group_state::stable || g.state == group_state::completing_rebalance) {
        prepare_rebalance(g);
    }
    try_complete_join(g);
}

// ---- rebalance -----------------------------------------------------------------------------

int32_t group_manager::rebalance_timeout_ms(const group& g) const {
    int32_t t = 0;
    for (const auto& [id, m] : g.members) {
        t = std::max(t, m.rebalance_timeout_ms);
    }
    return t;
}

void group_manager::prepare_rebalance(group& g) {
    if (g.state == group_state::completing_rebalance) {
        // The assignment being handed out is void: waiting SyncGroups learn to rejoin.
        for (auto& [id, m] : g.members) {
            m.assignment.clear();
            if (m.awaiting_sync) {
                auto cb = std::move(m.awaiting_sync);
                m.awaiting_sync = nullptr;
                cb(sync_result{code(kafka_error::rebalance_in_progress), {}});
            }
        }
    }
    const bool was_empty = g.state == group_state::empty;
    g.state = group_state::preparing_rebalance;
    ++_rebalances;
    g.state_ms = wall_ms();
    const auto t = now();
    g.deadline = t + std::chrono::milliseconds(rebalance_timeout_ms(g));
    g.initial_until.reset();
    g.joined_during_delay = false;
    if (was_empty && _settings.initial_rebalance_delay_ms > 0) {
        g.initial_until =
          std::min(g.deadline, t + std::chrono::milliseconds(_settings.initial_rebalance_delay_ms));
    }
}

bool group_manager::all_joined(const group& g) const {
    return g.pending.empty() && std::all_of(g.members.begin(), g.members.end(), [](const auto& entry) {
               return bool(entry.second.awaiting_join);
           });
}

void group_manager::try_complete_join(group& g) {
    if (g.state != group_state::preparing_rebalance || g.initial_until) {
        return;
    }
    if (all_joined(g)) {
        complete_join(g);
    }
}

void group_manager::complete_join(group& g) {
    // Dynamic members that did not rejoin in time are gone; static ones keep their place (their
    // session timeout decides), as in Kafka.
    for (auto it = g.members.begin(); it != g.members.end();) {
        member& m = it->second;
        if (!m.awaiting_join && !m.instance_id) {
            if (g.leader == m.id) {
                g.leader.reset();
            }
            it = g.members.erase(it);
        } else {
            ++it;
        }
    }
    g.initial_until.reset();
    ++g.generation;
    g.state_ms = wall_ms();
    if (g.members.empty()) {
        g.state = group_state::empty;
        g.protocol_name.reset();
        g.leader.reset();
        store(g, {group_record(g)}, [](group* gp, store_errc e) {
            if (gp != nullptr && e == store_errc::none) {
                gp->metadata_stored = true;
            }
        });
        return;
    }
    if (!g.leader || !g.members.contains(*g.leader)) {
        g.leader.reset();
        for (const auto& [id, m] : g.members) {
            if (m.awaiting_join) {
                g.leader = id;
                break;
            }
        }
        if (!g.leader) {
            g.leader = g.members.begin()->first;
        }
    }
    g.protocol_name = select_protocol(g);
    g.state = group_state::completing_rebalance;
    g.deadline = now() + std::chrono::milliseconds(rebalance_timeout_ms(g));
    std::vector<std::pair<join_callback, join_result>> answers;
    const auto answered_at = now();
    for (auto& [id, m] : g.members) {
        m.synced = false;
        m.assignment.clear();
        // A member could not heartbeat while its JoinGroup waited (up to the rebalance timeout):
        // its session starts again now, as Kafka's does when the join completes.
        m.last_heard = answered_at;
        if (m.awaiting_join) {
            answers.emplace_back(std::move(m.awaiting_join), current_join_result(g, m));
            m.awaiting_join = nullptr;
        }
    }
    for (auto& [cb, r] : answers) {
        cb(std::move(r));
    }
}

std::string group_manager::select_protocol(const group& g) const {
    // Candidates: protocols every member supports. Each member votes for its most preferred
    // candidate; the most votes wins (ties: the earliest in the first member's preference).
    std::vector<std::string> candidates;
    if (g.members.empty()) {
        return {};
    }
    for (const auto& proto : g.members.begin()->second.protocols) {
        bool everyone = std::all_of(g.members.begin(), g.members.end(), [&](const auto& entry) {
            return protocol_metadata(entry.second, proto.name) != nullptr;
        });
        if (everyone) {
            candidates.push_back(proto.name);
        }
    }
    if (candidates.empty()) {
        return g.members.begin()->second.protocols.front().name;
    }
    std::map<std::string, size_t, std::less<>> votes;
    for (const auto& [id, m] : g.members) {
        for (const auto& proto : m.protocols) {
            if (std::find(candidates.begin(), candidates.end(), proto.name) != candidates.end()) {
                ++votes[proto.name];
                break;
            }
        }
    }
    std::string best = candidates.front();
    for (const auto& c : candidates) {
        if (votes[c] > votes[best]) {
            best = c;
        }
    }
    return best;
}

const bytes* group_manager::protocol_metadata(const member& m, std::string_view protocol) {
    for (const auto& p : m.protocols) {
        if (p.name == protocol) {
            return &p.metadata;
        }
    }
    return nullptr;
}

join_result group_manager::current_join_result(const group& g, const member& m) const {
    join_result r;
    r.generation = g.generation;
    r.protocol_name = g.protocol_name;
    r.leader = g.leader.value_or("");
    r.member_id = m.id;
    if (g.leader == m.id && g.protocol_name) {
        for (const auto& [id, other] : g.members) {
            const bytes* meta = protocol_metadata(other, *g.protocol_name);
            r.members.push_back({id, other.instance_id, meta != nullptr ? *meta : bytes{}});
        }
    }
    return r;
}

// ---- SyncGroup -----------------------------------------------------------------------------

void group_manager::sync(sync_params p, sync_callback done) {
    auto fail = [&](kafka_error e) { done(sync_result{code(e), {}}); };
    if (_shut_down) {
        return fail(kafka_error::not_coordinator);
    }
    if (p.group_id.empty()) {
        return fail(kafka_error::invalid_group_id);
    }
    group* g = find(p.group_id);
    if (g == nullptr) {
        return fail(kafka_error::unknown_member_id);
    }
    if (g->state == group_state::dead) {
        return fail(kafka_error::coordinator_not_available);
    }
    if (p.instance_id) {
        auto known = g->static_members.find(*p.instance_id);
        if (known == g->static_members.end()) {
            return fail(kafka_error::unknown_member_id);
        }
        if (known->second != p.member_id) {
            return fail(kafka_error::fenced_instance_id);
        }
    }
    auto it = g->members.find(p.member_id);
    if (it == g->members.end()) {
        return fail(kafka_error::unknown_member_id);
    }
    if (p.generation != g->generation) {
        return fail(kafka_error::illegal_generation);
    }
    member& m = it->second;
    m.last_heard = now();
    switch (g->state) {
    case group_state::empty:
    case group_state::dead: return fail(kafka_error::unknown_member_id);
    case group_state::preparing_rebalance: return fail(kafka_error::rebalance_in_progress);
    case group_state::stable: done(sync_result{ok, m.assignment}); return;
    case group_state::completing_rebalance: break;
    }
    if (m.awaiting_sync) {
        auto old = std::move(m.awaiting_sync);
        m.awaiting_sync = nullptr;
        old(sync_result{code(kafka_error::rebalance_in_progress), {}});
    }
    m.awaiting_sync = std::move(done);
    m.synced = true;
    if (g->leader != m.id || g->storing_assignment) {
        return;
    }
    // The leader's assignment: members it left out get an empty one. Stored before anyone
    // hears it, so a restart brings back exactly what the members were told.
    std::map<std::string, bytes, std::less<>> assigned;
    for (auto& [id, a] : p.assignments) {
        if (g->members.contains(id)) {
            assigned[id] = std::move(a);
        }
    }
    for (auto& [id, mem] : g->members) {
        auto a = assigned.find(id);
        mem.assignment = a == assigned.end() ? bytes{} : std::move(a->second);
    }
    g->storing_assignment = true;
    const int32_t generation = g->generation;
    store(*g, {group_record(*g)}, [generation, this](group* gp, store_errc e) {
        if (gp == nullptr) {
            return;
        }
        gp->storing_assignment = false;
        if (gp->state != group_state::completing_rebalance || gp->generation != generation) {
            return; // a rebalance started meanwhile and already answered the waiting members
        }
        if (e != store_errc::none) {
            const int16_t error = group_store_error(e);
            for (auto& [id, mem] : gp->members) {
                mem.assignment.clear();
                if (mem.awaiting_sync) {
                    auto cb = std::move(mem.awaiting_sync);
                    mem.awaiting_sync = nullptr;
                    cb(sync_result{error, {}});
                }
            }
            prepare_rebalance(*gp);
            try_complete_join(*gp);
            return;
        }
        gp->metadata_stored = true;
        gp->state = group_state::stable;
        gp->state_ms = wall_ms();
        std::vector<std::pair<sync_callback, bytes>> answers;
        const auto answered_at = now();
        for (auto& [id, mem] : gp->members) {
            if (mem.awaiting_sync) {
                mem.last_heard = answered_at; // as for JoinGroup: a full session from the answer
                answers.emplace_back(std::move(mem.awaiting_sync), mem.assignment);
                mem.awaiting_sync = nullptr;
            }
        }
        for (auto& [cb, a] : answers) {
            cb(sync_result{ok, std::move(a)});
        }
    });
}

// ---- Heartbeat, LeaveGroup -----------------------------------------------------------------

int16_t group_manager::heartbeat(std::string_view group_id, int32_t generation, std::string_view member_id,
                                 const std::optional<std::string>& instance_id) {
    if (_shut_down) {
        return code(kafka_error::not_coordinator);
    }
    if (group_id.empty()) {
        return code(kafka_error::invalid_group_id);
    }
    group* g = find(group_id);
    if (g == nullptr) {
        return code(kafka_error::unknown_member_id);
    }
    if (g->state == group_state::dead) {
        return code(kafka_error::coordinator_not_available);
    }
    if (instance_id) {
        auto known = g->static_members.find(*instance_id);
        if (known == g->static_members.end()) {
            return code(kafka_error::unknown_member_id);
        }
        if (known->second != member_id) {
            return code(kafka_error::fenced_instance_id);
        }
    }
    if (g->state == group_state::empty) {
        return code(kafka_error::unknown_member_id);
    }
    auto it = g->members.find(member_id);
    if (it == g->members.end()) {
        return code(kafka_error::unknown_member_id);
    }
    if (generation != g->generation) {
        return code(kafka_error::illegal_generation);
    }
    it->second.last_heard = now();
    if (g->state == group_state::preparing_rebalance) {
        return code(kafka_error::rebalance_in_progress);
    }
    return ok;
}

leave_result group_manager::leave(std::string_view group_id, const std::vector<member_ref>& members) {
    leave_result out;
    group* g = _shut_down ? nullptr : find(group_id);
    if (_shut_down) {
        out.error = code(kafka_error::not_coordinator);
        out.member_errors.assign(members.size(), out.error);
        return out;
    }
    if (group_id.empty()) {
        out.error = code(kafka_error::invalid_group_id);
        out.member_errors.assign(members.size(), out.error);
        return out;
    }
    if (g == nullptr) {
        out.member_errors.assign(members.size(), code(kafka_error::unknown_member_id));
        return out;
    }
    if (g->state == group_state::dead) {
        out.error = code(kafka_error::coordinator_not_available);
        out.member_errors.assign(members.size(), out.error);
        return out;
    }
    for (const auto& ref : members) {
        std::string id = ref.member_id;
        if (ref.instance_id) {
            auto known = g->static_members.find(*ref.instance_id);
            if (known == g->static_members.end()) {
                out.member_errors.push_back(code(kafka_error::unknown_member_id));
                continue;
            }
            if (!ref.member_id.empty() && ref.member_id != known->second) {
                out.member_errors.push_back(code(kafka_error::fenced_instance_id));
                continue;
            }
            id = known->second;
        }
        if (g->pending.erase(id) > 0) {
            out.member_errors.push_back(ok);
            try_complete_join(*g);
            continue;
        }
        if (!g->members.contains(id)) {
            out.member_errors.push_back(code(kafka_error::unknown_member_id));
            continue;
        }
        remove_member(*g, id, code(kafka_error::unknown_member_id));
        out.member_errors.push_back(ok);
    }
    return out;
}

void group_manager::remove_member(group& g, const std::string& id, int16_t answer) {
    auto it = g.members.find(id);
    if (it == g.members.end()) {
        return;
    }
    member& m = it->second;
    if (m.awaiting_join) {
        auto cb = std::move(m.awaiting_join);
        m.awaiting_join = nullptr;
        join_result r;
        r.error = answer;
        r.member_id = id;
        cb(std::move(r));
    }
    if (m.awaiting_sync) {
        auto cb = std::move(m.awaiting_sync);
        m.awaiting_sync = nullptr;
        cb(sync_result{answer, {}});
    }
    if (m.instance_id) {
        g.static_members.erase(*m.instance_id);
    }
    g.members.erase(it);
    if (g.leader == id) {
        g.leader.reset();
        for (const auto& [other, om] : g.members) {
            if (om.awaiting_join) {
                g.leader = other;
                break;
            }
        }
        if (!g.leader && !g.members.empty()) {
            g.leader = g.members.begin()->first;
        }
    }
    switch (g.state) {
    case group_state::stable:
    case group_state::completing_rebalance: prepare_rebalance(g); break;
    case group_state::preparing_rebalance:
    case group_state::empty:
    case group_state::dead: break;
    }
    try_complete_join(g);
}

// ---- offsets -------------------------------------------------------------------------------

void group_manager::commit(commit_params p, std::function<void(std::vector<int16_t>)> done) {
    std::vector<int16_t> errors;
    errors.reserve(p.items.size());
    for (const auto& item : p.items) {
        errors.push_back(item.error);
    }
    auto fail_all = [&](int16_t e) {
        for (size_t i = 0; i < errors.size(); ++i) {
            if (errors[i] == ok) {
                errors[i] = e;
            }
        }
        done(std::move(errors));
    };
    if (_shut_down) {
        return fail_all(code(kafka_error::not_coordinator));
    }
    // An empty group id is valid here (Kafka keeps it for old clients that commit without a group).
    group* g = find(p.group_id);
    if (g == nullptr) {
        if (p.generation >= 0) {
            return fail_all(code(kafka_error::illegal_generation));
        }
        g = &create(p.group_id);
    }
    if (g->state == group_state::dead) {
        return fail_all(code(kafka_error::coordinator_not_available));
    }
    if (p.instance_id) {
        auto known = g->static_members.find(*p.instance_id);
        if (known != g->static_members.end() && known->second != p.member_id) {
            return fail_all(code(kafka_error::fenced_instance_id));
        }
    }
    if (!(p.generation < 0 && g->state == group_state::empty)) {
        // Commits of a group with members come from a member of the current generation.
        if (g->state == group_state::completing_rebalance) {
            return fail_all(code(kafka_error::rebalance_in_progress));
        }
        auto it = g->members.find(p.member_id);
        if (it == g->members.end()) {
            return fail_all(code(kafka_error::unknown_member_id));
        }
        if (p.generation != g->generation) {
            return fail_all(code(kafka_error::illegal_generation));
        }
        it->second.last_heard = now();
    }
    const int64_t t = wall_ms();
    std::vector<log_record> records;
    std::vector<std::pair<size_t, offset_value>> applied;
    for (size_t i = 0; i < p.items.size(); ++i) {
        auto& item = p.items[i];
        if (errors[i] != ok) {
            continue;
        }
        if (item.metadata &&
            item.metadata->size() > static_cast<size_t>(_settings.offset_metadata_max_bytes)) {
            errors[i] = code(kafka_error::offset_metadata_too_large);
            continue;
        }
        offset_value v;
        v.offset = item.offset;
        v.leader_epoch = item.leader_epoch;
        v.metadata = item.metadata.value_or("");
        v.commit_timestamp = t;
        v.expire_timestamp = p.retention_ms >= 0 ? t + p.retention_ms : -1;
        records.push_back(
          {encode_key(offset_key{g->id, item.topic, item.partition}), encode_offset_value(v)});
        applied.emplace_back(i, std::move(v));
    }
    if (records.empty()) {
        done(std::move(errors));
        return;
    }
    store(*g, std::move(records),
          [items = std::move(p.items), applied = std::move(applied), errors = std::move(errors),
           done = std::move(done)](group* gp, store_errc e) mutable {
              const int16_t error =
                gp == nullptr ? code(kafka_error::coordinator_not_available) : commit_store_error(e);
              for (auto& [i, v] : applied) {
                  if (error != ok) {
                      errors[i] = error;
                  } else {
                      gp->offsets[{items[i].topic, items[i].partition}] = std::move(v);
                  }
              }
              done(std::move(errors));
          });
}

std::vector<fetched_topic>
group_manager::fetch_offsets(std::string_view group_id,
                             const std::optional<std::vector<topic_partitions>>& topics) const {
    std::vector<fetched_topic> out;
    const group* g = find(group_id);
    if (!topics) {
        if (g == nullptr) {
            return out;
        }
        for (const auto& [tp, v] : g->offsets) {
            if (out.empty() || out.back().topic != tp.first) {
                out.push_back({tp.first, {}});
            }
            out.back().partitions.push_back({tp.second, v.offset, v.leader_epoch, v.metadata});
        }
        return out;
    }
    for (const auto& t : *topics) {
        fetched_topic ft{t.topic, {}};
        for (int32_t p : t.partitions) {
            fetched_offset f;
            f.partition = p;
            if (g != nullptr) {
                if (auto it = g->offsets.find({t.topic, p}); it != g->offsets.end()) {
                    f.offset = it->second.offset;
                    f.leader_epoch = it->second.leader_epoch;
                    f.metadata = it->second.metadata;
                }
            }
            ft.partitions.push_back(std::move(f));
        }
        out.push_back(std::move(ft));
    }
    return out;
}

std::set<std::string> group_manager::subscribed_topics(const group& g) const {
    std::set<std::string> topics;
    if (g.protocol_type != "consumer" || !g.protocol_name) {
        return topics;
    }
    for (const auto& [id, m] : g.members) {
        if (const bytes* meta = protocol_metadata(m, *g.protocol_name)) {
            for (auto& t : subscription_topics(*meta)) {
                topics.insert(std::move(t));
            }
        }
    }
    return topics;
}

void group_manager::delete_offsets(std::string_view group_id, std::vector<commit_item> items,
                                   std::function<void(offset_delete_result)> done) {
    offset_delete_result out;
    for (const auto& item : items) {
        out.item_errors.push_back(item.error);
    }
    group* g = _shut_down ? nullptr : find(group_id);
    if (_shut_down) {
        out.error = code(kafka_error::not_coordinator);
        done(std::move(out));
        return;
    }
    if (g == nullptr || g->state == group_state::dead) {
        out.error = code(kafka_error::group_id_not_found);
        done(std::move(out));
        return;
    }
    std::set<std::string> subscribed;
    if (g->state != group_state::empty) {
        if (g->protocol_type != "consumer") {
            out.error = code(kafka_error::non_empty_group);
            done(std::move(out));
            return;
        }
        subscribed = subscribed_topics(*g);
    }
    std::vector<log_record> records;
    std::vector<std::pair<std::string, int32_t>> removed;
    for (size_t i = 0; i < items.size(); ++i) {
        if (out.item_errors[i] != ok) {
            continue;
        }
        if (subscribed.contains(items[i].topic)) {
            out.item_errors[i] = code(kafka_error::group_subscribed_to_topic);
            continue;
        }
        if (g->offsets.contains({items[i].topic, items[i].partition})) {
            records.push_back(
              {encode_key(offset_key{g->id, items[i].topic, items[i].partition}), std::nullopt});
            removed.emplace_back(items[i].topic, items[i].partition);
        }
    }
    if (records.empty()) {
        done(std::move(out));
        return;
    }
    store(*g, std::move(records),
          [removed = std::move(removed), out = std::move(out), done = std::move(done)](group* gp,
                                                                                       store_errc e) mutable {
              if (gp == nullptr || e != store_errc::none) {
                  out.error =
                    gp == nullptr ? code(kafka_error::coordinator_not_available) : commit_store_error(e);
              } else {
                  for (const auto& tp : removed) {
                      gp->offsets.erase(tp);
                  }
              }
              done(std::move(out));
          });
}

// ---- listing and deletion ------------------------------------------------------------------

std::vector<listed_group> group_manager::list(const std::vector<group_state>& states) const {
    std::vector<listed_group> out;
    for (const auto& [id, g] : _groups) {
        if (g->state == group_state::dead) {
            continue;
        }
        if (!states.empty() && std::find(states.begin(), states.end(), g->state) == states.end()) {
            continue;
        }
        out.push_back({id, g->protocol_type, g->state});
    }
    return out;
}

group_description group_manager::describe(std::string_view group_id) const {
    group_description d;
    d.group_id = std::string(group_id);
    const group* g = find(group_id);
    if (g == nullptr) {
        return d; // Kafka describes an unknown group as Dead, without an error
    }
    d.state = g->state;
    d.protocol_type = g->protocol_type;
    const bool stable = g->state == group_state::stable && g->protocol_name;
    if (stable) {
        d.protocol_name = *g->protocol_name;
    }
    for (const auto& [id, m] : g->members) {
        described_member dm{id, m.instance_id, m.client_id, m.client_host, {}, {}};
        if (stable) {
            if (const bytes* meta = protocol_metadata(m, *g->protocol_name)) {
                dm.metadata = *meta;
            }
            dm.assignment = m.assignment;
        }
        d.members.push_back(std::move(dm));
    }
    return d;
}

void group_manager::delete_groups(std::vector<std::string> group_ids,
                                  std::function<void(std::vector<int16_t>)> done) {
    struct gathering {
        std::vector<int16_t> errors;
        size_t pending = 1; // released after the loop, so done runs once, after every group
        std::function<void(std::vector<int16_t>)> done;
        void release() {
            if (--pending == 0) {
                done(std::move(errors));
            }
        }
    };
    auto state = std::make_shared<gathering>();
    state->errors.assign(group_ids.size(), ok);
    state->done = std::move(done);
    for (size_t i = 0; i < group_ids.size(); ++i) {
        const std::string& id = group_ids[i];
        group* g = _shut_down ? nullptr : find(id);
        if (_shut_down) {
            state->errors[i] = code(kafka_error::not_coordinator);
            continue;
        }
        if (g == nullptr || g->state == group_state::dead) {
            state->errors[i] = code(kafka_error::group_id_not_found);
            continue;
        }
        if (g->state != group_state::empty || !g->members.empty()) {
            state->errors[i] = code(kafka_error::non_empty_group);
            continue;
        }
        // Dead while the tombstones are written: joins and commits meanwhile are refused.
        g->state = group_state::dead;
        std::vector<log_record> records;
        for (const auto& [tp, v] : g->offsets) {
            records.push_back({encode_key(offset_key{g->id, tp.first, tp.second}), std::nullopt});
        }
        records.push_back({encode_key(group_key{g->id}), std::nullopt});
        ++state->pending;
        store(*g, std::move(records), [this, state, i, id](group* gp, store_errc e) {
            if (gp != nullptr) {
                if (e == store_errc::none) {
                    _groups.erase(id);
                } else {
                    gp->state = group_state::empty;
                    state->errors[i] = group_store_error(e);
                }
            } else {
                state->errors[i] = code(kafka_error::coordinator_not_available);
            }
            state->release();
        });
    }
    state->release();
}

// ---- time ----------------------------------------------------------------------------------

tick_report group_manager::tick() {
    tick_report report;
    if (_shut_down) {
        return report;
    }
    const auto t = now();
    for (auto& [id, gp] : _groups) {
        group& g = *gp;
        bool pending_expired = false;
        for (auto it = g.pending.begin(); it != g.pending.end();) {
            if (it->second <= t) {
                it = g.pending.erase(it);
                pending_expired = true;
            } else {
                ++it;
            }
        }
        if (g.state == group_state::preparing_rebalance) {
            if (g.initial_until && t >= *g.initial_until) {
                if (g.joined_during_delay && t < g.deadline) {
                    g.joined_during_delay = false;
                    g.initial_until = std::min(
                      g.deadline, t + std::chrono::milliseconds(_settings.initial_rebalance_delay_ms));
                } else {
                    g.initial_until.reset();
                    try_complete_join(g);
                }
            } else if (!g.initial_until && t >= g.deadline) {
                complete_join(g);
            } else if (pending_expired) {
                try_complete_join(g);
            }
        } else if (g.state == group_state::completing_rebalance && t >= g.deadline) {
            // KIP-?? style sync timeout: members that never sent SyncGroup are dropped, so one
            // stuck member cannot hold the group in CompletingRebalance forever.
            std::vector<std::string> unsynced;
            for (const auto& [mid, m] : g.members) {
                if (!m.synced) {
                    unsynced.push_back(mid);
                }
            }
            for (const auto& mid : unsynced) {
                remove_member(g, mid, code(kafka_error::unknown_member_id));
                ++report.members_expired;
            }
        }
        expire_members(g, t, report);
    }
    if (wall_ms() >= _next_retention_check_ms) {
        _next_retention_check_ms = wall_ms() + _settings.offsets_retention_check_interval_ms;
        expire_offsets(report);
    }
    return report;
}

void group_manager::expire_members(group& g, clock::time_point t, tick_report& report) {
    std::vector<std::string> expired;
    for (const auto& [mid, m] : g.members) {
        if (m.awaiting_join || m.awaiting_sync) {
            continue; // a member waiting for an answer cannot heartbeat
        }
        if (m.last_heard + std::chrono::milliseconds(m.session_timeout_ms) <= t) {
            expired.push_back(mid);
        }
    }
    for (const auto& mid : expired) {
        logger()->info("group {}: member {} sent no heartbeat within its session timeout; removing it", g.id,
                       mid);
        remove_member(g, mid, code(kafka_error::unknown_member_id));
        ++report.members_expired;
    }
}

void group_manager::expire_offsets(tick_report& report) {
    const int64_t t = wall_ms();
    std::vector<std::string> unused;
    for (auto& [id, owned] : _groups) {
        group& g = *owned;
        if (g.state != group_state::empty || !g.members.empty()) {
            continue; // offsets of active groups stay
        }
        std::vector<std::pair<std::pair<std::string, int32_t>, int64_t>> expired;
        for (const auto& [tp, v] : g.offsets) {
            int64_t expires = 0;
            if (v.expire_timestamp >= 0) {
                expires = v.expire_timestamp;
            } else if (!g.protocol_type.empty()) {
                expires = g.state_ms + _settings.offsets_retention_ms; // from when the group became empty
            } else {
                expires = v.commit_timestamp + _settings.offsets_retention_ms;
            }
            if (expires <= t) {
                expired.emplace_back(tp, v.commit_timestamp);
            }
        }
        if (expired.empty()) {
            if (g.offsets.empty()) {
                unused.push_back(id);
            }
            continue;
        }
        std::vector<log_record> records;
        records.reserve(expired.size());
        for (const auto& [tp, ts] : expired) {
            records.push_back({encode_key(offset_key{g.id, tp.first, tp.second}), std::nullopt});
        }
        report.offsets_expired += expired.size();
        store(g, std::move(records), [expired = std::move(expired)](group* gp, store_errc e) {
            if (gp == nullptr || e != store_errc::none) {
                return; // tried again at the next check
            }
            for (const auto& [tp, ts] : expired) {
                auto it = gp->offsets.find(tp);
                if (it != gp->offsets.end() && it->second.commit_timestamp == ts) {
                    gp->offsets.erase(it); // unless committed again meanwhile
                }
            }
        });
    }
    for (const auto& id : unused) {
        if (group* g = find(id)) {
            remove_group_if_unused(*g, report);
        }
    }
}

void group_manager::remove_group_if_unused(group& g, tick_report& report) {
    if (g.state != group_state::empty || !g.members.empty() || !g.offsets.empty() || !g.pending.empty()) {
        return;
    }
    ++report.groups_removed;
    if (!g.metadata_stored) {
        _groups.erase(g.id);
        return;
    }
    g.state = group_state::dead;
    const std::string id = g.id;
    store(g, {{encode_key(group_key{id}), std::nullopt}}, [this, id](group* gp, store_errc e) {
        if (gp == nullptr) {
            return;
        }
        if (e == store_errc::none) {
            _groups.erase(id);
        } else {
            gp->state = group_state::empty;
        }
    });
}

void group_manager::shutdown() {
    _shut_down = true;
    for (auto& [id, gp] : _groups) {
        for (auto& [mid, m] : gp->members) {
            if (m.awaiting_join) {
                auto cb = std::move(m.awaiting_join);
                m.awaiting_join = nullptr;
                join_result r;
                r.error = code(kafka_error::not_coordinator);
                r.member_id = mid;
                cb(std::move(r));
            }
            if (m.awaiting_sync) {
                auto cb = std::move(m.awaiting_sync);
                m.awaiting_sync = nullptr;
                cb(sync_result{code(kafka_error::not_coordinator), {}});
            }
        }
    }
}

// ---- persistence ---------------------------------------------------------------------------

log_record group_manager::group_record(const group& g) const {
    group_value v;
    v.protocol_type = g.protocol_type;
    v.generation = g.generation;
    v.protocol = g.protocol_name;
    v.leader = g.leader;
    v.state_timestamp = g.state_ms;
    for (const auto& [id, m] : g.members) {
        stored_member sm;
        sm.member_id = id;
        sm.instance_id = m.instance_id;
        sm.client_id = m.client_id;
        sm.client_host = m.client_host;
        sm.rebalance_timeout_ms = m.rebalance_timeout_ms;
        sm.session_timeout_ms = m.session_timeout_ms;
        if (g.protocol_name) {
            if (const bytes* meta = protocol_metadata(m, *g.protocol_name)) {
                sm.subscription = *meta;
            }
        }
        sm.assignment = m.assignment;
        v.members.push_back(std::move(sm));
    }
    return {encode_key(group_key{g.id}), encode_group_value(v)};
}

void group_manager::store(const group& g, std::vector<log_record> records,
                          std::function<void(group*, store_errc)> then) {
    std::weak_ptr<group_manager*> alive = _alive;
    _log.append(g.partition, std::move(records), [alive, id = g.id, then = std::move(then)](store_errc e) {
        auto self = alive.lock();
        if (!self || *self == nullptr) {
            return;
        }
        then((*self)->find(id), e);
    });
}

} // namespace ms::broker::groups
