// shard_waiter: the shard that wakes a parked coroutine does its read there and hands the outcome
// over before the coroutine resumes; only the first wake counts; once the waiter has withdrawn
// (answered without waiting, or timed out) no read runs for it, and a read already under way is
// waited for, since it may refer to the parked coroutine's state.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include "net/shard.h"
#include "net/shard_waiter.h"

namespace ms::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

struct read_log {
    std::atomic<int> reads{0};
    std::atomic<int> read_on{-1};
    bool handed_over = false; // home shard only
};

shard_waiter::read_here_fn counting_reader(read_log& log) {
    return [&log](shard_id owner) -> std::function<void()> {
        log.read_on = static_cast<int>(shard::current()->id());
        EXPECT_EQ(static_cast<int>(owner), log.read_on.load());
        ++log.reads;
        return [&log] { log.handed_over = true; };
    };
}

// Runs `body` as a coroutine on shard 0 and waits for it.
template<typename Body>
void on_home(shard_set& shards, Body body) {
    std::promise<void> done;
    auto run = [&]() -> asio::awaitable<void> {
        co_await body();
        done.set_value();
    };
    asio::co_spawn(shards.at(0).context(), run(), asio::detached);
    ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
}

void wake_from(shard_set& shards, shard_id owner, const std::shared_ptr<shard_waiter>& waiter,
               bool with_data) {
    std::promise<void> drained;
    shards.at(owner).post([waiter, with_data] { waiter->wake(with_data); });
    // Queued behind the read the wake posted there, if it posted one.
    shards.at(owner).post([&drained] { drained.set_value(); });
    drained.get_future().wait();
}

TEST(shard_waiter, the_waking_shard_reads_and_hands_over_before_the_waiter_resumes) {
    shard_set shards(2, false);
    shards.start();
    read_log log;
    auto waiter = std::make_shared<shard_waiter>(shards.at(0), counting_reader(log));
    bool handed_when_resumed = false;
    std::thread waker([&] {
        std::this_thread::sleep_for(20ms);
        wake_from(shards, 1, waiter, true);
        wake_from(shards, 1, waiter, true); // a second append: no second read
    });
    on_home(shards, [&]() -> asio::awaitable<void> {
        co_await waiter->wait_until(steady::now() + 10s);
        handed_when_resumed = log.handed_over;
        EXPECT_TRUE(waiter->woken());
    });
    waker.join();
    EXPECT_TRUE(handed_when_resumed);
    EXPECT_EQ(log.read_on.load(), 1);
    shards.stop();
    EXPECT_EQ(log.reads.load(), 1);
}

TEST(shard_waiter, a_wake_without_data_does_not_read) {
    shard_set shards(2, false);
    shards.start();
    read_log log;
    auto waiter = std::make_shared<shard_waiter>(shards.at(0), counting_reader(log));
    wake_from(shards, 1, waiter, false);
    on_home(shards, [&]() -> asio::awaitable<void> {
        co_await waiter->wait_until(steady::now() + 10s);
        EXPECT_TRUE(waiter->woken());
    });
    shards.stop();
    EXPECT_EQ(log.reads.load(), 0);
    EXPECT_FALSE(log.handed_over);
}

TEST(shard_waiter, no_read_runs_after_a_timeout_or_a_withdrawal) {
    shard_set shards(2, false);
    shards.start();
    read_log log;
    auto timed_out = std::make_shared<shard_waiter>(shards.at(0), counting_reader(log));
    auto withdrawn = std::make_shared<shard_waiter>(shards.at(0), counting_reader(log));
    on_home(shards, [&]() -> asio::awaitable<void> {
        co_await timed_out->wait_until(steady::now() + 5ms);
        co_await withdrawn->withdraw();
        EXPECT_FALSE(timed_out->woken());
        EXPECT_FALSE(withdrawn->woken());
    });
    wake_from(shards, 1, timed_out, true);
    wake_from(shards, 1, withdrawn, true);
    shards.stop();
    EXPECT_EQ(log.reads.load(), 0);
}

TEST(shard_waiter, withdrawing_waits_for_a_read_under_way) {
    shard_set shards(2, false);
    shards.start();
    std::promise<void> read_started;
    std::promise<void> finish_read;
    auto finish = finish_read.get_future().share();
    bool handed_over = false;
    auto waiter = std::make_shared<shard_waiter>(shards.at(0), [&](shard_id) -> std::function<void()> {
        read_started.set_value();
        finish.wait(); // the owner is still reading when the fetch decides to answer
        return [&handed_over] { handed_over = true; };
    });
    shards.at(1).post([&] { waiter->wake(true); });
    read_started.get_future().wait();
    std::thread release([&] {
        std::this_thread::sleep_for(20ms);
        finish_read.set_value();
    });
    bool handed_when_withdrawn = false;
    on_home(shards, [&]() -> asio::awaitable<void> {
        co_await waiter->withdraw();
        handed_when_withdrawn = handed_over;
    });
    release.join();
    EXPECT_TRUE(handed_when_withdrawn);
    shards.stop();
}

} // namespace
} // namespace ms::net
