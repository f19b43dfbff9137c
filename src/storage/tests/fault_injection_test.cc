// I/O failures, injected at the system calls of the storage layer (fault_injection.h): a failed
// fdatasync, write, truncate, rename, unlink, open, read or stat must give the caller an error that
// names the file, must never leave a partial batch or a log that lies about what it holds, and a
// reopen without the fault must recover everything that was written.

#include <chrono>
#include <fstream>

#include <gtest/gtest.h>

#include "storage/fault_injection.h"
#include "storage/tests/log_test_support.h"

namespace ms::storage {
namespace {

using testing::append_batches;
using testing::expect_log_holds;
using testing::log_env;
using testing::make_batch;
using testing::temp_dir;

std::unique_ptr<partition_log> must_open(log_env& env, const std::filesystem::path& dir,
                                         log_config cfg = {}) {
    return env.must_open(dir, cfg);
}

std::filesystem::path segment_file(const std::filesystem::path& dir, int64_t base, const char* ext = ".log") {
    return dir / (segment::file_stem(model::offset(base)) + ext);
}

// The call failed with `code`.
template<typename Result>
void expect_error(const Result& r, errc code) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, code) << r.error().message;
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// --- the seam itself ---------------------------------------------------------------------------

TEST(fault_injection, counts_skips_and_filters_by_path_and_the_guard_clears) {
    temp_dir dir;
    const auto a = dir.path() / "a.data";
    const auto b = dir.path() / "b.data";
    {
        fault_injection::guard faults;
        faults.arm({.op = fault_op::open, .error = EACCES, .path_contains = "a.data", .times = 2, .skip = 1});
        EXPECT_TRUE(file::open(b, open_mode::read_write_create).has_value()) << "another path";
        EXPECT_TRUE(file::open(a, open_mode::read_write_create).has_value()) << "skipped";
        for (int i = 0; i < 2; ++i) {
            auto failed = file::open(a, open_mode::read_write_create);
            ASSERT_FALSE(failed.has_value());
            EXPECT_EQ(failed.error().code, errc::io_error);
            EXPECT_TRUE(contains(failed.error().message, a.string())) << failed.error().message;
            EXPECT_TRUE(contains(failed.error().message, "Permission denied")) << failed.error().message;
        }
        EXPECT_TRUE(file::open(a, open_mode::read_write_create).has_value()) << "disarmed after 2 failures";
        EXPECT_EQ(faults.fired(fault_op::open), 2U);
        faults.arm({.op = fault_op::open, .error = EACCES, .path_contains = "", .times = 0});
        EXPECT_TRUE(file::open(a, open_mode::read_write_create).has_value()) << "times = 0 fails nothing";

        faults.arm({.op = fault_op::read, .error = EIO, .path_contains = "", .times = fault::always});
        auto f = file::open(a, open_mode::read_only);
        ASSERT_TRUE(f.has_value());
        std::array<std::byte, 4> buf{};
        for (int i = 0; i < 3; ++i) {
            EXPECT_FALSE(f->read_some(0, buf).has_value());
        }
        EXPECT_EQ(faults.fired(fault_op::read), 3U);
    }
    // The guard's scope ended: nothing fails any more.
    auto f = file::open(a, open_mode::read_only);
    ASSERT_TRUE(f.has_value());
    std::array<std::byte, 4> buf{};
    EXPECT_TRUE(f->read_some(0, buf).has_value());
    EXPECT_EQ(fault_injection::fired(fault_op::read), 0U);
}

TEST(fault_injection, interrupted_system_calls_are_retried_not_reported) {
    temp_dir dir;
    fault_injection::guard faults;
    log_env env;
    log_config cfg;
    cfg.index_interval_bytes = 128;
    faults.arm({.op = fault_op::open, .error = EINTR, .path_contains = ".log"});
    auto log = must_open(env, dir.path(), cfg);
    ASSERT_NE(log, nullptr);
    faults.arm({.op = fault_op::write, .error = EINTR, .path_contains = ".log"});
    faults.arm({.op = fault_op::read, .error = EINTR, .path_contains = ".log"});
    faults.arm({.op = fault_op::truncate, .error = EINTR, .path_contains = ".index"});
    const int64_t end = append_batches(*log, 0, 10);
    ASSERT_TRUE(log->roll().has_value()); // writes the index files: truncate, then write
    expect_log_holds(*log, end);
    for (fault_op op : {fault_op::open, fault_op::write, fault_op::read, fault_op::truncate}) {
        EXPECT_EQ(faults.fired(op), 1U) << "op " << static_cast<int>(op);
    }
}

// --- group commit ------------------------------------------------------------------------------

TEST(fault_injection, failed_fdatasync_fails_every_waiting_sync_and_the_log_until_reopened) {
    temp_dir dir;
    fault_injection::guard faults;
    int64_t end = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path());
        end = append_batches(*log, end, 3);
        faults.arm({.op = fault_op::datasync, .error = EIO, .path_contains = ".log", .times = fault::always});
        // Three callers: the first starts the group commit, the other two wait for the next one.
        std::vector<std::optional<result<model::offset>>> seen(3);
        for (auto& s : seen) {
            end = append_batches(*log, end, 1);
            log->sync([&s](result<model::offset> r) { s.emplace(std::move(r)); });
        }
        ASSERT_TRUE(env.exec.run_until([&] {
            return std::all_of(seen.begin(), seen.end(), [](const auto& s) { return s.has_value(); });
        }));
        for (const auto& s : seen) {
            ASSERT_FALSE(s->has_value());
            EXPECT_EQ(s->error().code, errc::log_failed);
            EXPECT_TRUE(contains(s->error().message, "fdatasync")) << s->error().message;
            EXPECT_TRUE(contains(s->error().message, "Input/output error")) << s->error().message;
            EXPECT_TRUE(contains(s->error().message, segment_file(dir.path(), 0).string()))
              << s->error().message;
        }
        EXPECT_EQ(faults.fired(fault_op::datasync), 1U) << "one fdatasync failed; it must not be retried";
        EXPECT_EQ(log->durable_offset().value(), 0);

        // Refused from now on: the kernel may have dropped the pages a retry would acknowledge.
        auto appended = log->append(make_batch(end, 1));
        ASSERT_FALSE(appended.has_value());
        EXPECT_EQ(appended.error().code, errc::log_failed);
        auto synced = env.sync(*log);
        ASSERT_FALSE(synced.has_value());
        EXPECT_EQ(synced.error().code, errc::log_failed);
        expect_error(log->roll(), errc::log_failed);
        expect_error(log->apply_retention(), errc::log_failed);
        EXPECT_EQ(faults.fired(fault_op::datasync), 1U);
        // What was appended can still be read.
        expect_log_holds(*log, end);
        auto closed = log->close();
        ASSERT_FALSE(closed.has_value());
        EXPECT_EQ(closed.error().code, errc::log_failed);
    }
    fault_injection::clear();
    log_env env;
    auto log = must_open(env, dir.path());
    ASSERT_NE(log, nullptr);
    EXPECT_FALSE(log->recovery().clean);
    EXPECT_EQ(log->recovery().bytes_truncated, 0U);
    expect_log_holds(*log, end);
    end = append_batches(*log, end, 2);
    auto synced = env.sync(*log);
    ASSERT_TRUE(synced.has_value()) << synced.error().message;
    EXPECT_EQ(synced->value(), end);
}

TEST(fault_injection, close_waits_for_a_failing_group_commit_and_reports_it) {
    temp_dir dir;
    fault_injection::guard faults;
    int64_t end = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path());
        end = append_batches(*log, end, 3);
        faults.arm({.op = fault_op::datasync, .error = EIO, .path_contains = ".log"});
        std::optional<result<model::offset>> seen;
        log->sync([&](result<model::offset> r) { seen.emplace(std::move(r)); });
        // Closing while the group commit runs: close() waits for it and reports its failure.
        auto closed = log->close();
        ASSERT_FALSE(closed.has_value());
        EXPECT_EQ(closed.error().code, errc::log_failed);
        ASSERT_TRUE(seen.has_value()) << "the waiting sync was not completed";
        ASSERT_FALSE(seen->has_value());
        EXPECT_EQ(seen->error().code, errc::log_failed);
        expect_error(log->close(), errc::log_failed); // and keeps reporting it
        expect_error(log->read(model::offset(0), 1024), errc::closed);
        env.exec.run_pending(); // the flusher's posted completion finds the log closed
    }
    fault_injection::clear();
    {
        log_env env;
        auto log = must_open(env, dir.path());
        expect_log_holds(*log, end);
        end = append_batches(*log, end, 2);
        log->sync([](const result<model::offset>&) {});
        // crash while the group commit runs: the destructor lets it finish first
    }
    log_env env;
    auto log = must_open(env, dir.path());
    EXPECT_EQ(log->recovery().bytes_truncated, 0U);
    expect_log_holds(*log, end);
}

TEST(fault_injection, failed_index_or_directory_sync_in_a_group_commit_fails_the_log) {
    struct step {
        const char* what;
        fault_op op;
        const char* path;
        const char* says;
    };
    for (const step& s : {step{"index fsync", fault_op::datasync, ".timeindex", "fsync"},
                          step{"index open", fault_op::open, ".index", "open"},
                          step{"checkpoint rename", fault_op::rename, "checkpoint", "rename"}}) {
        temp_dir dir;
        fault_injection::guard faults;
        log_env env;
        log_config cfg;
        cfg.segment_bytes = 1024;
        auto log = must_open(env, dir.path(), cfg);
        int64_t end = 0;
        while (log->segments().size() < 2) { // a sealed segment: the sync covers its index files
            end = append_batches(*log, end, 1);
        }
        faults.arm({.op = s.op, .error = EIO, .path_contains = s.path});
        auto synced = env.sync(*log);
        ASSERT_FALSE(synced.has_value()) << s.what;
        EXPECT_EQ(synced.error().code, errc::log_failed) << s.what;
        EXPECT_TRUE(contains(synced.error().message, s.says)) << s.what << ": " << synced.error().message;
        EXPECT_TRUE(contains(synced.error().message, s.path)) << s.what << ": " << synced.error().message;
        EXPECT_EQ(faults.fired(s.op), 1U) << s.what;
        expect_error(log->append(make_batch(end, 1)), errc::log_failed);
        expect_log_holds(*log, end);
    }
}

TEST(fault_injection, index_file_removed_before_the_flusher_syncs_it_is_skipped) {
    temp_dir dir;
    fault_injection::guard faults;
    log_env env;
    log_config cfg;
    cfg.segment_bytes = 1024;
    auto log = must_open(env, dir.path(), cfg);
    int64_t end = 0;
    while (log->segments().size() < 2) {
        end = append_batches(*log, end, 1);
    }
    // As if retention deleted the sealed segment between the job's making and its run.
    faults.arm({.op = fault_op::open, .error = ENOENT, .path_contains = ".index"});
    auto synced = env.sync(*log);
    ASSERT_TRUE(synced.has_value()) << synced.error().message;
    EXPECT_EQ(synced->value(), end);
    EXPECT_EQ(faults.fired(fault_op::open), 1U);
}

TEST(fault_injection, failed_directory_fsync_fails_the_open_of_a_new_log) {
    temp_dir dir;
    fault_injection::guard faults;
    const auto data = dir.path() / "p";
    // Creating the first segment must reach the disk before the log is usable.
    faults.arm({.op = fault_op::datasync, .error = EIO, .path_contains = data.string()});
    log_env env;
    auto log = env.open(data);
    ASSERT_FALSE(log.has_value());
    EXPECT_EQ(log.error().code, errc::io_error);
    EXPECT_TRUE(contains(log.error().message, "fsync directory " + data.string())) << log.error().message;
    // Opening the directory to fsync it: the third open on a path under `data`, after listing it and
    // creating the first segment.
    fault_injection::clear();
    std::filesystem::remove_all(data);
    faults.arm(
      {.op = fault_op::open, .error = EMFILE, .path_contains = data.string(), .times = 1, .skip = 2});
    log = env.open(data);
    ASSERT_FALSE(log.has_value());
    EXPECT_EQ(log.error().message, "open " + data.string() + ": Too many open files");
    fault_injection::clear();
    EXPECT_NE(must_open(env, data), nullptr);
}

// --- append --------------------------------------------------------------------------------------

TEST(fault_injection, write_failure_mid_append_leaves_no_partial_batch) {
    temp_dir dir;
    fault_injection::guard faults;
    log_env env;
    auto log = must_open(env, dir.path());
    int64_t end = append_batches(*log, 0, 3);
    const uint64_t size = log->size_bytes();
    // The device takes the first 40 bytes of the batch, then fails.
    faults.arm({.op = fault_op::write, .error = EIO, .path_contains = ".log", .torn_bytes = 40});
    auto failed = log->append(make_batch(end, 4));
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(faults.fired(fault_op::write), 1U);
    EXPECT_EQ(failed.error().code, errc::io_error);
    EXPECT_TRUE(contains(failed.error().message, segment_file(dir.path(), 0).string()))
      << failed.error().message;
    EXPECT_TRUE(contains(failed.error().message, "Input/output error")) << failed.error().message;
    EXPECT_EQ(log->log_end_offset().value(), end);
    EXPECT_EQ(log->size_bytes(), size);
    EXPECT_EQ(std::filesystem::file_size(segment_file(dir.path(), 0)), size) << "a partial batch was left";

    auto next = log->append(make_batch(end, 4));
    ASSERT_TRUE(next.has_value()) << next.error().message;
    EXPECT_EQ(next->base_offset.value(), end);
    end += 4;
    expect_log_holds(*log, end);
    ASSERT_TRUE(env.sync(*log).has_value());
    log.reset(); // crash
    log_env env2;
    auto reopened = must_open(env2, dir.path());
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(reopened->recovery().bytes_truncated, 0U);
    expect_log_holds(*reopened, end);
}

TEST(fault_injection, full_file_system_is_no_space_with_a_hint) {
    for (int e : {ENOSPC, EDQUOT}) {
        temp_dir dir;
        fault_injection::guard faults;
        log_env env;
        auto log = must_open(env, dir.path());
        int64_t end = append_batches(*log, 0, 2);
        faults.arm({.op = fault_op::write, .error = e, .path_contains = ".log", .torn_bytes = 17});
        auto failed = log->append(make_batch(end, 4));
        ASSERT_FALSE(failed.has_value());
        EXPECT_EQ(failed.error().code, errc::no_space) << e;
        EXPECT_TRUE(contains(failed.error().message, "free space on the data directory's file system"))
          << failed.error().message;
        EXPECT_EQ(std::filesystem::file_size(segment_file(dir.path(), 0)), log->size_bytes());
        end = append_batches(*log, end, 1); // space is back
        expect_log_holds(*log, end);
    }
}

TEST(fault_injection, failed_cut_back_after_a_failed_write_fails_the_log_and_reopen_removes_the_tail) {
    temp_dir dir;
    fault_injection::guard faults;
    int64_t end = 0;
    uint64_t size = 0;
    {
        log_env env;
        log_config cfg;
        cfg.segment_bytes = 1024; // small: appending on would soon seal the damaged segment
        auto log = must_open(env, dir.path(), cfg);
        end = append_batches(*log, 0, 2);
        ASSERT_TRUE(env.sync(*log).has_value());
        size = log->size_bytes();
        faults.arm({.op = fault_op::write, .error = EIO, .path_contains = ".log", .torn_bytes = 40});
        faults.arm({.op = fault_op::truncate, .error = EIO, .path_contains = ".log"});
        auto failed = log->append(make_batch(end, 4));
        ASSERT_FALSE(failed.has_value());
        EXPECT_EQ(failed.error().code, errc::log_failed);
        EXPECT_TRUE(contains(failed.error().message, "write ")) << failed.error().message;
        EXPECT_TRUE(contains(failed.error().message, "truncate ")) << failed.error().message;
        EXPECT_EQ(std::filesystem::file_size(segment_file(dir.path(), 0)), size + 40);
        // The segment ends in a partial batch: nothing may be appended after it.
        fault_injection::clear();
        expect_error(log->append(make_batch(end, 4)), errc::log_failed);
        expect_error(log->roll(), errc::log_failed);
        auto synced = env.sync(*log);
        ASSERT_FALSE(synced.has_value());
        EXPECT_EQ(synced.error().code, errc::log_failed);
        expect_log_holds(*log, end);
        EXPECT_FALSE(log->close().has_value());
    }
    log_env env;
    auto log = must_open(env, dir.path());
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->recovery().bytes_truncated, 40U);
    expect_log_holds(*log, end);
    EXPECT_EQ(std::filesystem::file_size(segment_file(dir.path(), 0)), size);
    end = append_batches(*log, end, 1);
    expect_log_holds(*log, end);
}

TEST(fault_injection, failed_segment_creation_on_roll_fails_the_append_only) {
    for (fault_op op : {fault_op::open, fault_op::stat}) {
        temp_dir dir;
        fault_injection::guard faults;
        log_env env;
        log_config cfg;
        cfg.segment_bytes = 1024;
        auto log = must_open(env, dir.path(), cfg);
        int64_t end = 0;
        faults.arm({.op = op, .error = EACCES, .path_contains = ".log"});
        std::optional<error> failure;
        while (!failure) {
            auto r = log->append(make_batch(end, 4));
            if (r) {
                end += 4;
            } else {
                failure = r.error();
            }
        }
        EXPECT_EQ(faults.fired(op), 1U);
        EXPECT_EQ(failure->code, errc::io_error);
        EXPECT_TRUE(
          contains(failure->message, segment_file(dir.path(), end).string() + ": Permission denied"))
          << failure->message;
        EXPECT_EQ(log->segments().size(), 1U);
        EXPECT_FALSE(log->segments().front().sealed);
        end = append_batches(*log, end, 1); // the roll succeeds now
        EXPECT_EQ(log->segments().size(), 2U);
        expect_log_holds(*log, end);
    }
}

// --- indexes -------------------------------------------------------------------------------------

TEST(fault_injection, index_write_failure_on_roll_is_retried_at_the_next_sync) {
    for (fault_op op : {fault_op::open, fault_op::truncate, fault_op::write}) {
        temp_dir dir;
        fault_injection::guard faults;
        log_config cfg;
        cfg.segment_bytes = 2048;
        cfg.index_interval_bytes = 128;
        const auto index = segment_file(dir.path(), 0, ".index");
        const auto time_index = segment_file(dir.path(), 0, ".timeindex");
        int64_t end = 0;
        {
            log_env env;
            auto log = must_open(env, dir.path(), cfg);
            faults.arm({.op = op, .error = EIO, .path_contains = ".index"});
            while (log->segments().size() < 2) {
                end = append_batches(*log, end, 1, 4, 1000 + end);
            }
            EXPECT_EQ(faults.fired(op), 1U);
            EXPECT_FALSE(std::filesystem::exists(index) && std::filesystem::file_size(index) > 0)
              << "the roll's index write was to fail";
            auto synced = env.sync(*log);
            ASSERT_TRUE(synced.has_value()) << synced.error().message;
            EXPECT_EQ(synced->value(), end);
            const auto written = std::filesystem::file_size(index);
            EXPECT_GT(written, 0U);
            EXPECT_EQ(written % segment_index::offset_entry_size, 0U);
            EXPECT_GT(std::filesystem::file_size(time_index), 0U);
            end = append_batches(*log, end, 3, 4, 1000 + end);
            ASSERT_TRUE(log->close().has_value());
        }
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        ASSERT_NE(log, nullptr);
        EXPECT_TRUE(log->recovery().clean);
        EXPECT_EQ(log->recovery().segments_scanned, 0U);
        expect_log_holds(*log, end);
        for (int64_t o = 0; o < end; o += 3) {
            auto r = log->read(model::offset(o), 1);
            ASSERT_TRUE(r.has_value());
            EXPECT_LE(r->first_offset.value(), o);
            EXPECT_GT(r->next_offset.value(), o);
            // The record at offset o has timestamp 1000 + o.
            auto t = log->offset_for_timestamp(model::timestamp(1000 + o));
            ASSERT_TRUE(t.has_value());
            ASSERT_TRUE(t->has_value()) << "offset " << o << " of " << end;
            EXPECT_EQ((*t)->value(), o);
        }
    }
}

TEST(fault_injection, open_fails_when_recovery_cannot_write_a_rebuilt_index) {
    temp_dir dir;
    fault_injection::guard faults;
    log_config cfg;
    cfg.segment_bytes = 1024;
    int64_t end = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        while (log->segments().size() < 2) {
            end = append_batches(*log, end, 1);
        }
    } // crash before any sync: both segments are scanned and the sealed one's indexes rebuilt
    faults.arm({.op = fault_op::open, .error = EACCES, .path_contains = ".index"});
    log_env env;
    auto failed = env.open(dir.path(), cfg);
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().message,
              "open " + segment_file(dir.path(), 0, ".index").string() + ": Permission denied");
    fault_injection::clear();
    auto log = must_open(env, dir.path(), cfg);
    ASSERT_NE(log, nullptr);
    expect_log_holds(*log, end);
}

TEST(fault_injection, sync_that_cannot_write_an_index_keeps_its_segment_in_the_recovery_scan) {
    temp_dir dir;
    fault_injection::guard faults;
    log_config cfg;
    cfg.segment_bytes = 1024;
    int64_t end = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        faults.arm(
          {.op = fault_op::open, .error = EACCES, .path_contains = ".index", .times = fault::always});
        while (log->segments().size() < 3) {
            end = append_batches(*log, end, 1);
        }
        // The data is durable even though the indexes are not: the sync succeeds.
        auto synced = env.sync(*log);
        ASSERT_TRUE(synced.has_value()) << synced.error().message;
        EXPECT_EQ(synced->value(), end);
        EXPECT_GE(faults.fired(fault_op::open), 4U); // at each roll and again at the sync
        // crash
    }
    fault_injection::clear();
    log_env env;
    auto log = must_open(env, dir.path(), cfg);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->recovery().segments_scanned, 3U) << "segments without durable indexes must be scanned";
    EXPECT_EQ(log->recovery().bytes_truncated, 0U);
    expect_log_holds(*log, end);
}

TEST(fault_injection, index_write_failure_at_close_is_reported_and_the_index_is_not_trusted) {
    temp_dir dir;
    fault_injection::guard faults;
    log_config cfg;
    cfg.index_interval_bytes = 128;
    int64_t end = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        end = append_batches(*log, end, 10, 4, 1000);
        ASSERT_TRUE(log->close().has_value());
    }
    int64_t peak_offset = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        EXPECT_TRUE(log->recovery().clean);
        // The segment's largest timestamp comes early, followed by many index intervals of older
        // timestamps: only the time index (or a scan) knows it.
        peak_offset = end;
        end = append_batches(*log, end, 1, 1, 900'000);
        end = append_batches(*log, end, 20, 4, 2000);
        faults.arm({.op = fault_op::open, .error = EACCES, .path_contains = ".timeindex"});
        auto closed = log->close();
        ASSERT_FALSE(closed.has_value()) << "close must not report a clean shutdown it did not make";
        EXPECT_EQ(closed.error().code, errc::io_error);
        EXPECT_TRUE(contains(closed.error().message, segment_file(dir.path(), 0, ".timeindex").string()))
          << closed.error().message;
        EXPECT_TRUE(contains(closed.error().message, "Permission denied")) << closed.error().message;
        EXPECT_EQ(faults.fired(fault_op::open), 1U);
    }
    fault_injection::clear();
    log_env env;
    auto log = must_open(env, dir.path(), cfg);
    ASSERT_NE(log, nullptr);
    EXPECT_FALSE(log->recovery().clean) << "the stale time index would be trusted";
    expect_log_holds(*log, end);
    EXPECT_EQ(log->max_timestamp(), model::timestamp(900'000));
    auto t = log->offset_for_timestamp(model::timestamp(900'000));
    ASSERT_TRUE(t.has_value());
    ASSERT_TRUE(t->has_value());
    EXPECT_EQ((*t)->value(), peak_offset);
}

// --- close ---------------------------------------------------------------------------------------

TEST(fault_injection, checkpoint_write_failure_at_close_is_reported_and_the_reopen_scans) {
    struct step {
        const char* what;
        fault_op op;
    };
    // Every step of the atomic write: temp file open, truncate, write, fdatasync, rename.
    for (const step& s :
         {step{"open", fault_op::open}, step{"truncate", fault_op::truncate}, step{"write", fault_op::write},
          step{"fdatasync", fault_op::datasync}, step{"rename", fault_op::rename}}) {
        temp_dir dir;
        fault_injection::guard faults;
        int64_t end = 0;
        {
            log_env env;
            auto log = must_open(env, dir.path());
            end = append_batches(*log, end, 5);
            ASSERT_TRUE(log->close().has_value()); // leaves a clean checkpoint behind
        }
        {
            log_env env;
            auto log = must_open(env, dir.path());
            end = append_batches(*log, end, 5);
            faults.arm({.op = s.op, .error = EIO, .path_contains = "checkpoint.tmp"});
            auto closed = log->close();
            ASSERT_FALSE(closed.has_value()) << s.what;
            EXPECT_TRUE(contains(closed.error().message, s.what)) << closed.error().message;
            EXPECT_TRUE(contains(closed.error().message, "checkpoint")) << closed.error().message;
            EXPECT_EQ(faults.fired(s.op), 1U) << s.what;
            auto again = log->close();
            ASSERT_FALSE(again.has_value()) << "a retried close must not claim a clean shutdown";
            expect_error(log->read(model::offset(0), 1024), errc::closed);
            expect_error(log->offset_for_timestamp(model::timestamp(0)), errc::closed);
        }
        fault_injection::clear();
        // The temp file left behind cannot be removed either: harmless, the next write replaces it.
        const bool temp_left = std::filesystem::exists(dir.path() / "checkpoint.tmp");
        faults.arm({.op = fault_op::unlink, .error = EACCES, .path_contains = "checkpoint.tmp"});
        log_env env;
        auto log = must_open(env, dir.path());
        ASSERT_NE(log, nullptr);
        EXPECT_EQ(faults.fired(fault_op::unlink), temp_left ? 1U : 0U) << s.what;
        EXPECT_FALSE(log->recovery().clean) << s.what;
        EXPECT_EQ(log->recovery().segments_scanned, 1U) << s.what;
        EXPECT_EQ(log->recovery().bytes_truncated, 0U) << s.what;
        EXPECT_FALSE(std::filesystem::exists(dir.path() / "checkpoint.tmp")) << s.what;
        expect_log_holds(*log, end);
    }
}

// --- read ----------------------------------------------------------------------------------------

TEST(fault_injection, read_failure_is_an_error_not_a_crash) {
    temp_dir dir;
    fault_injection::guard faults;
    log_env env;
    log_config cfg;
    cfg.segment_bytes = 2048;
    auto log = must_open(env, dir.path(), cfg);
    const int64_t end = append_batches(*log, 0, 40);
    faults.arm({.op = fault_op::read, .error = EIO, .path_contains = ".log", .times = fault::always});
    for (int64_t o : {int64_t{0}, end / 2, end - 1}) {
        auto r = log->read(model::offset(o), 1 << 20);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, errc::io_error);
        EXPECT_TRUE(contains(r.error().message, "Input/output error")) << r.error().message;
        auto t = log->offset_for_timestamp(model::timestamp(1000 + o / 4));
        ASSERT_FALSE(t.has_value());
        EXPECT_EQ(t.error().code, errc::io_error);
    }
    fault_injection::clear();
    // The header is read, the records are not.
    faults.arm({.op = fault_op::read, .error = EIO, .path_contains = ".log", .skip = 1});
    auto t = log->offset_for_timestamp(model::timestamp(1002));
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code, errc::io_error);
    // The batches after the first one of a read.
    faults.arm({.op = fault_op::read, .error = EIO, .path_contains = ".log", .skip = 2});
    auto r = log->read(model::offset(0), 1 << 20);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::io_error);
    fault_injection::clear();
    expect_log_holds(*log, end); // nothing sticks
}

TEST(fault_injection, unreadable_checkpoint_or_index_is_rebuilt_by_a_scan) {
    struct step {
        const char* what;
        fault_op op;
        const char* path;
    };
    for (const step& s : {step{"checkpoint read", fault_op::read, "checkpoint"},
                          step{"checkpoint size", fault_op::stat, "checkpoint"},
                          step{"log size", fault_op::stat, "00000000000000000000.log"},
                          step{"offset index read", fault_op::read, ".index"},
                          step{"time index read", fault_op::read, ".timeindex"},
                          step{"log tail read", fault_op::read, ".log"}}) {
        temp_dir dir;
        fault_injection::guard faults;
        log_config cfg;
        cfg.index_interval_bytes = 128;
        int64_t end = 0;
        {
            log_env env;
            auto log = must_open(env, dir.path(), cfg);
            end = append_batches(*log, end, 20);
            ASSERT_TRUE(log->close().has_value());
        }
        faults.arm({.op = s.op, .error = EIO, .path_contains = s.path});
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        ASSERT_NE(log, nullptr) << s.what;
        EXPECT_EQ(faults.fired(s.op), 1U) << s.what;
        EXPECT_EQ(log->recovery().segments_scanned, 1U) << s.what;
        EXPECT_EQ(log->recovery().bytes_truncated, 0U) << s.what;
        expect_log_holds(*log, end);
    }
}

// --- open ----------------------------------------------------------------------------------------

TEST(fault_injection, open_failure_names_the_path) {
    temp_dir dir;
    fault_injection::guard faults;
    log_config cfg;
    cfg.segment_bytes = 1024;
    int64_t second_base = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        int64_t end = 0;
        while (log->segments().size() < 3) {
            end = append_batches(*log, end, 1);
        }
        second_base = log->segments()[1].base_offset.value();
        ASSERT_TRUE(log->close().has_value());
    }
    struct step {
        const char* what;
        fault_op op;
        std::string path;
        std::string says;
    };
    const std::string second = segment_file(dir.path(), second_base).string();
    for (const step& s :
         {step{"segment open", fault_op::open, second, "open " + second + ": Permission denied"},
          step{"segment size", fault_op::stat, second, "fstat " + second + ": Permission denied"},
          step{"directory listing", fault_op::open, dir.path().string(),
               "list directory " + dir.path().string() + ": Permission denied"}}) {
        faults.arm({.op = s.op, .error = EACCES, .path_contains = s.path, .times = fault::always});
        log_env env;
        auto log = env.open(dir.path(), cfg);
        ASSERT_FALSE(log.has_value()) << s.what;
        EXPECT_EQ(log.error().code, errc::io_error) << s.what;
        EXPECT_TRUE(contains(log.error().message, s.says)) << s.what << ": " << log.error().message;
        fault_injection::clear();
    }
    log_env env;
    EXPECT_NE(must_open(env, dir.path(), cfg), nullptr);
}

TEST(fault_injection, open_failure_of_a_new_log_names_the_path) {
    temp_dir dir;
    fault_injection::guard faults;
    { std::ofstream not_a_directory(dir.path() / "file"); }
    log_env env;
    auto under_file = env.open(dir.path() / "file" / "p");
    ASSERT_FALSE(under_file.has_value());
    EXPECT_EQ(under_file.error().code, errc::io_error);
    EXPECT_TRUE(
      contains(under_file.error().message, "create directory " + (dir.path() / "file" / "p").string()))
      << under_file.error().message;

    const auto data = dir.path() / "p";
    const std::string first = segment_file(data, 0).string();
    for (fault_op op : {fault_op::open, fault_op::stat}) {
        faults.arm({.op = op, .error = EACCES, .path_contains = ".log"});
        auto failed = env.open(data);
        ASSERT_FALSE(failed.has_value());
        EXPECT_TRUE(contains(failed.error().message, first + ": Permission denied"))
          << failed.error().message;
        fault_injection::clear();
    }
    EXPECT_NE(must_open(env, data), nullptr);
}

TEST(fault_injection, failed_truncation_of_a_torn_tail_fails_the_open) {
    temp_dir dir;
    fault_injection::guard faults;
    int64_t end = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path());
        end = append_batches(*log, end, 5);
        ASSERT_TRUE(env.sync(*log).has_value());
    } // crash
    {
        std::ofstream torn(segment_file(dir.path(), 0), std::ios::binary | std::ios::app);
        torn << "half a batch header";
    }
    faults.arm({.op = fault_op::truncate, .error = EIO, .path_contains = ".log"});
    log_env env;
    auto failed = env.open(dir.path());
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code, errc::io_error);
    EXPECT_TRUE(contains(failed.error().message, "truncate " + segment_file(dir.path(), 0).string()))
      << failed.error().message;
    fault_injection::clear();
    auto log = must_open(env, dir.path());
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->recovery().bytes_truncated, std::string_view("half a batch header").size());
    expect_log_holds(*log, end);
}

TEST(fault_injection, failed_read_during_the_recovery_scan_fails_the_open) {
    struct step {
        fault_op op;
        uint32_t skip;
        const char* says;
    };
    // The scan reads the size (after the open's own fstat), then the batches.
    for (const step& s : {step{fault_op::read, 0, "read "}, step{fault_op::stat, 1, "fstat "}}) {
        temp_dir dir;
        fault_injection::guard faults;
        {
            log_env env;
            auto log = must_open(env, dir.path());
            append_batches(*log, 0, 5);
        } // crash: the next open scans
        faults.arm({.op = s.op, .error = EIO, .path_contains = ".log", .times = 1, .skip = s.skip});
        log_env env;
        auto failed = env.open(dir.path());
        ASSERT_FALSE(failed.has_value());
        EXPECT_EQ(failed.error().code, errc::io_error);
        EXPECT_TRUE(contains(failed.error().message, s.says + segment_file(dir.path(), 0).string()))
          << failed.error().message;
        EXPECT_EQ(faults.fired(s.op), 1U);
    }
}

TEST(fault_injection, segment_that_recovery_cannot_remove_fails_the_open) {
    temp_dir dir;
    fault_injection::guard faults;
    log_config cfg;
    cfg.segment_bytes = 1024;
    int64_t end = 0;
    int64_t second_base = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        while (log->segments().size() < 2) {
            end = append_batches(*log, end, 1);
        }
        second_base = log->segments()[1].base_offset.value();
        ASSERT_TRUE(env.sync(*log).has_value());
    } // crash
    // Damage the first segment's last batch: recovery truncates it and must drop the second.
    const auto first = segment_file(dir.path(), 0);
    std::filesystem::resize_file(first, std::filesystem::file_size(first) - 1);
    {
        log_env env;
        // The first segment is trusted after the sync (below the recovery point) unless its
        // indexes are gone: remove them so that it is scanned.
        std::filesystem::remove(segment_file(dir.path(), 0, ".index"));
        faults.arm({.op = fault_op::unlink,
                    .error = EACCES,
                    .path_contains = segment::file_stem(model::offset(second_base))});
        auto failed = env.open(dir.path(), cfg);
        ASSERT_FALSE(failed.has_value());
        EXPECT_TRUE(contains(failed.error().message, segment::file_stem(model::offset(second_base))))
          << failed.error().message;
        EXPECT_TRUE(contains(failed.error().message, "Permission denied")) << failed.error().message;
        EXPECT_TRUE(std::filesystem::exists(segment_file(dir.path(), second_base)));
    }
    fault_injection::clear();
    log_env env;
    auto log = must_open(env, dir.path(), cfg);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->recovery().segments_removed, 1U);
    EXPECT_FALSE(std::filesystem::exists(segment_file(dir.path(), second_base)));
    EXPECT_LT(log->log_end_offset().value(), second_base);
    expect_log_holds(*log, log->log_end_offset().value());
}

// --- retention -----------------------------------------------------------------------------------

TEST(fault_injection, unlink_failure_during_retention_keeps_the_segment_and_the_log_start) {
    // Whichever of the segment's files cannot be removed, the log start stays at that segment, it
    // stays readable, and a restart agrees.
    for (const char* ext : {".log", ".index", ".timeindex"}) {
        temp_dir dir;
        fault_injection::guard faults;
        log_config cfg;
        cfg.segment_bytes = 1024;
        int64_t end = 0;
        int64_t stuck = 0;
        {
            log_env env;
            auto log = must_open(env, dir.path(), cfg);
            while (log->segments().size() < 6) {
                end = append_batches(*log, end, 1);
            }
            ASSERT_TRUE(env.sync(*log).has_value());
            const auto segs = log->segments();
            stuck = segs[2].base_offset.value();
            cfg.retention_bytes = 1; // everything but the active segment must go
            ASSERT_TRUE(log->set_config(cfg).has_value());
            faults.arm({.op = fault_op::unlink,
                        .error = EACCES,
                        .path_contains = segment::file_stem(model::offset(stuck)) + ext});
            auto removed = log->apply_retention();
            ASSERT_FALSE(removed.has_value()) << ext;
            EXPECT_EQ(removed.error().code, errc::io_error);
            EXPECT_TRUE(contains(removed.error().message, segment_file(dir.path(), stuck, ext).string()))
              << removed.error().message;
            EXPECT_TRUE(contains(removed.error().message, "Permission denied")) << removed.error().message;
            EXPECT_EQ(log->log_start_offset().value(), stuck) << ext;
            EXPECT_EQ(log->segments().front().base_offset.value(), stuck) << ext;
            EXPECT_FALSE(std::filesystem::exists(segment_file(dir.path(), 0)));
            EXPECT_TRUE(std::filesystem::exists(segment_file(dir.path(), stuck))) << ext;
            expect_log_holds(*log, end);
            // crash
        }
        fault_injection::clear();
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        ASSERT_NE(log, nullptr);
        EXPECT_EQ(log->log_start_offset().value(), stuck) << ext << ": the restart disagrees";
        expect_log_holds(*log, end);
        auto removed = log->apply_retention();
        ASSERT_TRUE(removed.has_value()) << removed.error().message;
        EXPECT_EQ(log->segments().size(), 1U);
        EXPECT_FALSE(std::filesystem::exists(segment_file(dir.path(), stuck))) << ext;
    }
}

// A batch whose records carry no timestamps: retention by time judges its segment by the file's
// modification time.
iobuf untimed_batch(int64_t first, int32_t count) {
    model::record_batch_builder b{model::no_timestamp};
    for (int32_t i = 0; i < count; ++i) {
        b.add("key-" + std::to_string(first + i), testing::value_for(first + i));
    }
    return b.build(model::offset(first));
}

TEST(fault_injection, retention_by_time_keeps_what_it_cannot_judge_or_remove) {
    {
        temp_dir dir;
        fault_injection::guard faults;
        log_env env;
        log_config cfg;
        cfg.segment_bytes = 1024;
        cfg.retention_ms = 60'000;
        auto log = must_open(env, dir.path(), cfg);
        int64_t end = 0;
        while (log->segments().size() < 3) {
            ASSERT_TRUE(log->append(untimed_batch(end, 4)).has_value());
            end += 4;
        }
        // An hour after the files were written, but their age cannot be read: they stay.
        const auto wall = std::chrono::system_clock::now().time_since_epoch();
        env.clock->store(std::chrono::duration_cast<std::chrono::milliseconds>(wall).count() + 3'600'000);
        faults.arm({.op = fault_op::stat, .error = EIO, .path_contains = ".log", .times = fault::always});
        auto kept = log->apply_retention();
        ASSERT_TRUE(kept.has_value()) << kept.error().message;
        EXPECT_EQ(kept->segments_removed, 0U);
        EXPECT_GE(faults.fired(fault_op::stat), 1U);
        expect_log_holds(*log, end);
        fault_injection::clear();
        auto removed = log->apply_retention();
        ASSERT_TRUE(removed.has_value()) << removed.error().message;
        EXPECT_EQ(removed->segments_removed, 3U);
        EXPECT_EQ(log->log_start_offset().value(), end);
    }
    // Everything expired: the active segment is rolled, then removed. Either step may fail.
    for (fault_op op : {fault_op::open, fault_op::unlink}) {
        temp_dir dir;
        fault_injection::guard faults;
        log_env env;
        log_config cfg;
        cfg.retention_ms = 10'000;
        auto log = must_open(env, dir.path(), cfg);
        const int64_t end = append_batches(*log, 0, 5, 4, env.clock->load() - 60'000);
        faults.arm({.op = op, .error = EACCES, .path_contains = ".log"});
        auto failed = log->apply_retention();
        ASSERT_FALSE(failed.has_value());
        EXPECT_TRUE(contains(failed.error().message, "Permission denied")) << failed.error().message;
        EXPECT_EQ(faults.fired(op), 1U);
        EXPECT_EQ(log->log_start_offset().value(), 0);
        expect_log_holds(*log, end);
        fault_injection::clear();
        ASSERT_TRUE(log->apply_retention().has_value());
        EXPECT_EQ(log->log_start_offset().value(), end);
        EXPECT_EQ(log->log_end_offset().value(), end);
    }
}

} // namespace
} // namespace ms::storage
