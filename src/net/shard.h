#pragma once
// shard: one reactor thread with its own Boost.Asio io_context, pinned to one core. Objects owned
// by a shard (partition logs, connections, fetch waiters) are only touched on its thread; other
// shards reach them by posting work (call_on below), never through a shared lock.
//
// shard_set: the shards of a process, started and stopped together. Shard 0 also runs the
// controller work (topic table changes) of a single-node broker.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/executor.h"

namespace ms::net {

namespace asio = boost::asio;

using shard_id = uint32_t;

class shard final : public executor {
public:
    // `spin`: how long the thread keeps polling for work after its last handler before it sleeps
    // in epoll (0: sleep at once). Spinning saves the wake-up of a parked thread (~100 us across
    // vCPUs here) for work that arrives within the window, at the price of a busy core.
    shard(shard_id id, std::optional<unsigned> cpu, std::chrono::microseconds spin = {});
    ~shard() override;
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;

    [[nodiscard]] shard_id id() const noexcept { return _id; }
    [[nodiscard]] asio::io_context& context() noexcept { return _io; }
    // Thread-safe: the task runs on this shard's thread.
    void post(std::function<void()> task) override { asio::post(_io, std::move(task)); }

    // Starts the thread (runs the io_context until stop()).
    void start();
    // Lets the io_context finish and joins the thread. Work posted afterwards is dropped.
    void stop();
    // The shard whose thread is calling, or nullptr off the shard threads.
    [[nodiscard]] static shard* current() noexcept;

private:
    void run_loop();

    shard_id _id;
    std::optional<unsigned> _cpu;
    std::chrono::microseconds _spin;
    asio::io_context _io{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> _guard;
    std::thread _thread;
};

class shard_set {
public:
    // `count` shards; with `pin`, shard i runs on the i-th CPU this process may use.
    shard_set(size_t count, bool pin, std::chrono::microseconds spin = {});
    [[nodiscard]] size_t size() const noexcept { return _shards.size(); }
    [[nodiscard]] shard& at(shard_id id) noexcept { return *_shards[id]; }
    void start();
    void stop();

private:
    std::vector<std::unique_ptr<shard>> _shards;
};

// Runs `work(reply)` on `target`'s thread; `reply(T)` may be called there at once or later (from
// a flush completion, say), and resumes the awaiting coroutine on its own executor with the value.
// REQUIRES: work calls reply exactly once.
template<typename T, typename Work>
asio::awaitable<T> call_on(shard& target, Work work) {
    auto initiate = [&target, &work](auto handler) mutable {
        using handler_type = decltype(handler);
        auto shared = std::make_shared<handler_type>(std::move(handler));
        asio::post(target.context(), [shared, work = std::move(work)]() mutable {
            work([shared](T value) {
                auto ex = asio::get_associated_executor(*shared);
                asio::post(ex, [shared, value = std::move(value)]() mutable { (*shared)(std::move(value)); });
            });
        });
    };
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(initiate,
                                                                                    asio::use_awaitable);
}

// Runs `work(target, reply)` on every shard in `targets` at once and resumes the awaiting
// coroutine, on its own executor, with the replies in the order of `targets`.
// REQUIRES: work calls its reply exactly once per target; T is default-constructible.
template<typename T, typename Work>
asio::awaitable<std::vector<T>> call_on_each(shard_set& shards, std::vector<shard_id> targets, Work work) {
    auto initiate = [&shards, &targets, &work](auto handler) mutable {
        using handler_type = decltype(handler);
        struct gathering {
            explicit gathering(handler_type h, size_t n) : done(std::move(h)), results(n), pending(n) {}
            handler_type done;
            std::vector<T> results;
            size_t pending;
        };
        auto state = std::make_shared<gathering>(std::move(handler), targets.size());
        auto ex = asio::get_associated_executor(state->done);
        if (targets.empty()) {
            asio::post(ex, [state]() mutable { state->done(std::move(state->results)); });
            return;
        }
        shard* here = shard::current();
        for (size_t i = 0; i < targets.size(); ++i) {
            const shard_id target = targets[i];
            auto run = [state, ex, i, target, work]() mutable {
                work(target, [state, ex, i](T value) {
                    asio::post(ex, [state, i, value = std::move(value)]() mutable {
                        state->results[i] = std::move(value);
                        if (--state->pending == 0) {
                            state->done(std::move(state->results));
                        }
                    });
                });
            };
            // Work for this shard runs now: no queueing, and still in call order with the work
            // posted to other shards, since each shard sees the calls in the order they were made.
            if (here != nullptr && here->id() == target) {
                run();
            } else {
                asio::post(shards.at(target).context(), std::move(run));
            }
        }
    };
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::vector<T>)>(
      initiate, asio::use_awaitable);
}

} // namespace ms::net
