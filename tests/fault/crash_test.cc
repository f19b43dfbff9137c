// Crash durability: a writer process appends and syncs while this test kills it with SIGKILL at
// random moments, over several cycles on the same directory. After each kill the log is reopened:
// every offset the writer was told is durable must be there, intact, at its offset.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "storage/tests/log_test_support.h"

#ifndef MS_CRASH_WRITER
#error "MS_CRASH_WRITER must name the crash_writer binary"
#endif

namespace ms::storage {
namespace {

using testing::expect_records_match_offsets;
using testing::log_env;
using testing::slurp;
using testing::split_batches;
using testing::temp_dir;

struct child_run {
    int64_t max_durable = -1;
    size_t reports = 0;
};

// Runs the writer for `run_ms` milliseconds, then SIGKILLs it; returns what it reported.
child_run run_and_kill(const std::filesystem::path& dir, uint64_t seed, int run_ms) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        const std::string seed_text = std::to_string(seed);
        ::execl(MS_CRASH_WRITER, MS_CRASH_WRITER, dir.c_str(), seed_text.c_str(), "20", nullptr);
        std::_Exit(127);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    EXPECT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
      << "writer failed on its own: status " << status;
    child_run run;
    std::istringstream lines(out);
    std::string word;
    int64_t value = 0;
    while (lines >> word >> value) {
        if (word == "durable") {
            run.max_durable = std::max(run.max_durable, value);
            ++run.reports;
        }
    }
    return run;
}

TEST(crash, sigkill_never_loses_an_offset_reported_durable) {
    temp_dir dir;
    const auto data = dir.path() / "p";
    std::mt19937_64 rng(0xC0FFEE);
    int64_t durable_so_far = 0;
    size_t total_reports = 0;
    for (int cycle = 0; cycle < 12; ++cycle) {
        const int run_ms = 60 + static_cast<int>(rng() % 400);
        const child_run run = run_and_kill(data, rng(), run_ms);
        total_reports += run.reports;
        durable_so_far = std::max(durable_so_far, run.max_durable);

        log_env env;
        auto log = env.open(data);
        ASSERT_TRUE(log.has_value()) << "cycle " << cycle << ": " << log.error().message;
        EXPECT_GE((*log)->log_end_offset().value(), durable_so_far)
          << "cycle " << cycle << ": an offset reported durable is missing";
        auto r = (*log)->read(model::offset(0), 1ULL << 32);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->next_offset, (*log)->log_end_offset());
        auto bytes = slurp(*r);
        auto headers = split_batches(bytes);
        int64_t expect = 0;
        for (const auto& h : headers) {
            ASSERT_EQ(h.base_offset.value(), expect) << "offsets are not dense";
            expect = h.last_offset().next().value();
        }
        expect_records_match_offsets(bytes);
        // Close cleanly half of the time, so both restart paths are crossed by later kills.
        if (cycle % 2 == 0) {
            ASSERT_TRUE((*log)->close().has_value());
        }
    }
    EXPECT_GT(total_reports, 12U) << "the writer hardly ever reported a sync: the test proved little";
    EXPECT_GT(durable_so_far, 0);
}

} // namespace
} // namespace ms::storage
