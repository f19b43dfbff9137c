// The cache of other shards' published partition offsets (fetch handlers' hints).
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "broker/published_offsets.h"

namespace ms::broker {
namespace {

std::shared_ptr<published_offsets> offsets(int64_t start, int64_t end) {
    auto o = std::make_shared<published_offsets>();
    o->log_start = start;
    o->log_end = end;
    return o;
}

TEST(remote_offsets, finds_what_was_remembered_and_nothing_else) {
    remote_offsets cache;
    const auto orders3 = offsets(0, 42);
    cache.remember("orders", 3, orders3);
    ASSERT_NE(cache.find("orders", 3), nullptr);
    EXPECT_EQ(cache.find("orders", 3)->log_end.load(), 42);
    EXPECT_EQ(cache.find("orders", 2), nullptr); // a slot below, never remembered
    EXPECT_EQ(cache.find("orders", 4), nullptr); // past the end
    EXPECT_EQ(cache.find("orders", -1), nullptr);
    EXPECT_EQ(cache.find("order", 3), nullptr);
    EXPECT_EQ(cache.size(), 1U);
    // The owner publishes later values into the same object; the cache sees them.
    orders3->log_end = 43;
    EXPECT_EQ(cache.find("orders", 3)->log_end.load(), 43);
}

TEST(remote_offsets, replaces_an_entry_and_ignores_nothing_to_remember) {
    remote_offsets cache;
    const auto first = offsets(0, 1);
    cache.remember("t", 0, first);
    cache.remember("t", 0, first); // the same object again: nothing changes
    EXPECT_EQ(cache.size(), 1U);
    cache.remember("t", 0, offsets(5, 9)); // the partition was recreated on its owner
    EXPECT_EQ(cache.find("t", 0)->log_start.load(), 5);
    EXPECT_EQ(cache.size(), 1U);
    cache.remember("t", 1, nullptr);
    cache.remember("t", -2, offsets(0, 0));
    EXPECT_EQ(cache.find("t", 1), nullptr);
    EXPECT_EQ(cache.size(), 1U);
}

TEST(remote_offsets, forgets_partitions_gone_on_their_owner) {
    remote_offsets cache;
    const auto gone = offsets(0, 7);
    cache.remember("t", 0, gone);
    gone->gone = true;
    EXPECT_EQ(cache.find("t", 0), nullptr);
    EXPECT_EQ(cache.size(), 0U);
}

TEST(remote_offsets, sweeps_gone_partitions_nobody_looks_up) {
    remote_offsets cache;
    std::vector<std::shared_ptr<published_offsets>> deleted;
    for (int i = 0; i < 100; ++i) {
        deleted.push_back(offsets(0, i));
        cache.remember("deleted-" + std::to_string(i), 0, deleted.back());
        deleted.back()->gone = true;
    }
    for (int round = 0; round < 1024; ++round) {
        cache.remember("live", 0, offsets(0, round)); // a sweep runs every 1,024 changed entries
    }
    EXPECT_EQ(cache.size(), 1U);
    EXPECT_NE(cache.find("live", 0), nullptr);
}

} // namespace
} // namespace ms::broker
