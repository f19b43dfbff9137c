#pragma once

// preallocator: one background thread that allocates disk blocks ahead of busy active segments
// (fallocate(2), the file size unchanged) and frees the blocks a segment did not use once it is
// sealed.
//
// Why: on ext4 an append past the allocated end of a file reserves delayed-allocation blocks
// under the inode's i_data_sem, which writeback holds while it allocates the blocks of that same
// file. A shard appending to a file that is being written back then sleeps in pwritev (sampled
// here: every shard thread found in D state sat in ext4_da_get_block_prep). An append into
// blocks fallocate already reserved finds them in the extent cache and does not take that lock.
// The fallocate itself takes the inode's locks and may read block bitmaps from disk, so it runs
// here, never on a shard.
//
// Requests run one at a time in the order they were made, so a release queued after a reserve of
// the same file frees what that reserve allocated. Both are best effort: a failure (a filesystem
// without fallocate, a full disk) is logged, rate limited, and the appends allocate their blocks
// as they would without it. Blocks reserved past the end of a file are invisible to readers and
// to recovery, which go by the file's size.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "storage/file.h"

namespace ms::storage {

class preallocator {
public:
    // `max_step`: the most a segment gets reserved ahead of its end (log.preallocate.bytes).
    explicit preallocator(uint64_t max_step);
    ~preallocator();
    preallocator(const preallocator&) = delete;
    preallocator& operator=(const preallocator&) = delete;

    // Segments smaller than this get nothing reserved: the 10,000 quiet partitions of a broker
    // keep their disk footprint. A busy one crosses it within its first requests.
    static constexpr uint64_t reserve_from = uint64_t{1} << 20;

    // Where a segment of `size` bytes, reserved up to `reserved_to`, should next be reserved up
    // to, or 0 when it needs nothing now. The step grows with the segment (as large as what it
    // holds, in whole MiB, up to max_step and never past `limit`, the segment's roll size), so
    // the space reserved ahead never exceeds the data already there; a new step is asked for
    // when less than half of the current one is left.
    [[nodiscard]] uint64_t next_reservation(uint64_t size, uint64_t reserved_to,
                                            uint64_t limit) const noexcept;

    // Thread-safe. Allocates [from, to) of `f` in the background.
    void reserve(std::shared_ptr<const file> f, uint64_t from, uint64_t to);
    // Thread-safe. Frees the blocks of `f` past `size` in the background (a truncate to its size),
    // after every reserve asked for before.
    void release(std::shared_ptr<const file> f, uint64_t size);
    // Waits until every request made so far has run (for tests).
    void wait_idle();

private:
    struct request {
        std::shared_ptr<const file> target;
        uint64_t from = 0; // reserve: [from, to); release: truncate to `from`
        uint64_t to = 0;
        bool release = false;
    };

    void enqueue(request r);
    void work();
    static result<bool> reserve_in_pieces(const file& f, uint64_t from, uint64_t to);

    uint64_t _max_step;
    std::atomic<bool> _unsupported{false}; // the filesystem refused fallocate (EOPNOTSUPP): stop asking
    std::mutex _mutex;
    std::condition_variable _wake;
    std::condition_variable _idle;
    std::deque<request> _queue;
    bool _busy = false;
    bool _stopping = false;
    std::thread _thread; // last: starts once the members above exist
};

} // namespace ms::storage
