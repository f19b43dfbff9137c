#pragma once
// shard_waiter: a coroutine on its home shard parked until another shard wakes it or a deadline
// passes, where the waking shard may first do work on its own thread and hand the outcome over
// with the wake-up (the broker's parked fetches: the owner of the partition that got data reads
// it there, and the fetch answers without another round trip).
//
// Only the first wake counts. After wait_until() or withdraw() returns, no `read_here` runs or
// will run, so it may refer to state the parked coroutine owns (a request being answered).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/shard.h"

namespace ms::net {

class shard_waiter : public std::enable_shared_from_this<shard_waiter> {
public:
    // Runs on the waking shard `owner`; returns what the home shard runs (on its thread) before
    // the waiter resumes.
    using read_here_fn = std::function<std::function<void()>(shard_id owner)>;

    explicit shard_waiter(shard& home, read_here_fn read_here = {})
      : _home(home), _read_here(std::move(read_here)), _timer(home.context()) {}
    // Thread-safe; called on a shard thread. `with_data`: run `read_here` there first (for the
    // broker: the partition got new records); false: just wake (the partition is going away).
    void wake(bool with_data);
    // On the home shard: waits until woken or `deadline`; returns at once if already woken.
    boost::asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point deadline);
    // On the home shard, for a waiter given up without waiting: makes sure no read starts for it,
    // waiting for one already under way.
    boost::asio::awaitable<void> withdraw();
    // On the home shard: a wake-up arrived (with or without a read).
    [[nodiscard]] bool woken() const noexcept { return _woken; }

private:
    void deliver(const std::function<void()>& handover);

    shard& _home;
    read_here_fn _read_here;
    boost::asio::steady_timer _timer;
    std::atomic<bool> _fired{false}; // a wake (or the home's withdrawal) took the waiter
    bool _woken = false;             // home shard only
};

} // namespace ms::net
