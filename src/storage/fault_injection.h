#pragma once

// fault_injection: makes the storage layer's system calls fail on demand, so that tests can drive
// every I/O error path (a fault-injecting file layer, in the spirit of leveldb's
// FaultInjectionTestEnv and Redpanda's honey_badger). Production code never arms a fault.
//
// The seam: each system call of the storage layer that can fail on the data path (all in file.cc,
// but for the index-file open/fsync in flusher.cc; close(2) is not covered) is preceded by a check,
//
//     if (fault_injection::injected(fault_op::datasync, _path) || ::fdatasync(_fd) != 0) { ...errno... }
//
// which, when a fault matches, sets errno and makes the caller take its ordinary failure path, so
// the code under test is the code that runs in production.
//
// Cost when nothing is armed (always, outside tests): injected() is inline and does one relaxed
// atomic load of a bit mask and a predictable branch; it touches neither the path nor a lock, which
// is nothing next to the system call it guards. Only while a fault is armed for that operation does
// the call take a mutex to match the path and count.
//
// Thread-safety: every function may be called from any thread, concurrently with file-layer calls
// on other threads (the flusher's). A fault armed before work is handed to another thread (through
// the flusher's queue, a mutex, a thread start) is seen by that thread.
//
// The armed faults are process-wide: tests that arm them must not run concurrently with each other
// (GoogleTest runs the tests of one binary sequentially). Use a fault_injection::guard per test.

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

namespace ms::storage {

// The system calls a fault can be armed for.
enum class fault_op : uint8_t {
    open,     // open(2), including opening a directory to list or fsync it
    read,     // pread(2)
    write,    // pwritev(2)
    truncate, // ftruncate(2)
    datasync, // fdatasync(2), fsync(2) of files and directories, syncfs(2)
    rename,   // rename(2)
    unlink,   // unlink(2)
    stat,     // fstat(2), stat(2): file sizes and modification times
    allocate, // fallocate(2): space reserved ahead of a segment's appends
};

struct fault {
    static constexpr uint32_t always = std::numeric_limits<uint32_t>::max();

    fault_op op = fault_op::write;
    int error = EIO;           // the errno the call fails with
    std::string path_contains; // only calls on a path containing this; "" = any path
    uint32_t times = 1;        // how many matching calls fail; `always` = every one until cleared
    uint32_t skip = 0;         // matching calls let through before the first failure
    uint64_t torn_bytes = 0;   // write only: the failing call first writes this many bytes for real,
                               // as a device that fails part way through a request leaves them
};

namespace fault_injection {

// Arms a fault. Faults are matched in the order they were armed; the first one that matches a
// call (operation and path) decides it: let it through while skipping, else fail it. A fault that
// has failed `times` calls is disarmed.
void arm(fault f);
// Disarms every fault and resets the counters.
void clear();
// How many calls of `op` failed by injection since the last clear().
[[nodiscard]] uint64_t fired(fault_op op);

// Clears all faults at the end of a test's scope (and at its start, so counters start at 0), even
// when an assertion returns early.
class guard {
public:
    guard() { clear(); }
    ~guard() { clear(); }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;

    guard& arm(fault f) {
        fault_injection::arm(std::move(f));
        return *this;
    }
    [[nodiscard]] uint64_t fired(fault_op op) const { return fault_injection::fired(op); }
};

namespace detail {
// Bit (1 << op) is set while at least one fault is armed for op.
extern std::atomic<uint32_t> armed_ops;
// The slow path: matches and counts under a lock. Returns the errno to fail with, or 0.
int take(fault_op op, const std::filesystem::path& path, uint64_t* torn_bytes) noexcept;

constexpr uint32_t bit(fault_op op) noexcept {
    return uint32_t{1} << static_cast<unsigned>(op);
}
} // namespace detail

// The check before a system call on `path`: true when the call must fail, with errno set.
[[nodiscard]] inline bool injected(fault_op op, const std::filesystem::path& path) noexcept {
    if ((detail::armed_ops.load(std::memory_order_relaxed) & detail::bit(op)) == 0) [[likely]] {
        return false;
    }
    const int e = detail::take(op, path, nullptr);
    if (e == 0) {
        return false;
    }
    errno = e;
    return true;
}

// injected() for a write: also says how many bytes the failing call writes before it fails.
[[nodiscard]] inline bool injected_write(const std::filesystem::path& path, uint64_t& torn_bytes) noexcept {
    torn_bytes = 0;
    if ((detail::armed_ops.load(std::memory_order_relaxed) & detail::bit(fault_op::write)) == 0) [[likely]] {
        return false;
    }
    const int e = detail::take(fault_op::write, path, &torn_bytes);
    if (e == 0) {
        return false;
    }
    errno = e;
    return true;
}

} // namespace fault_injection
} // namespace ms::storage
