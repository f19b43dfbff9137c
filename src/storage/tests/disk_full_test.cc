// Disk full: the log lives on a small tmpfs mounted by the test (needs root, as in CI), so the
// ENOSPC comes from a real file system. An append that does not fit fails with no_space and
// leaves no partial batch; everything before it stays readable, and appends work again once space
// is freed.

#include <sys/mount.h>

#include <fstream>

#include <gtest/gtest.h>

#include "storage/tests/log_test_support.h"

namespace ms::storage {
namespace {

using testing::expect_records_match_offsets;
using testing::log_env;
using testing::make_batch;
using testing::slurp;
using testing::temp_dir;

class small_tmpfs {
public:
    explicit small_tmpfs(const std::filesystem::path& where, const char* size) : _where(where) {
        _mounted = ::mount("tmpfs", where.c_str(), "tmpfs", 0, size) == 0;
    }
    ~small_tmpfs() {
        if (_mounted) {
            ::umount2(_where.c_str(), MNT_DETACH);
        }
    }
    small_tmpfs(const small_tmpfs&) = delete;
    small_tmpfs& operator=(const small_tmpfs&) = delete;
    [[nodiscard]] bool mounted() const { return _mounted; }

private:
    std::filesystem::path _where;
    bool _mounted = false;
};

TEST(disk_full, append_fails_cleanly_and_recovers_when_space_returns) {
    temp_dir dir;
    small_tmpfs fs(dir.path(), "size=256k");
    if (!fs.mounted()) {
        GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
    }
    const auto data = dir.path() / "p";
    const auto filler = dir.path() / "filler";
    {
        // Leave ~40 KiB free so the log fills up quickly.
        std::ofstream f(filler, std::ios::binary);
        std::string block(4096, 'x');
        for (int i = 0; i < 50; ++i) {
            f.write(block.data(), static_cast<std::streamsize>(block.size()));
        }
    }
    log_env env;
    log_config cfg;
    cfg.segment_bytes = 1 << 20;
    auto opened = env.open(data, cfg);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    auto& log = *opened;
    int64_t end = 0;
    std::optional<error> failure;
    for (int i = 0; i < 1000 && !failure; ++i) {
        auto r = log->append(make_batch(end, 4, 1000, 1000));
        if (r) {
            end += 4;
        } else {
            failure = r.error();
        }
    }
    ASSERT_TRUE(failure.has_value()) << "the file system never filled up";
    EXPECT_EQ(failure->code, errc::no_space);
    EXPECT_NE(failure->message.find("free space"), std::string::npos) << failure->message;
    EXPECT_EQ(log->log_end_offset().value(), end);
    EXPECT_EQ(std::filesystem::file_size(data / "00000000000000000000.log"), log->size_bytes())
      << "a partial batch was left in the file";
    auto r = log->read(model::offset(0), 1ULL << 30);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->next_offset.value(), end);
    expect_records_match_offsets(slurp(*r));
    auto synced = env.sync(*log);
    ASSERT_TRUE(synced.has_value()) << synced.error().message;
    EXPECT_EQ(synced->value(), end);

    // Space comes back: appends resume at the right offset.
    std::filesystem::remove(filler);
    auto again = log->append(make_batch(end, 4, 1000, 1000));
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(again->base_offset.value(), end);
    end += 4;
    log.reset(); // crash
    log_env env2;
    auto reopened = env2.open(data, cfg);
    ASSERT_TRUE(reopened.has_value());
    EXPECT_EQ((*reopened)->recovery().bytes_truncated, 0U);
    EXPECT_EQ((*reopened)->log_end_offset().value(), end);
}

TEST(disk_full, opening_a_log_on_a_full_file_system_reports_it) {
    temp_dir dir;
    small_tmpfs fs(dir.path(), "size=16k");
    if (!fs.mounted()) {
        GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
    }
    {
        std::ofstream f(dir.path() / "filler", std::ios::binary);
        std::string block(4096, 'x');
        for (int i = 0; i < 8; ++i) {
            f.write(block.data(), static_cast<std::streamsize>(block.size()));
        }
    }
    log_env env;
    auto opened = env.open(dir.path() / "p");
    if (opened) {
        // Creating an empty segment may still fit; the first append must not.
        auto r = (*opened)->append(make_batch(0, 4, 1000, 1000));
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, errc::no_space);
    } else {
        EXPECT_TRUE(opened.error().code == errc::no_space || opened.error().code == errc::io_error)
          << opened.error().message;
    }
}

} // namespace
} // namespace ms::storage
