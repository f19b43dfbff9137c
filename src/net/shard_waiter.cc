#include "net/shard_waiter.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ms::net {

void shard_waiter::wake(bool with_data) {
    if (_fired.exchange(true, std::memory_order_acq_rel)) {
        return; // woken already, or the waiter has withdrawn
    }
    shard* here = shard::current();
    if (!with_data || !_read_here || here == nullptr) {
        _home.post([self = shared_from_this()] { self->deliver({}); });
        return;
    }
    // Posted, not run now: the caller (for the broker, an append of a produce request that may
    // have more partitions on this shard) finishes first, and the read sees all of it.
    here->post([self = shared_from_this(), owner = here->id()] {
        auto handover = self->_read_here(owner);
        self->_home.post([self, handover = std::move(handover)] { self->deliver(handover); });
    });
}

void shard_waiter::deliver(const std::function<void()>& handover) {
    if (handover) {
        handover();
    }
    _woken = true;
    _timer.cancel();
}

asio::awaitable<void> shard_waiter::wait_until(std::chrono::steady_clock::time_point deadline) {
    if (!_woken) {
        _timer.expires_at(deadline);
        co_await _timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_await withdraw();
}

asio::awaitable<void> shard_waiter::withdraw() {
    if (_woken || !_fired.exchange(true, std::memory_order_acq_rel)) {
        co_return;
    }
    // A wake won the race: its read is running on the waking shard and will be delivered soon.
    while (!_woken) {
        _timer.expires_at(std::chrono::steady_clock::time_point::max());
        co_await _timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

} // namespace ms::net
