#include "storage/preallocator.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "base/log_limiter.h"
#include "base/logging.h"

namespace ms::storage {

namespace {

constexpr uint64_t mib = uint64_t{1} << 20;
// fallocate holds the inode lock, which the segment's writer needs for every append: a large
// reservation is made in pieces so that one slow piece (a block bitmap read from disk) holds the
// writer up once, not for the whole step.
constexpr uint64_t piece_bytes = 4 * mib;

spdlog::logger& logger() {
    static const auto log = logging::get("storage");
    return *log;
}

} // namespace

preallocator::preallocator(uint64_t max_step) : _max_step(max_step), _thread([this] { work(); }) {}

preallocator::~preallocator() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_all();
    _thread.join();
}

uint64_t preallocator::next_reservation(uint64_t size, uint64_t reserved_to, uint64_t limit) const noexcept {
    if (_max_step == 0 || size < reserve_from || _unsupported.load(std::memory_order_relaxed)) {
        return 0;
    }
    const uint64_t step = std::min(_max_step, (size + mib - 1) / mib * mib);
    if (reserved_to >= size + step / 2) {
        return 0;
    }
    const uint64_t from = std::max(reserved_to, size);
    const uint64_t to = std::min(from + step, limit);
    return to > from ? to : 0;
}

void preallocator::reserve(std::shared_ptr<const file> f, uint64_t from, uint64_t to) {
    enqueue(request{std::move(f), from, to, false});
}

void preallocator::release(std::shared_ptr<const file> f, uint64_t size) {
    enqueue(request{std::move(f), size, size, true});
}

void preallocator::enqueue(request r) {
    {
        std::lock_guard lock(_mutex);
        _queue.push_back(std::move(r));
    }
    _wake.notify_one();
}

void preallocator::wait_idle() {
    std::unique_lock lock(_mutex);
    _idle.wait(lock, [this] { return _queue.empty() && !_busy; });
}

result<bool> preallocator::reserve_in_pieces(const file& f, uint64_t from, uint64_t to) {
    for (uint64_t at = from; at < to; at += piece_bytes) {
        auto reserved = f.preallocate(at, std::min(piece_bytes, to - at));
        if (!reserved || !*reserved) {
            return reserved;
        }
    }
    return true;
}

void preallocator::work() {
    ::pthread_setname_np(::pthread_self(), "preallocator");
    logging::log_limiter limiter(3, std::chrono::minutes(1));
    std::unique_lock lock(_mutex);
    for (;;) {
        // Releases queued at a stop still run: they give back disk space.
        _wake.wait(lock, [this] { return _stopping || !_queue.empty(); });
        if (_queue.empty()) {
            return;
        }
        const request r = std::move(_queue.front());
        _queue.pop_front();
        _busy = true;
        lock.unlock();
        if (r.release) {
            if (auto cut = r.target->truncate(r.from); !cut) {
                if (const auto d = limiter.admit(); d.allowed) {
                    logger().warn("{}; the space reserved past the end of the segment stays allocated until "
                                  "the segment is deleted{}",
                                  cut.error().message, logging::log_limiter::suffix(d));
                }
            }
        } else if (auto reserved = reserve_in_pieces(*r.target, r.from, r.to); !reserved) {
            if (const auto d = limiter.admit(); d.allowed) {
                logger().warn("{}; appends allocate their blocks as they go{}", reserved.error().message,
                              logging::log_limiter::suffix(d));
            }
        } else if (!*reserved && !_unsupported.exchange(true, std::memory_order_relaxed)) {
            logger().info("the filesystem of {} cannot preallocate (fallocate: EOPNOTSUPP); appends "
                          "allocate their blocks as they go",
                          r.target->path().string());
        }
        lock.lock();
        _busy = false;
        if (_queue.empty()) {
            _idle.notify_all();
        }
    }
}

} // namespace ms::storage
