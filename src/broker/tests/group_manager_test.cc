// The group coordinator's state machine, driven directly with injected clocks and an in-memory
// offsets log: joins, rebalances, syncs, heartbeats, leaves, static membership, commits, deletion,
// retention, and restoring everything from the stored records.
#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "broker/groups/group_manager.h"
#include "protocol/kafka_error.h"

namespace ms::broker::groups {
namespace {

using namespace std::chrono_literals;
using protocol::kafka_error;

int16_t err(kafka_error e) {
    return static_cast<int16_t>(e);
}

// Records every append; completes it at once, or later when `manual` is set.
class fake_log final : public offsets_log {
public:
    void append(int32_t partition, std::vector<log_record> records,
                std::function<void(store_errc)> done) override {
        for (auto& r : records) {
            stored.emplace_back(partition, std::move(r));
        }
        if (manual) {
            waiting.push_back(std::move(done));
        } else {
            done(outcome);
        }
    }
    void complete_all() {
        auto pending = std::move(waiting);
        waiting.clear();
        for (auto& done : pending) {
            done(outcome);
        }
    }

    std::vector<std::pair<int32_t, log_record>> stored;
    std::vector<std::function<void(store_errc)>> waiting;
    bool manual = false;
    store_errc outcome = store_errc::none;
};

bytes subscription(std::initializer_list<std::string_view> topics) {
    // ConsumerProtocolSubscription v0: version | topics | user data (null)
    bytes out{std::byte{0}, std::byte{0}, std::byte{0},
              std::byte{0}, std::byte{0}, static_cast<std::byte>(topics.size())};
    for (auto t : topics) {
        out.push_back(std::byte{0});
        out.push_back(static_cast<std::byte>(t.size()));
        for (char c : t) {
            out.push_back(static_cast<std::byte>(c));
        }
    }
    for (int i = 0; i < 4; ++i) {
        out.push_back(std::byte{0xff});
    }
    return out;
}

bytes text(std::string_view s) {
    bytes out;
    for (char c : s) {
        out.push_back(static_cast<std::byte>(c));
    }
    return out;
}

struct harness {
    explicit harness(group_settings s = defaults()) : settings(s) { reopen(); }

    static group_settings defaults() {
        group_settings s;
        s.initial_rebalance_delay_ms = 0;
        s.min_session_timeout_ms = 1000;
        s.offsets_partitions = 4;
        return s;
    }

    // A new manager over what the log holds, as after a restart.
    void reopen() {
        manager = std::make_unique<group_manager>(
          settings, log, [this] { return now; }, [this] { return wall; });
        for (const auto& [partition, r] : log.stored) {
            std::optional<std::span<const std::byte>> value;
            if (r.value) {
                value = std::span<const std::byte>(*r.value);
            }
            auto replayed = manager->replay(partition, r.key, value);
            EXPECT_TRUE(replayed) << replayed.error();
        }
        manager->loaded();
    }

    void advance(std::chrono::milliseconds d) {
        now += d;
        wall += d.count();
        manager->tick();
    }

    using pending_join = std::shared_ptr<std::optional<join_result>>;
    using pending_sync = std::shared_ptr<std::optional<sync_result>>;

    pending_join join(std::string_view group, std::string_view member,
                      std::vector<member_protocol> protocols = {},
                      std::optional<std::string> instance = std::nullopt, bool v4 = true,
                      int32_t session_ms = 10'000, std::string protocol_type = "consumer") {
        if (protocols.empty()) {
            protocols.push_back({"range", subscription({"orders"})});
        }
        join_params p;
        p.group_id = std::string(group);
        p.member_id = std::string(member);
        p.instance_id = std::move(instance);
        p.client_id = "client";
        p.client_host = "/127.0.0.1";
        p.protocol_type = std::move(protocol_type);
        p.session_timeout_ms = session_ms;
        p.rebalance_timeout_ms = 20'000;
        p.protocols = std::move(protocols);
        p.member_id_required = v4;
        auto out = std::make_shared<std::optional<join_result>>();
        manager->join(std::move(p), [out](join_result r) { *out = std::move(r); });
        return out;
    }

    // JoinGroup v4+ the way clients do it: a first join for the member id, then the real join.
    pending_join join_new(std::string_view group, std::vector<member_protocol> protocols = {}) {
        auto first = join(group, "", protocols);
        EXPECT_TRUE(first->has_value());
        EXPECT_EQ((*first)->error, err(kafka_error::member_id_required));
        return join(group, (*first)->member_id, std::move(protocols));
    }

    pending_sync sync(std::string_view group, int32_t generation, std::string_view member,
                      std::vector<std::pair<std::string, bytes>> assignments = {},
                      std::optional<std::string> instance = std::nullopt) {
        auto out = std::make_shared<std::optional<sync_result>>();
        manager->sync(
          {std::string(group), generation, std::string(member), std::move(instance), std::move(assignments)},
          [out](sync_result r) { *out = std::move(r); });
        return out;
    }

    std::vector<int16_t> commit(std::string_view group, int32_t generation, std::string_view member,
                                int64_t offset, std::string metadata = "") {
        commit_params p;
        p.group_id = std::string(group);
        p.generation = generation;
        p.member_id = std::string(member);
        commit_item item;
        item.topic = "orders";
        item.partition = 0;
        item.offset = offset;
        item.metadata = std::move(metadata);
        p.items.push_back(std::move(item));
        std::vector<int16_t> out{-99};
        manager->commit(std::move(p), [&out](std::vector<int16_t> e) { out = std::move(e); });
        return out;
    }

    int64_t committed(std::string_view group) {
        auto found = manager->fetch_offsets(group, std::vector<topic_partitions>{{"orders", {0}}});
        return found.at(0).partitions.at(0).offset;
    }

    group_settings settings;
    fake_log log;
    group_manager::clock::time_point now = group_manager::clock::time_point{} + 1h;
    int64_t wall = 1'800'000'000'000;
    std::unique_ptr<group_manager> manager;
};

// Two members through a whole rebalance; returns their ids (leader first) at generation 2.
std::pair<std::string, std::string> two_member_group(harness& h, std::string_view group) {
    auto a = h.join_new(group);
    EXPECT_TRUE(a->has_value());
    const std::string a_id = (*a)->member_id;
    EXPECT_EQ((*a)->generation, 1);
    auto sa = h.sync(group, 1, a_id, {{a_id, text("all")}});
    EXPECT_TRUE(sa->has_value());

    auto b = h.join_new(group);
    EXPECT_FALSE(b->has_value()); // waits for the current member to rejoin
    EXPECT_EQ(h.manager->heartbeat(group, 1, a_id, std::nullopt), err(kafka_error::rebalance_in_progress));
    auto a2 = h.join(group, a_id);
    EXPECT_TRUE(a2->has_value() && b->has_value());
    const std::string b_id = (*b)->member_id;
    EXPECT_EQ((*a2)->generation, 2);
    EXPECT_EQ((*b)->generation, 2);
    EXPECT_EQ((*a2)->leader, a_id);
    EXPECT_EQ((*a2)->members.size(), 2U); // the leader learns every member's metadata
    EXPECT_TRUE((*b)->members.empty());
    auto sb = h.sync(group, 2, b_id);
    EXPECT_FALSE(sb->has_value()); // a follower waits for the leader's assignment
    auto sa2 = h.sync(group, 2, a_id, {{a_id, text("p0")}, {b_id, text("p1")}});
    EXPECT_TRUE(sa2->has_value() && sb->has_value());
    EXPECT_EQ((*sa2)->assignment, text("p0"));
    EXPECT_EQ((*sb)->assignment, text("p1"));
    return {a_id, b_id};
}

TEST(group_manager, first_join_needs_a_member_id_then_completes) {
    harness h;
    auto first = h.join("g", "");
    ASSERT_TRUE(first->has_value());
    EXPECT_EQ((*first)->error, err(kafka_error::member_id_required));
    EXPECT_TRUE((*first)->member_id.starts_with("client-"));
    auto second = h.join("g", (*first)->member_id);
    ASSERT_TRUE(second->has_value());
    EXPECT_EQ((*second)->error, 0);
    EXPECT_EQ((*second)->generation, 1);
    EXPECT_EQ((*second)->protocol_name, "range");
    EXPECT_EQ((*second)->leader, (*first)->member_id);
    EXPECT_EQ(h.manager->describe("g").state, group_state::completing_rebalance);
}

TEST(group_manager, old_clients_join_without_member_id_round_trip) {
    harness h;
    auto r = h.join("g", "", {}, std::nullopt, /*v4=*/false);
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->error, 0);
    EXPECT_EQ((*r)->generation, 1);
}

TEST(group_manager, rebalance_hands_out_assignments_and_becomes_stable) {
    harness h;
    auto [a, b] = two_member_group(h, "g");
    const auto d = h.manager->describe("g");
    EXPECT_EQ(d.state, group_state::stable);
    EXPECT_EQ(d.protocol_name, "range");
    ASSERT_EQ(d.members.size(), 2U);
    EXPECT_EQ(h.manager->heartbeat("g", 2, a, std::nullopt), 0);
    EXPECT_EQ(h.manager->heartbeat("g", 2, b, std::nullopt), 0);
    // A follower's rejoin with unchanged metadata in Stable gets the current generation back.
    auto again = h.join("g", b);
    ASSERT_TRUE(again->has_value());
    EXPECT_EQ((*again)->generation, 2);
    EXPECT_EQ(h.manager->describe("g").state, group_state::stable);
}

TEST(group_manager, silent_member_is_removed_after_its_session_timeout) {
    harness h;
    auto [a, b] = two_member_group(h, "g");
    for (int i = 0; i < 12; ++i) {
        h.advance(1s);
        EXPECT_NE(h.manager->heartbeat("g", 2, a, std::nullopt), err(kafka_error::unknown_member_id));
    }
    // b said nothing for 12 s (session 10 s): gone, and a is told to rejoin.
    EXPECT_EQ(h.manager->heartbeat("g", 2, b, std::nullopt), err(kafka_error::unknown_member_id));
    EXPECT_EQ(h.manager->heartbeat("g", 2, a, std::nullopt), err(kafka_error::rebalance_in_progress));
    auto a3 = h.join("g", a);
    ASSERT_TRUE(a3->has_value());
    EXPECT_EQ((*a3)->generation, 3);
    EXPECT_EQ((*a3)->members.size(), 1U);
}

TEST(group_manager, member_that_does_not_rejoin_is_dropped_at_the_rebalance_timeout) {
    harness h;
    auto [a, b] = two_member_group(h, "g");
    auto c = h.join_new("g"); // triggers a rebalance; b never rejoins but keeps heartbeating
    EXPECT_FALSE(c->has_value());
    auto a3 = h.join("g", a);
    EXPECT_FALSE(a3->has_value());
    for (int i = 0; i < 21; ++i) {
        h.advance(1s);
        (void)h.manager->heartbeat("g", 2, b, std::nullopt);
    }
    ASSERT_TRUE(a3->has_value() && c->has_value());
    EXPECT_EQ((*a3)->generation, 3);
    EXPECT_EQ((*a3)->members.size(), 2U);
    EXPECT_EQ(h.manager->heartbeat("g", 3, b, std::nullopt), err(kafka_error::unknown_member_id));
}

TEST(group_manager, a_join_that_waited_past_the_session_timeout_starts_a_fresh_session) {
    harness h;
    auto [a, b] = two_member_group(h, "g");
    auto c = h.join_new("g"); // a rebalance; b never rejoins, so it waits for the rebalance timeout
    auto a3 = h.join("g", a);
    for (int i = 0; i < 21 && !a3->has_value(); ++i) {
        h.advance(1s);
    }
    ASSERT_TRUE(a3->has_value() && c->has_value());
    // a's last heartbeat was before its JoinGroup, over 10 s (its session) ago: the answer itself
    // restarts the session, so a and c are still members a moment later and can sync.
    h.advance(1s);
    EXPECT_EQ(h.manager->heartbeat("g", 3, a, std::nullopt), err(kafka_error::none));
    EXPECT_EQ(h.manager->heartbeat("g", 3, (*c)->member_id, std::nullopt), err(kafka_error::none));
}

TEST(group_manager, selects_the_protocol_every_member_supports) {
    harness h;
    auto a = h.join_new("g", {{"range", subscription({"t"})}, {"roundrobin", subscription({"t"})}});
    ASSERT_TRUE(a->has_value());
    auto sa = h.sync("g", 1, (*a)->member_id);
    auto b = h.join_new("g", {{"roundrobin", subscription({"t"})}});
    auto a2 =
      h.join("g", (*a)->member_id, {{"range", subscription({"t"})}, {"roundrobin", subscription({"t"})}});
    ASSERT_TRUE(b->has_value() && a2->has_value());
    EXPECT_EQ((*b)->protocol_name, "roundrobin");
    auto c = h.join("g", "", {{"sticky", subscription({"t"})}});
    ASSERT_TRUE(c->has_value());
    EXPECT_EQ((*c)->error, err(kafka_error::inconsistent_group_protocol));
    auto d = h.join("g", "", {{"roundrobin", {}}}, std::nullopt, true, 10'000, "connect");
    ASSERT_TRUE(d->has_value());
    EXPECT_EQ((*d)->error, err(kafka_error::inconsistent_group_protocol));
}

TEST(group_manager, refuses_bad_joins_with_kafka_errors) {
    harness h;
    auto empty_id = h.join("", "");
    EXPECT_EQ((*empty_id)->error, err(kafka_error::invalid_group_id));
    auto short_session = h.join("g", "", {}, std::nullopt, true, 10);
    EXPECT_EQ((*short_session)->error, err(kafka_error::invalid_session_timeout));
    auto long_session = h.join("g", "", {}, std::nullopt, true, 1'800'001);
    EXPECT_EQ((*long_session)->error, err(kafka_error::invalid_session_timeout));
    auto no_protocols = h.join("g", "", {{"", {}}}, std::nullopt, true, 10'000, "");
    EXPECT_EQ((*no_protocols)->error, err(kafka_error::inconsistent_group_protocol));
    auto unknown = h.join("g", "nobody");
    EXPECT_EQ((*unknown)->error, err(kafka_error::unknown_member_id));
}

TEST(group_manager, stale_and_unknown_members_get_precise_errors) {
    harness h;
    EXPECT_EQ(h.manager->heartbeat("nothing", 1, "m", std::nullopt), err(kafka_error::unknown_member_id));
    EXPECT_EQ(h.manager->heartbeat("", 1, "m", std::nullopt), err(kafka_error::invalid_group_id));
    EXPECT_EQ((*h.sync("", 1, "m"))->error, err(kafka_error::invalid_group_id));
    EXPECT_EQ(h.manager->leave("", {{"m", std::nullopt}}).error, err(kafka_error::invalid_group_id));
    EXPECT_EQ(h.commit("", -1, "", 5)[0], 0); // Kafka keeps commits without a group id working
    auto [a, b] = two_member_group(h, "g");
    EXPECT_EQ(h.manager->heartbeat("g", 1, a, std::nullopt), err(kafka_error::illegal_generation));
    EXPECT_EQ(h.manager->heartbeat("g", 2, "stranger", std::nullopt), err(kafka_error::unknown_member_id));
    auto stale_sync = h.sync("g", 1, a);
    EXPECT_EQ((*stale_sync)->error, err(kafka_error::illegal_generation));
    auto unknown_sync = h.sync("nothing", 1, a);
    EXPECT_EQ((*unknown_sync)->error, err(kafka_error::unknown_member_id));
    auto c = h.join_new("g");
    auto during = h.sync("g", 2, b);
    EXPECT_EQ((*during)->error, err(kafka_error::rebalance_in_progress));
    EXPECT_EQ(h.commit("g", 1, a, 5)[0], err(kafka_error::illegal_generation));
    EXPECT_EQ(h.commit("g", 2, "stranger", 5)[0], err(kafka_error::unknown_member_id));
    EXPECT_EQ(h.commit("g", -1, "", 5)[0], err(kafka_error::unknown_member_id));
}

TEST(group_manager, leave_with_several_members_empties_the_group) {
    harness h;
    auto [a, b] = two_member_group(h, "g");
    auto r = h.manager->leave("g", {{a, std::nullopt}, {b, std::nullopt}, {"stranger", std::nullopt}});
    EXPECT_EQ(r.error, 0);
    EXPECT_EQ(r.member_errors, (std::vector<int16_t>{0, 0, err(kafka_error::unknown_member_id)}));
    const auto d = h.manager->describe("g");
    EXPECT_EQ(d.state, group_state::empty);
    EXPECT_TRUE(d.members.empty());
    auto unknown = h.manager->leave("nothing", {{a, std::nullopt}});
    EXPECT_EQ(unknown.member_errors, std::vector<int16_t>{err(kafka_error::unknown_member_id)});
}

TEST(group_manager, leaving_member_lets_the_rebalance_finish_without_it) {
    harness h;
    auto [a, b] = two_member_group(h, "g");
    auto a3 = h.join("g", a, {{"range", subscription({"orders", "new"})}}); // leader rejoin: rebalance
    EXPECT_FALSE(a3->has_value());
    (void)h.manager->leave("g", {{b, std::nullopt}});
    ASSERT_TRUE(a3->has_value());
    EXPECT_EQ((*a3)->generation, 3);
    EXPECT_EQ((*a3)->members.size(), 1U);
}

TEST(group_manager, static_member_restart_keeps_assignment_without_rebalance) {
    harness h;
    auto a = h.join("g", "", {}, std::string("host-a"));
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->error, 0); // static members skip MEMBER_ID_REQUIRED
    const std::string a_id = (*a)->member_id;
    EXPECT_TRUE(a_id.starts_with("host-a-"));
    auto sa = h.sync("g", 1, a_id, {{a_id, text("p0")}}, std::string("host-a"));
    ASSERT_TRUE(sa->has_value());
    EXPECT_EQ(h.manager->describe("g").state, group_state::stable);

    // Restarted: joins again with no member id, same instance id.
    auto again = h.join("g", "", {}, std::string("host-a"));
    ASSERT_TRUE(again->has_value());
    EXPECT_EQ((*again)->error, 0);
    EXPECT_EQ((*again)->generation, 1); // no new generation
    const std::string new_id = (*again)->member_id;
    EXPECT_NE(new_id, a_id);
    auto s2 = h.sync("g", 1, new_id, {}, std::string("host-a"));
    ASSERT_TRUE(s2->has_value());
    EXPECT_EQ((*s2)->assignment, text("p0"));
    EXPECT_EQ(h.manager->describe("g").state, group_state::stable);
    // The old incarnation is fenced.
    EXPECT_EQ(h.manager->heartbeat("g", 1, a_id, std::string("host-a")),
              err(kafka_error::fenced_instance_id));
    // And after a coordinator restart the new id is the one that counts.
    h.reopen();
    EXPECT_EQ(h.manager->heartbeat("g", 1, new_id, std::string("host-a")), 0);
}

TEST(group_manager, static_member_that_stays_away_is_removed_after_its_session) {
    harness h;
    auto a = h.join("g", "", {}, std::string("host-a"));
    auto sa = h.sync("g", 1, (*a)->member_id, {}, std::string("host-a"));
    h.advance(11s);
    EXPECT_EQ(h.manager->describe("g").state, group_state::empty);
    auto r = h.manager->leave("g", {{"", std::string("host-a")}});
    EXPECT_EQ(r.member_errors, std::vector<int16_t>{err(kafka_error::unknown_member_id)});
}

TEST(group_manager, initial_rebalance_delay_gathers_members) {
    group_settings s = harness::defaults();
    s.initial_rebalance_delay_ms = 3000;
    harness h(s);
    auto a = h.join_new("g");
    EXPECT_FALSE(a->has_value());
    h.advance(2s);
    auto b = h.join_new("g");
    EXPECT_FALSE(b->has_value());
    h.advance(1100ms); // the first delay has passed, but b arrived within it: extended
    EXPECT_FALSE(a->has_value());
    h.advance(3s);
    ASSERT_TRUE(a->has_value() && b->has_value());
    EXPECT_EQ((*a)->generation, 1);
    EXPECT_EQ((*b)->generation, 1);
}

TEST(group_manager, commits_wait_for_the_log_and_survive_a_restart) {
    harness h;
    h.log.manual = true;
    commit_params p;
    p.group_id = "simple";
    p.items.push_back({"orders", 0, 42, 3, std::string("meta ✓"), 0});
    p.items.push_back({"gone", 0, 1, -1, std::nullopt, err(kafka_error::unknown_topic_or_partition)});
    p.items.push_back({"orders", 1, 7, -1, std::string(5000, 'x'), 0});
    std::optional<std::vector<int16_t>> result;
    h.manager->commit(std::move(p), [&](std::vector<int16_t> e) { result = std::move(e); });
    EXPECT_FALSE(result.has_value()); // not durable yet
    EXPECT_EQ(h.committed("simple"), -1);
    h.log.complete_all();
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, (std::vector<int16_t>{0, err(kafka_error::unknown_topic_or_partition),
                                             err(kafka_error::offset_metadata_too_large)}));
    h.log.manual = false;
    auto all = h.manager->fetch_offsets("simple", std::nullopt);
    ASSERT_EQ(all.size(), 1U);
    EXPECT_EQ(all[0].partitions.at(0).metadata, "meta ✓");
    EXPECT_EQ(all[0].partitions.at(0).leader_epoch, 3);

    auto [a, b] = two_member_group(h, "g");
    EXPECT_EQ(h.commit("g", 2, a, 100, "by a")[0], 0);
    h.reopen();
    EXPECT_EQ(h.committed("simple"), 42);
    EXPECT_EQ(h.committed("g"), 100);
    EXPECT_EQ(h.manager->describe("g").state, group_state::stable);
    EXPECT_EQ(h.manager->heartbeat("g", 2, b, std::nullopt), 0);
    auto sb = h.sync("g", 2, b);
    EXPECT_EQ((*sb)->assignment, text("p1"));
}

TEST(group_manager, failed_store_is_reported_and_not_applied) {
    harness h;
    h.log.outcome = store_errc::unavailable;
    EXPECT_EQ(h.commit("simple", -1, "", 5)[0], err(kafka_error::coordinator_not_available));
    EXPECT_EQ(h.committed("simple"), -1);
    h.log.outcome = store_errc::too_large;
    EXPECT_EQ(h.commit("simple", -1, "", 5)[0], err(kafka_error::invalid_commit_offset_size));
}

TEST(group_manager, delete_groups_only_when_empty) {
    harness h;
    EXPECT_EQ(h.commit("simple", -1, "", 5)[0], 0);
    auto [a, b] = two_member_group(h, "busy");
    std::vector<int16_t> result;
    h.manager->delete_groups({"simple", "busy", "nothing", ""},
                             [&](std::vector<int16_t> e) { result = std::move(e); });
    EXPECT_EQ(result, (std::vector<int16_t>{
                        0, err(kafka_error::non_empty_group), err(kafka_error::group_id_not_found),
                        err(kafka_error::group_id_not_found)})); // "" is valid here, as in Kafka
    EXPECT_EQ(h.committed("simple"), -1);
    EXPECT_EQ(h.manager->describe("simple").state, group_state::dead);
    h.reopen();
    EXPECT_EQ(h.committed("simple"), -1); // tombstones replayed
    EXPECT_EQ(h.manager->list({}).size(), 1U);
}

TEST(group_manager, offset_delete_refuses_subscribed_topics) {
    harness h;
    auto [a, b] = two_member_group(h, "g");
    EXPECT_EQ(h.commit("g", 2, a, 5)[0], 0);
    std::optional<offset_delete_result> result;
    h.manager->delete_offsets("g",
                              {{"orders", 0, 0, -1, std::nullopt, 0}, {"other", 0, 0, -1, std::nullopt, 0}},
                              [&](offset_delete_result r) { result = std::move(r); });
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->item_errors, (std::vector<int16_t>{err(kafka_error::group_subscribed_to_topic), 0}));
    (void)h.manager->leave("g", {{a, std::nullopt}, {b, std::nullopt}});
    h.manager->delete_offsets("g", {{"orders", 0, 0, -1, std::nullopt, 0}},
                              [&](offset_delete_result r) { result = std::move(r); });
    EXPECT_EQ(result->item_errors, std::vector<int16_t>{0});
    EXPECT_EQ(h.committed("g"), -1);
}

TEST(group_manager, offsets_of_empty_groups_expire_after_retention) {
    group_settings s = harness::defaults();
    s.offsets_retention_ms = 60'000;
    s.offsets_retention_check_interval_ms = 1000;
    harness h(s);
    EXPECT_EQ(h.commit("simple", -1, "", 5)[0], 0);
    auto [a, b] = two_member_group(h, "active");
    EXPECT_EQ(h.commit("active", 2, a, 9)[0], 0);
    for (int i = 0; i < 70; ++i) {
        h.advance(1s);
        (void)h.manager->heartbeat("active", 2, a, std::nullopt);
        (void)h.manager->heartbeat("active", 2, b, std::nullopt);
    }
    EXPECT_EQ(h.committed("simple"), -1);
    EXPECT_EQ(h.committed("active"), 9); // a group with members keeps its offsets
    h.advance(2s);
    EXPECT_EQ(h.manager->describe("simple").state, group_state::dead); // removed once it had nothing left
    h.reopen();
    EXPECT_EQ(h.committed("simple"), -1);
}

TEST(group_manager, lists_groups_by_state) {
    harness h;
    EXPECT_EQ(h.commit("simple", -1, "", 5)[0], 0);
    auto [a, b] = two_member_group(h, "g");
    EXPECT_EQ(h.manager->list({}).size(), 2U);
    auto stable = h.manager->list({group_state::stable});
    ASSERT_EQ(stable.size(), 1U);
    EXPECT_EQ(stable[0].group_id, "g");
    EXPECT_EQ(stable[0].protocol_type, "consumer");
}

TEST(group_manager, shutdown_answers_waiting_members) {
    harness h;
    auto [a, b] = two_member_group(h, "g");
    auto c = h.join_new("g");
    EXPECT_FALSE(c->has_value());
    h.manager->shutdown();
    ASSERT_TRUE(c->has_value());
    EXPECT_EQ((*c)->error, err(kafka_error::not_coordinator));
}

TEST(group_manager, partition_for_is_javas_string_hash) {
    // "abc".hashCode() == 96354; Utils.abs(h) % 50 == 4
    EXPECT_EQ(partition_for("abc", 50), 96354 % 50);
    for (int i = 0; i < 100; ++i) {
        const auto p = partition_for("group-" + std::to_string(i), 16);
        EXPECT_GE(p, 0);
        EXPECT_LT(p, 16);
    }
}

} // namespace
} // namespace ms::broker::groups
