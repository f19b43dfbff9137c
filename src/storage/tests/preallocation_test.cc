// Blocks reserved ahead of a busy active segment (preallocator): they are allocated on disk past
// the end of the file without changing its size, given back when the segment is sealed, invisible
// to readers and to a restart, and a failure to reserve never fails an append.

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "storage/fault_injection.h"
#include "storage/preallocator.h"
#include "storage/tests/log_test_support.h"

namespace ms::storage {
namespace {

using testing::expect_log_holds;
using testing::log_env;
using testing::make_batch;
using testing::temp_dir;

constexpr uint64_t mib = uint64_t{1} << 20;
constexpr int32_t records_per_batch = 64;
constexpr size_t value_bytes = 1000; // ~66 KB batches: 16 make a MiB

// Bytes of disk the file holds (st_blocks), whatever its size says.
uint64_t allocated_bytes(const std::filesystem::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return static_cast<uint64_t>(st.st_blocks) * 512;
}

// Whether the filesystem under `dir` can allocate past a file's end (tmpfs and ext4 can).
bool can_preallocate(const std::filesystem::path& dir) {
    auto probe = file::open(dir / "probe", open_mode::read_write_create);
    if (!probe) {
        return false;
    }
    auto reserved = probe->preallocate(0, mib);
    (void)remove_file(dir / "probe");
    return reserved && *reserved;
}

// Appends batches until the log holds at least `bytes`; returns the end offset.
int64_t append_until(partition_log& log, int64_t end, uint64_t bytes) {
    while (log.size_bytes() < bytes) {
        auto r = log.append(make_batch(end, records_per_batch, 1000, value_bytes));
        EXPECT_TRUE(r.has_value()) << r.error().message;
        if (!r) {
            break;
        }
        end += records_per_batch;
    }
    return end;
}

struct preallocating_env : log_env {
    explicit preallocating_env(uint64_t max_step) : space(max_step) {}
    preallocator space;

    result<std::unique_ptr<partition_log>> open(const std::filesystem::path& dir, log_config cfg = {}) {
        auto s = services();
        s.space = &space;
        return partition_log::open(dir, cfg, s);
    }
};

// Writes 3 MiB through a preallocating log in `dir` and waits for its reservations; then closes
// it, or with `crash` leaves the directory as a killed process leaves it. Returns the end offset.
int64_t write_reserved_log(const std::filesystem::path& dir, bool crash) {
    preallocating_env env(32 * mib);
    auto log = env.open(dir);
    EXPECT_TRUE(log.has_value()) << log.error().message;
    if (!log) {
        return 0;
    }
    const int64_t end = append_until(**log, 0, 3 * mib);
    env.space.wait_idle();
    if (!crash) {
        EXPECT_TRUE((*log)->close().has_value());
    }
    return end;
}

TEST(preallocator, steps_grow_with_the_segment_up_to_the_limit) {
    const preallocator p(32 * mib);
    EXPECT_EQ(p.next_reservation(preallocator::reserve_from - 1, 0, 1 << 30), 0U)
      << "small segments get nothing";
    EXPECT_EQ(p.next_reservation(mib, 0, 1 << 30), 2 * mib);
    // Half of the 2 MiB step still ahead: nothing yet; less than half: the next step.
    EXPECT_EQ(p.next_reservation(mib + mib / 2, 3 * mib, 1 << 30), 0U);
    EXPECT_EQ(p.next_reservation(mib + mib / 2, 2 * mib, 1 << 30), 4 * mib);
    // Writes that outran the reservation start the next one at the end of the data.
    EXPECT_EQ(p.next_reservation(10 * mib, 4 * mib, 1 << 30), 20 * mib);
    // The step stops growing at max_step and never passes the segment's roll size.
    EXPECT_EQ(p.next_reservation(100 * mib, 0, 1 << 30), 132 * mib);
    EXPECT_EQ(p.next_reservation(100 * mib, 0, 110 * mib), 110 * mib);
    EXPECT_EQ(p.next_reservation(110 * mib, 0, 110 * mib), 0U);
    EXPECT_EQ(preallocator(0).next_reservation(100 * mib, 0, 1 << 30), 0U) << "0 turns it off";
}

TEST(preallocator, a_busy_segment_gets_blocks_ahead_and_keeps_its_size) {
    temp_dir dir;
    if (!can_preallocate(dir.path())) {
        GTEST_SKIP() << "the filesystem of " << dir.path() << " cannot fallocate";
    }
    preallocating_env env(32 * mib);
    auto log = env.open(dir.path());
    ASSERT_TRUE(log.has_value()) << log.error().message;
    const int64_t end = append_until(**log, 0, 3 * mib);
    env.space.wait_idle();
    const auto path = dir.path() / (segment::file_stem(model::offset(0)) + ".log");
    const uint64_t size = (*log)->size_bytes();
    EXPECT_EQ(std::filesystem::file_size(path), size) << "the reservation must not change the file's size";
    EXPECT_GE(allocated_bytes(path), size + mib) << "blocks past the end are allocated";
    expect_log_holds(**log, end);
    ASSERT_TRUE((*log)->close().has_value());

    // A clean restart sees exactly the data, and appends on into the reserved blocks.
    preallocating_env again(32 * mib);
    auto reopened = again.open(dir.path());
    ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
    EXPECT_TRUE((*reopened)->recovery().clean);
    expect_log_holds(**reopened, end);
    const int64_t later = append_until(**reopened, end, 4 * mib);
    again.space.wait_idle();
    expect_log_holds(**reopened, later);
}

TEST(preallocator, a_crash_leaves_reserved_blocks_that_recovery_ignores) {
    temp_dir dir;
    if (!can_preallocate(dir.path())) {
        GTEST_SKIP() << "the filesystem of " << dir.path() << " cannot fallocate";
    }
    const int64_t end = write_reserved_log(dir.path(), true);
    log_env env;
    auto log = env.must_open(dir.path());
    ASSERT_NE(log, nullptr);
    EXPECT_FALSE(log->recovery().clean);
    EXPECT_EQ(log->recovery().bytes_truncated, 0U) << "the scan stops at the file's size, not in the blocks";
    expect_log_holds(*log, end);
}

TEST(preallocator, a_sealed_segment_gives_back_what_it_did_not_use) {
    temp_dir dir;
    if (!can_preallocate(dir.path())) {
        GTEST_SKIP() << "the filesystem of " << dir.path() << " cannot fallocate";
    }
    preallocating_env env(32 * mib);
    log_config cfg;
    cfg.segment_bytes = 6 * mib;
    auto log = env.open(dir.path(), cfg);
    ASSERT_TRUE(log.has_value()) << log.error().message;
    const int64_t first_end = append_until(**log, 0, 3 * mib);
    env.space.wait_idle();
    const auto first = dir.path() / (segment::file_stem(model::offset(0)) + ".log");
    ASSERT_GE(allocated_bytes(first), 3 * mib + mib) << "reserved ahead before the roll";
    ASSERT_TRUE((*log)->roll().has_value());
    const int64_t end = append_until(**log, first_end, 5 * mib);
    env.space.wait_idle();
    const uint64_t sealed_size = std::filesystem::file_size(first);
    EXPECT_LE(allocated_bytes(first), sealed_size + 64 * uint64_t{1024})
      << "the sealed segment kept blocks it cannot use";
    expect_log_holds(**log, end);
}

TEST(preallocator, blocks_reserved_before_a_restart_are_given_back_at_the_seal) {
    temp_dir dir;
    if (!can_preallocate(dir.path())) {
        GTEST_SKIP() << "the filesystem of " << dir.path() << " cannot fallocate";
    }
    const auto first = dir.path() / (segment::file_stem(model::offset(0)) + ".log");
    const int64_t end = write_reserved_log(dir.path(), false);
    ASSERT_GE(allocated_bytes(first), std::filesystem::file_size(first) + mib) << "reserved before the stop";
    // After the restart the log no longer knows what it reserved; the seal frees it all the same.
    preallocating_env env(32 * mib);
    auto log = env.open(dir.path());
    ASSERT_TRUE(log.has_value()) << log.error().message;
    ASSERT_TRUE((*log)->roll().has_value());
    env.space.wait_idle();
    EXPECT_LE(allocated_bytes(first), std::filesystem::file_size(first) + 64 * uint64_t{1024});
    expect_log_holds(**log, end);
}

TEST(preallocator, a_failed_reservation_never_fails_an_append) {
    temp_dir dir;
    fault_injection::guard faults;
    fault no_space;
    no_space.op = fault_op::allocate;
    no_space.error = ENOSPC;
    no_space.times = fault::always;
    faults.arm(no_space);
    preallocating_env env(32 * mib);
    auto log = env.open(dir.path());
    ASSERT_TRUE(log.has_value()) << log.error().message;
    const int64_t end = append_until(**log, 0, 4 * mib);
    env.space.wait_idle();
    EXPECT_GE(faults.fired(fault_op::allocate), 1U) << "the preallocator tried and failed";
    const auto path = dir.path() / (segment::file_stem(model::offset(0)) + ".log");
    EXPECT_LE(allocated_bytes(path), (*log)->size_bytes() + 64 * uint64_t{1024});
    expect_log_holds(**log, end);
}

} // namespace
} // namespace ms::storage
