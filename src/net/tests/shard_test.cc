// Cross-shard calls: work runs on the target shard, the caller resumes on its own shard, and
// replies come back in the order of the targets whatever order they finish in.
#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "net/shard.h"

namespace ms::net {
namespace {

TEST(shards, call_on_each_runs_on_targets_and_resumes_on_the_caller) {
    shard_set shards(3, false);
    shards.start();
    std::promise<std::pair<std::vector<int>, shard_id>> result;
    auto caller = [&]() -> asio::awaitable<void> {
        // Shard 2 answers late (from a posted task), shard 1 at once: the order must still follow
        // the targets.
        auto work = [](shard_id target, auto reply) {
            const int ran_on = static_cast<int>(shard::current()->id());
            EXPECT_EQ(ran_on, static_cast<int>(target));
            if (target == 2) {
                shard::current()->post([reply, ran_on]() mutable { reply(ran_on * 10); });
            } else {
                reply(ran_on * 10);
            }
        };
        std::vector<shard_id> targets{2, 1, 0};
        std::vector<int> values = co_await call_on_each<int>(shards, targets, work);
        result.set_value({values, shard::current()->id()});
    };
    asio::co_spawn(shards.at(0).context(), caller(), asio::detached);
    auto [values, resumed_on] = result.get_future().get();
    EXPECT_EQ(values, (std::vector<int>{20, 10, 0}));
    EXPECT_EQ(resumed_on, 0U);
    shards.stop();
}

TEST(shards, call_on_returns_the_targets_answer) {
    shard_set shards(2, false);
    shards.start();
    std::promise<std::pair<int, shard_id>> result;
    auto caller = [&]() -> asio::awaitable<void> {
        auto work = [](auto reply) { reply(static_cast<int>(shard::current()->id()) + 100); };
        const int value = co_await call_on<int>(shards.at(1), work);
        result.set_value({value, shard::current()->id()});
    };
    asio::co_spawn(shards.at(0).context(), caller(), asio::detached);
    auto [value, resumed_on] = result.get_future().get();
    EXPECT_EQ(value, 101);
    EXPECT_EQ(resumed_on, 0U);
    shards.stop();
}

// A coroutine with everything by value: a lambda coroutine's captures would dangle once the
// lambda object is gone.
asio::awaitable<void> ordered_call(shard_set& shards, std::vector<int>& seen_on_target, int i, int last,
                                   std::promise<void>& finished) {
    auto work = [&seen_on_target, i](shard_id, auto reply) {
        seen_on_target.push_back(i);
        reply(i);
    };
    std::vector<shard_id> target{1};
    const std::vector<int> r = co_await call_on_each<int>(shards, target, work);
    EXPECT_EQ(r.front(), i);
    if (i == last) {
        finished.set_value();
    }
}

TEST(shards, many_concurrent_calls_keep_per_target_order) {
    shard_set shards(2, false);
    shards.start();
    constexpr int calls = 2000;
    std::vector<int> seen_on_target; // touched only on shard 1
    std::promise<void> finished;
    shards.at(0).post([&] {
        // Start each call without waiting for the previous one (as pipelined requests do).
        for (int i = 0; i < calls; ++i) {
            asio::co_spawn(shards.at(0).context(),
                           ordered_call(shards, seen_on_target, i, calls - 1, finished), asio::detached);
        }
    });
    finished.get_future().wait();
    std::promise<std::vector<int>> order;
    shards.at(1).post([&] { order.set_value(seen_on_target); });
    const std::vector<int> got = order.get_future().get();
    ASSERT_EQ(got.size(), static_cast<size_t>(calls));
    for (int i = 0; i < calls; ++i) {
        ASSERT_EQ(got[static_cast<size_t>(i)], i);
    }
    shards.stop();
}

} // namespace
} // namespace ms::net

namespace ms::net {
namespace {

// shard.idle.spin.us: spinning shards still run posted work, timers and cross-shard calls, and
// stop promptly (the spin loop must notice stop()).
TEST(shards, spinning_shards_run_work_and_stop) {
    shard_set shards(2, false, std::chrono::microseconds(500));
    shards.start();
    std::atomic<int> ran{0};
    for (int i = 0; i < 1000; ++i) {
        shards.at(static_cast<size_t>(i % 2)).post([&ran] { ran.fetch_add(1); });
    }
    std::promise<int> answer;
    auto caller = [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(shard::current()->context(), std::chrono::milliseconds(5));
        co_await timer.async_wait(asio::use_awaitable); // a timer fires while the shard spins
        auto work = [](auto reply) { reply(static_cast<int>(shard::current()->id()) + 40); };
        const int value = co_await call_on<int>(shards.at(1), work);
        answer.set_value(value);
    };
    asio::co_spawn(shards.at(0).context(), caller(), asio::detached);
    EXPECT_EQ(answer.get_future().get(), 41);
    const auto start = std::chrono::steady_clock::now();
    while (ran.load() < 1000 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(ran.load(), 1000);
    const auto stopping = std::chrono::steady_clock::now();
    shards.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(2));
}

} // namespace
} // namespace ms::net
