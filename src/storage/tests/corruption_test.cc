// Damaged logs: a torn tail cut at every byte of the last batches, and random byte flips. Reopening
// must keep exactly the batches before the damage, never crash, and never serve a damaged batch.
// Damaged index files and checkpoints are not trusted: the segment is scanned instead.

#include <fstream>
#include <functional>
#include <random>

#include <gtest/gtest.h>

#include "base/crc32c.h"
#include "base/endian.h"
#include "storage/tests/log_test_support.h"

namespace ms::storage {
namespace {

using testing::expect_records_match_offsets;
using testing::log_env;
using testing::make_batch;
using testing::slurp;
using testing::split_batches;
using testing::temp_dir;

struct written_log {
    std::vector<uint64_t> batch_starts; // byte position of each batch in the segment
    std::vector<int64_t> batch_bases;
    uint64_t size = 0;
    int64_t end = 0;
};

// Writes 20 batches of varied sizes into one segment and "crashes" (no close).
written_log write_log(const std::filesystem::path& dir) {
    written_log w;
    log_env env;
    auto log = env.open(dir);
    EXPECT_TRUE(log.has_value());
    for (int i = 0; i < 20; ++i) {
        const int32_t count = 1 + i % 4;
        w.batch_starts.push_back((*log)->size_bytes());
        w.batch_bases.push_back(w.end);
        EXPECT_TRUE(
          (*log)->append(make_batch(w.end, count, 1000 + i, 10 + static_cast<size_t>(i) * 3)).has_value());
        w.end += count;
    }
    w.size = (*log)->size_bytes();
    return w;
}

void copy_dir(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::remove_all(to);
    std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

// Opens the damaged copy and checks that it holds exactly `expected_end` offsets, all intact.
void expect_valid_prefix(const std::filesystem::path& dir, int64_t expected_end, const std::string& what) {
    log_env env;
    auto log = env.open(dir);
    ASSERT_TRUE(log.has_value()) << what << ": " << log.error().message;
    EXPECT_EQ((*log)->log_end_offset().value(), expected_end) << what;
    auto r = (*log)->read(model::offset(0), 1ULL << 30);
    ASSERT_TRUE(r.has_value()) << what;
    EXPECT_EQ(r->next_offset.value(), expected_end) << what;
    auto bytes = slurp(*r);
    split_batches(bytes); // validates every batch served
    expect_records_match_offsets(bytes);
    // Appending continues at the right place after the truncation.
    auto next = (*log)->append(make_batch(expected_end, 2));
    ASSERT_TRUE(next.has_value()) << what;
    EXPECT_EQ(next->base_offset.value(), expected_end) << what;
}

int64_t end_of_batches_before(const written_log& w, uint64_t byte) {
    int64_t end = 0;
    for (size_t i = 0; i < w.batch_starts.size(); ++i) {
        const uint64_t batch_end = i + 1 < w.batch_starts.size() ? w.batch_starts[i + 1] : w.size;
        if (batch_end > byte) {
            break;
        }
        end = i + 1 < w.batch_bases.size() ? w.batch_bases[i + 1] : w.end;
    }
    return end;
}

TEST(corruption, torn_tail_at_every_byte_of_the_last_batches) {
    temp_dir original;
    const written_log w = write_log(original.path());
    temp_dir scratch;
    const auto copy = scratch.path() / "p";
    const auto seg = std::filesystem::path("00000000000000000000.log");
    for (uint64_t cut = w.batch_starts[w.batch_starts.size() - 3]; cut <= w.size; ++cut) {
        copy_dir(original.path(), copy);
        std::filesystem::resize_file(copy / seg, cut);
        expect_valid_prefix(copy, end_of_batches_before(w, cut), "cut at byte " + std::to_string(cut));
        if (::testing::Test::HasFatalFailure()) {
            return;
        }
    }
}

TEST(corruption, random_byte_flips_truncate_at_the_damaged_batch) {
    temp_dir original;
    const written_log w = write_log(original.path());
    temp_dir scratch;
    const auto copy = scratch.path() / "p";
    const auto seg = std::filesystem::path("00000000000000000000.log");
    std::mt19937_64 rng(20261127);
    for (int trial = 0; trial < 300; ++trial) {
        copy_dir(original.path(), copy);
        const uint64_t pos = rng() % w.size;
        size_t batch = 0;
        while (batch + 1 < w.batch_starts.size() && w.batch_starts[batch + 1] <= pos) {
            ++batch;
        }
        const uint64_t in_batch = pos - w.batch_starts[batch];
        if (in_batch >= 12 && in_batch < 16) {
            continue; // the leader epoch is outside the CRC by design (the broker rewrites it)
        }
        {
            auto f = file::open(copy / seg, open_mode::read_write_existing);
            ASSERT_TRUE(f.has_value());
            std::byte b{};
            ASSERT_TRUE(f->read_exact(pos, {&b, 1}).has_value());
            b ^= std::byte{static_cast<unsigned char>(1U << (rng() % 8))};
            ASSERT_TRUE(f->write_all(pos, std::span<const std::byte>(&b, 1)).has_value());
        }
        expect_valid_prefix(copy, w.batch_bases[batch], "flip at byte " + std::to_string(pos));
        if (::testing::Test::HasFatalFailure()) {
            return;
        }
    }
}

TEST(corruption, garbage_after_a_valid_log_is_cut_and_later_segments_dropped) {
    temp_dir dir;
    log_config cfg;
    cfg.segment_bytes = 1024;
    int64_t end = 0;
    {
        log_env env;
        auto log = env.open(dir.path(), cfg);
        ASSERT_TRUE(log.has_value());
        for (int i = 0; i < 30; ++i) {
            ASSERT_TRUE((*log)->append(make_batch(end, 3)).has_value());
            end += 3;
        }
        ASSERT_GE((*log)->segments().size(), 3U);
    }
    // Damage the first segment's last byte: everything from that batch on is unsafe.
    std::vector<std::filesystem::path> logs;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        if (e.path().extension() == ".log") {
            logs.push_back(e.path());
        }
    }
    std::sort(logs.begin(), logs.end());
    const auto first = logs.front();
    const auto size = std::filesystem::file_size(first);
    {
        auto f = file::open(first, open_mode::read_write_existing);
        ASSERT_TRUE(f.has_value());
        std::byte b{0x5a};
        ASSERT_TRUE(f->write_all(size - 1, std::span<const std::byte>(&b, 1)).has_value());
    }
    log_env env;
    auto log = env.open(dir.path(), cfg);
    ASSERT_TRUE(log.has_value());
    EXPECT_EQ((*log)->recovery().segments_removed, logs.size() - 1);
    EXPECT_GT((*log)->recovery().bytes_truncated, 0U);
    EXPECT_LT((*log)->log_end_offset().value(), end);
    auto r = (*log)->read(model::offset(0), 1ULL << 30);
    ASSERT_TRUE(r.has_value());
    expect_records_match_offsets(slurp(*r));
    for (size_t i = 1; i < logs.size(); ++i) {
        EXPECT_FALSE(std::filesystem::exists(logs[i]));
    }
}

TEST(corruption, damaged_checkpoint_falls_back_to_a_full_scan) {
    temp_dir dir;
    {
        log_env env;
        auto log = env.open(dir.path());
        ASSERT_TRUE(log.has_value());
        ASSERT_TRUE((*log)->append(make_batch(0, 5)).has_value());
        ASSERT_TRUE((*log)->close().has_value());
    }
    {
        auto f = file::open(dir.path() / "checkpoint", open_mode::read_write_existing);
        ASSERT_TRUE(f.has_value());
        std::byte b{0xff};
        ASSERT_TRUE(f->write_all(13, std::span<const std::byte>(&b, 1)).has_value());
    }
    log_env env;
    auto log = env.open(dir.path());
    ASSERT_TRUE(log.has_value());
    EXPECT_FALSE((*log)->recovery().clean);
    EXPECT_EQ((*log)->recovery().segments_scanned, 1U);
    EXPECT_EQ((*log)->log_end_offset(), model::offset(5));
}

std::vector<std::byte> read_bytes(const std::filesystem::path& path) {
    auto content = read_small_file(path);
    EXPECT_TRUE(content.has_value());
    const std::string& c = *content;
    const auto* p = reinterpret_cast<const std::byte*>(c.data());
    return {p, p + c.size()};
}

void write_bytes(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(corruption, damaged_index_entries_are_rebuilt_by_a_scan) {
    using damage = std::function<void(std::vector<std::byte>&)>;
    struct index_damage {
        const char* what;
        const char* ext;
        damage apply;
    };
    const std::vector<index_damage> cases{
      {"offset entry past the log", ".index",
       [](auto& b) { store_be<uint32_t>(&b[b.size() - 4], 0xfffffff0U); }},
      {"offset entries not increasing", ".index", [](auto& b) { std::copy_n(b.begin(), 8, b.begin() + 8); }},
      {"partial time entry", ".timeindex", [](auto& b) { b.resize(b.size() - 5); }},
      {"negative timestamp", ".timeindex", [](auto& b) { store_be<int64_t>(b.data(), -5); }},
      {"time entries not increasing", ".timeindex",
       [](auto& b) { std::copy_n(b.begin(), 12, b.begin() + 12); }},
    };
    for (const index_damage& d : cases) {
        temp_dir dir;
        log_config cfg;
        cfg.index_interval_bytes = 128;
        int64_t end = 0;
        {
            log_env env;
            auto log = env.open(dir.path(), cfg);
            ASSERT_TRUE(log.has_value());
            for (int i = 0; i < 20; ++i) {
                ASSERT_TRUE((*log)->append(make_batch(end, 4, 1000 + end)).has_value());
                end += 4;
            }
            ASSERT_TRUE((*log)->close().has_value());
        }
        const auto path = dir.path() / (std::string("00000000000000000000") + d.ext);
        auto bytes = read_bytes(path);
        ASSERT_GE(bytes.size(), 24U) << d.what << ": too few entries to damage";
        d.apply(bytes);
        write_bytes(path, bytes);
        log_env env;
        auto log = env.open(dir.path(), cfg);
        ASSERT_TRUE(log.has_value()) << d.what;
        EXPECT_EQ((*log)->recovery().segments_scanned, 1U) << d.what;
        auto r = (*log)->read(model::offset(0), 1ULL << 30);
        ASSERT_TRUE(r.has_value()) << d.what;
        EXPECT_EQ(r->next_offset.value(), end) << d.what;
        expect_records_match_offsets(slurp(*r));
        for (int64_t o = 0; o < end; o += 5) { // record o has timestamp 1000 + o
            auto t = (*log)->offset_for_timestamp(model::timestamp(1000 + o));
            ASSERT_TRUE(t.has_value() && t->has_value()) << d.what << ": offset " << o;
            EXPECT_EQ((*t)->value(), o) << d.what;
        }
    }
}

TEST(corruption, segment_cut_short_under_an_open_log_is_reported_not_served) {
    temp_dir dir;
    log_env env;
    auto log = env.open(dir.path());
    ASSERT_TRUE(log.has_value());
    for (int64_t o = 0; o < 40; o += 4) {
        ASSERT_TRUE((*log)->append(make_batch(o, 4)).has_value());
    }
    // Another process (or a damaged file system) cuts the file in the middle of the log.
    const auto path = dir.path() / "00000000000000000000.log";
    std::filesystem::resize_file(path, (*log)->size_bytes() / 2);
    auto r = (*log)->read(model::offset(0), 1ULL << 30);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::corrupt);
    EXPECT_NE(r.error().message.find(path.string() + ": expected "), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("file ends after"), std::string::npos) << r.error().message;
}

TEST(corruption, checkpoint_of_an_unknown_version_is_not_trusted) {
    auto bytes = log_checkpoint{true, model::offset(0), model::offset(0), model::offset(0), 0}.encode();
    store_be<uint16_t>(&bytes[8], 2);
    store_be<uint32_t>(&bytes[44], crc32c(0, bytes.data(), 44)); // a well-formed file of another version
    auto decoded = log_checkpoint::decode(bytes, "checkpoint");
    ASSERT_FALSE(decoded.has_value());
    EXPECT_EQ(decoded.error().code, errc::corrupt);
    EXPECT_NE(decoded.error().message.find("unknown version 2"), std::string::npos)
      << decoded.error().message;
}

} // namespace
} // namespace ms::storage
