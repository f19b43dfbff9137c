// Closing many logs at once (flusher::run_together, a broker's shutdown): one syncfs for all the
// jobs on the data directory's filesystem, then the checkpoints, then a second syncfs. Each log
// must come back clean when everything succeeded, and a failure must fall back to the file-by-file
// path so that it names its file and leaves only that log to be scanned.

#include <sys/stat.h>

#include <array>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "storage/fault_injection.h"
#include "storage/tests/log_test_support.h"

namespace ms::storage {
namespace {

using testing::append_batches;
using testing::expect_log_holds;
using testing::log_env;
using testing::temp_dir;

constexpr std::array<const char*, 3> log_names{"orders-0", "orders-1", "payments-0"};
constexpr int64_t batches_per_log = 6;
constexpr int32_t records_per_batch = 4;
constexpr int64_t records_per_log = batches_per_log * records_per_batch;

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// Opens a log in each of `dirs`, appends to it, calls arm_faults() and closes them all through
// run_together; returns each log's close outcome.
template<typename ArmFaults>
std::vector<result<void>> write_and_close_together(const std::vector<std::filesystem::path>& dirs,
                                                   const file* filesystem, const ArmFaults& arm_faults) {
    log_env env;
    std::vector<std::unique_ptr<partition_log>> logs;
    for (const auto& dir : dirs) {
        logs.push_back(env.must_open(dir));
        append_batches(*logs.back(), 0, batches_per_log, records_per_batch);
    }
    arm_faults();
    std::vector<std::variant<flush_job, result<void>>> steps;
    std::vector<const flush_job*> jobs;
    steps.reserve(logs.size());
    for (auto& log : logs) {
        steps.push_back(log->begin_close());
    }
    for (const auto& step : steps) {
        const auto* job = std::get_if<flush_job>(&step);
        EXPECT_NE(job, nullptr) << "a log with new records has a final job";
        if (job != nullptr) {
            jobs.push_back(job);
        }
    }
    auto synced = flusher::run_together(jobs, filesystem, 2);
    EXPECT_EQ(synced.size(), logs.size());
    std::vector<result<void>> closed;
    for (size_t i = 0; i < logs.size() && i < synced.size(); ++i) {
        closed.push_back(logs[i]->finish_close(std::move(synced[i])));
    }
    return closed;
}

std::vector<std::filesystem::path> log_dirs(const std::filesystem::path& root) {
    std::vector<std::filesystem::path> dirs;
    dirs.reserve(log_names.size());
    for (const char* name : log_names) {
        dirs.push_back(root / name);
    }
    return dirs;
}

// Reopens the log in `dir`: whether the last close was clean, and that it holds every record.
bool reopens_clean(const std::filesystem::path& dir) {
    log_env env;
    auto log = env.must_open(dir);
    if (log == nullptr) {
        return false;
    }
    expect_log_holds(*log, records_per_log);
    EXPECT_FALSE(std::filesystem::exists(dir / "checkpoint.tmp")) << dir;
    return log->recovery().clean;
}

// The handle syncfs runs on, as the broker's: a file of its own in the data directory, so that a
// fault can be armed for it alone.
file open_handle(const std::filesystem::path& dir) {
    auto handle = file::open(dir / ".lock", open_mode::read_write_create);
    EXPECT_TRUE(handle.has_value()) << (handle ? "" : handle.error().message);
    return handle ? std::move(*handle) : file{};
}

TEST(close_together, every_log_reopens_clean_without_a_sync_per_file) {
    temp_dir root;
    fault_injection::guard faults;
    const file handle = open_handle(root.path());
    // Any fdatasync or fsync of a log's own files would fail: the jobs must not make any.
    const auto arm = [&] {
        for (const char* name : log_names) {
            faults.arm({.op = fault_op::datasync, .path_contains = name, .times = fault::always});
        }
    };
    for (const auto& closed : write_and_close_together(log_dirs(root.path()), &handle, arm)) {
        EXPECT_TRUE(closed.has_value()) << closed.error().message;
    }
    EXPECT_EQ(faults.fired(fault_op::datasync), 0U);
    fault_injection::clear();
    for (const auto& dir : log_dirs(root.path())) {
        EXPECT_TRUE(reopens_clean(dir)) << dir;
    }
}

TEST(close_together, failed_syncfs_falls_back_to_file_by_file_and_names_the_failing_file) {
    temp_dir root;
    fault_injection::guard faults;
    const file handle = open_handle(root.path());
    const auto closed = write_and_close_together(log_dirs(root.path()), &handle, [&] {
        faults.arm({.op = fault_op::datasync, .path_contains = ".lock"});
        faults.arm({.op = fault_op::datasync,
                    .path_contains = "orders-1/00000000000000000000.log",
                    .times = fault::always});
    });
    ASSERT_EQ(closed.size(), 3U);
    EXPECT_TRUE(closed[0].has_value()) << closed[0].error().message;
    ASSERT_FALSE(closed[1].has_value());
    EXPECT_TRUE(contains(closed[1].error().message, "fdatasync")) << closed[1].error().message;
    EXPECT_TRUE(contains(closed[1].error().message, "orders-1/00000000000000000000.log"))
      << closed[1].error().message;
    EXPECT_TRUE(closed[2].has_value()) << closed[2].error().message;
    EXPECT_EQ(faults.fired(fault_op::datasync), 2U) << "the syncfs, then the one log file";
    fault_injection::clear();
    EXPECT_TRUE(reopens_clean(root.path() / "orders-0"));
    EXPECT_FALSE(reopens_clean(root.path() / "orders-1")) << "its data was never known durable";
    EXPECT_TRUE(reopens_clean(root.path() / "payments-0"));
}

TEST(close_together, failed_second_syncfs_writes_the_checkpoints_again_synced) {
    temp_dir root;
    fault_injection::guard faults;
    const file handle = open_handle(root.path());
    const auto closed = write_and_close_together(log_dirs(root.path()), &handle, [&] {
        faults.arm({.op = fault_op::datasync, .path_contains = ".lock", .skip = 1});
        // Only the synced rewrite fdatasyncs a checkpoint.tmp: this fault shows that it ran.
        faults.arm({.op = fault_op::datasync, .path_contains = "orders-1/checkpoint.tmp"});
        // A checkpoint that could not even be put in place is not written again.
        faults.arm({.op = fault_op::rename, .path_contains = "payments-0/checkpoint.tmp"});
    });
    ASSERT_EQ(closed.size(), 3U);
    EXPECT_TRUE(closed[0].has_value()) << closed[0].error().message;
    ASSERT_FALSE(closed[1].has_value());
    EXPECT_TRUE(contains(closed[1].error().message, "orders-1/checkpoint.tmp")) << closed[1].error().message;
    ASSERT_FALSE(closed[2].has_value());
    EXPECT_TRUE(contains(closed[2].error().message, "rename")) << closed[2].error().message;
    EXPECT_EQ(faults.fired(fault_op::datasync), 2U) << "the second syncfs, then one checkpoint";
    EXPECT_EQ(faults.fired(fault_op::rename), 1U);
    fault_injection::clear();
    EXPECT_TRUE(reopens_clean(root.path() / "orders-0"));
    // orders-1's unsynced checkpoint is in place and correct (the data under it is durable): a
    // reopen without a crash may trust it.
    EXPECT_TRUE(reopens_clean(root.path() / "orders-1"));
    EXPECT_FALSE(reopens_clean(root.path() / "payments-0"));
}

TEST(close_together, without_a_handle_every_job_syncs_its_own_files) {
    temp_dir root;
    fault_injection::guard faults;
    const auto closed = write_and_close_together(log_dirs(root.path()), nullptr, [&] {
        faults.arm({.op = fault_op::datasync, .path_contains = "orders-0/00000000000000000000.log"});
    });
    ASSERT_EQ(closed.size(), 3U);
    ASSERT_FALSE(closed[0].has_value());
    EXPECT_TRUE(contains(closed[0].error().message, "orders-0/00000000000000000000.log"))
      << closed[0].error().message;
    EXPECT_TRUE(closed[1].has_value()) << closed[1].error().message;
    EXPECT_TRUE(closed[2].has_value()) << closed[2].error().message;
    fault_injection::clear();
    EXPECT_FALSE(reopens_clean(root.path() / "orders-0"));
    EXPECT_TRUE(reopens_clean(root.path() / "orders-1"));
}

TEST(close_together, logs_on_another_filesystem_sync_their_own_files) {
    temp_dir root;
    struct stat shm {};
    struct stat here {};
    if (::stat("/dev/shm", &shm) != 0 || ::stat(root.path().c_str(), &here) != 0 ||
        shm.st_dev == here.st_dev) {
        GTEST_SKIP() << "needs /dev/shm on a filesystem other than the test directory's";
    }
    fault_injection::guard faults;
    auto handle = file::open("/dev/shm", open_mode::read_only);
    ASSERT_TRUE(handle.has_value()) << handle.error().message;
    const auto closed = write_and_close_together(log_dirs(root.path()), &*handle, [&] {
        faults.arm({.op = fault_op::datasync, .path_contains = "payments-0/00000000000000000000.log"});
    });
    ASSERT_EQ(closed.size(), 3U);
    EXPECT_TRUE(closed[0].has_value()) << closed[0].error().message;
    EXPECT_TRUE(closed[1].has_value()) << closed[1].error().message;
    ASSERT_FALSE(closed[2].has_value()) << "a syncfs of /dev/shm does not make this log durable";
    EXPECT_EQ(faults.fired(fault_op::datasync), 1U);
}

} // namespace
} // namespace ms::storage
