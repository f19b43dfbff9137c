#include <sys/stat.h>

#include <array>

#include <gtest/gtest.h>

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

std::unique_ptr<partition_log> must_open(log_env& env, const std::filesystem::path& dir,
                                         log_config cfg = {}) {
    return env.must_open(dir, cfg);
}

TEST(partition_log, new_log_is_empty) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    EXPECT_EQ(log->log_start_offset(), model::offset(0));
    EXPECT_EQ(log->log_end_offset(), model::offset(0));
    auto r = log->read(model::offset(0), 1024);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->empty());
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "00000000000000000000.log"));
}

TEST(partition_log, append_assigns_dense_offsets_without_touching_the_callers_bytes) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    // The producer's batch says base offset 777: the log must ignore it and assign 0, 3, 8.
    iobuf a = make_batch(777, 3);
    const std::string before = a.to_string();
    auto ra = log->append(a);
    ASSERT_TRUE(ra.has_value());
    EXPECT_EQ(ra->base_offset, model::offset(0));
    EXPECT_EQ(ra->last_offset, model::offset(2));
    EXPECT_EQ(a.to_string(), before);
    auto rb = log->append(make_batch(3, 5));
    ASSERT_TRUE(rb.has_value());
    EXPECT_EQ(rb->base_offset, model::offset(3));
    EXPECT_EQ(rb->last_offset, model::offset(7));
    EXPECT_EQ(log->log_end_offset(), model::offset(8));

    auto r = log->read(model::offset(0), 1 << 20);
    ASSERT_TRUE(r.has_value());
    auto bytes = slurp(*r);
    auto headers = split_batches(bytes);
    ASSERT_EQ(headers.size(), 2U);
    EXPECT_EQ(headers[0].base_offset, model::offset(0));
    EXPECT_EQ(headers[1].base_offset, model::offset(3));
    EXPECT_EQ(r->next_offset, model::offset(8));
    // The stored bytes after the base offset are the producer's bytes exactly.
    EXPECT_EQ(std::memcmp(bytes.data() + 8, before.data() + 8, before.size() - 8), 0);
}

TEST(partition_log, append_sets_the_leader_epoch_when_given) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    ASSERT_TRUE(log->append(make_batch(0, 2), model::leader_epoch(7)).has_value());
    auto r = log->read(model::offset(0), 1 << 20);
    ASSERT_TRUE(r.has_value());
    auto headers = split_batches(slurp(*r));
    ASSERT_EQ(headers.size(), 1U);
    EXPECT_EQ(headers[0].partition_leader_epoch, model::leader_epoch(7));
}

TEST(partition_log, invalid_batch_writes_nothing_and_says_why) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    ASSERT_TRUE(log->append(make_batch(0, 2)).has_value());
    std::string bytes = make_batch(0, 2).to_string();
    bytes[bytes.size() - 1] ^= 0x01; // inside the CRC-covered records
    auto bad = log->append(iobuf::copy_of(bytes));
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, errc::invalid_batch);
    EXPECT_EQ(bad.error().batch_error, model::batch_errc::crc_mismatch);
    EXPECT_NE(bad.error().message.find("CRC"), std::string::npos);
    EXPECT_EQ(log->log_end_offset(), model::offset(2));
    auto size = std::filesystem::file_size(dir.path() / "00000000000000000000.log");
    EXPECT_EQ(size, log->size_bytes());

    log_config small;
    small.max_batch_bytes = 100;
    ASSERT_TRUE(log->set_config(small).has_value());
    auto big = log->append(make_batch(0, 10));
    ASSERT_FALSE(big.has_value());
    EXPECT_EQ(big.error().batch_error, model::batch_errc::too_large);
    EXPECT_EQ(log->log_end_offset(), model::offset(2));
}

TEST(partition_log, read_starts_at_the_batch_containing_the_offset) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(log->append(make_batch(int64_t{i} * 4, 4)).has_value());
    }
    auto r = log->read(model::offset(13), 1 << 20);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->first_offset, model::offset(12));
    auto headers = split_batches(slurp(*r));
    ASSERT_EQ(headers.size(), 7U);
    EXPECT_EQ(headers.front().base_offset, model::offset(12));
    EXPECT_EQ(r->next_offset, model::offset(40));
    expect_records_match_offsets(slurp(*r));
}

// Batch headers are read through a window (many small batches per pread, only the header after a
// large one): reads from every offset over a mix of tiny and large batches, with and without a
// byte budget, return exactly the batches from the one holding the offset.
TEST(partition_log, reads_from_every_offset_over_small_and_large_batches) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    const std::vector<size_t> value_sizes{8, 2000, 8, 8, 9000, 8, 1500, 30000, 8, 8, 8, 700};
    std::vector<uint64_t> batch_bytes;
    int64_t next = 0;
    for (int round = 0; round < 6; ++round) {
        for (size_t v : value_sizes) {
            auto appended = log->append(make_batch(next, 2, 1000, v));
            ASSERT_TRUE(appended.has_value());
            batch_bytes.push_back(appended->bytes);
            next += 2;
        }
    }
    for (int64_t start = 0; start < next; ++start) {
        const auto first_batch = static_cast<size_t>(start / 2);
        for (const uint64_t budget : {uint64_t{1}, uint64_t{10'000}, uint64_t{1} << 20}) {
            auto r = log->read(model::offset(start), budget);
            ASSERT_TRUE(r.has_value());
            EXPECT_EQ(r->first_offset, model::offset(int64_t{2} * static_cast<int64_t>(first_batch)));
            size_t batches = 0;
            uint64_t expected_bytes = 0;
            for (size_t b = first_batch; b < batch_bytes.size(); ++b) {
                if (batches > 0 && expected_bytes + batch_bytes[b] > budget) {
                    break;
                }
                expected_bytes += batch_bytes[b];
                ++batches;
            }
            EXPECT_EQ(r->bytes, expected_bytes) << "start " << start << " budget " << budget;
            const auto headers = split_batches(slurp(*r));
            ASSERT_EQ(headers.size(), batches);
            EXPECT_EQ(r->next_offset,
                      model::offset(int64_t{2} * static_cast<int64_t>(first_batch + batches)));
            expect_records_match_offsets(slurp(*r));
        }
    }
}

TEST(partition_log, read_honours_max_bytes_but_returns_at_least_one_batch) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(log->append(make_batch(int64_t{i} * 4, 4)).has_value());
    }
    // Batches differ in size by a few bytes (offsets in their keys), so measure three of them.
    uint64_t first_three = 0;
    for (int64_t o : {0, 4, 8}) {
        auto one = log->read(model::offset(o), 1);
        ASSERT_TRUE(one.has_value());
        EXPECT_EQ(one->next_offset, model::offset(o + 4)); // a single whole batch despite max_bytes = 1
        EXPECT_EQ(split_batches(slurp(*one)).size(), 1U);
        first_three += one->bytes;
    }
    auto three = log->read(model::offset(0), first_three + 100);
    ASSERT_TRUE(three.has_value());
    EXPECT_EQ(three->bytes, first_three);
    EXPECT_EQ(three->next_offset, model::offset(12));
    auto exact = log->read(model::offset(0), first_three);
    ASSERT_TRUE(exact.has_value());
    EXPECT_EQ(exact->next_offset, model::offset(12));
}

TEST(partition_log, read_stops_before_the_upper_bound) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(log->append(make_batch(int64_t{i} * 4, 4)).has_value());
    }
    auto r = log->read(model::offset(0), 1 << 20, model::offset(8));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->next_offset, model::offset(8));
    auto none = log->read(model::offset(8), 1 << 20, model::offset(8));
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->empty());
}

TEST(partition_log, read_outside_the_log_is_out_of_range) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    ASSERT_TRUE(log->append(make_batch(0, 4)).has_value());
    auto above = log->read(model::offset(5), 100);
    ASSERT_FALSE(above.has_value());
    EXPECT_EQ(above.error().code, errc::offset_out_of_range);
    auto below = log->read(model::offset(-1), 100);
    ASSERT_FALSE(below.has_value());
    EXPECT_EQ(below.error().code, errc::offset_out_of_range);
    auto at_end = log->read(model::offset(4), 100);
    ASSERT_TRUE(at_end.has_value());
    EXPECT_TRUE(at_end->empty());
}

TEST(partition_log, rolls_segments_by_size_and_reads_across_them) {
    temp_dir dir;
    log_env env;
    log_config cfg;
    cfg.segment_bytes = 4096;
    cfg.index_interval_bytes = 512;
    auto log = must_open(env, dir.path(), cfg);
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(log->append(make_batch(int64_t{i} * 3, 3)).has_value());
    }
    auto segs = log->segments();
    ASSERT_GE(segs.size(), 5U);
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
        EXPECT_LE(segs[i].size, 4096U);
        EXPECT_EQ(segs[i].next_offset, segs[i + 1].base_offset);
        EXPECT_TRUE(segs[i].sealed);
        EXPECT_TRUE(
          std::filesystem::exists(dir.path() / (segment::file_stem(segs[i].base_offset) + ".index")));
    }
    for (int64_t start = 0; start < 300; start += 7) {
        auto r = log->read(model::offset(start), 1 << 20);
        ASSERT_TRUE(r.has_value());
        EXPECT_LE(r->first_offset, model::offset(start));
        EXPECT_GT(r->next_offset, model::offset(start));
        auto bytes = slurp(*r);
        expect_records_match_offsets(bytes);
        EXPECT_EQ(r->next_offset, model::offset(300)); // 1 MiB spans every segment
    }
}

TEST(partition_log, rolls_segments_by_age) {
    temp_dir dir;
    log_env env;
    log_config cfg;
    cfg.segment_ms = 60'000;
    auto log = must_open(env, dir.path(), cfg);
    ASSERT_TRUE(log->append(make_batch(0, 1)).has_value());
    env.clock->fetch_add(59'999);
    ASSERT_TRUE(log->append(make_batch(1, 1)).has_value());
    EXPECT_EQ(log->segments().size(), 1U);
    env.clock->fetch_add(1);
    ASSERT_TRUE(log->append(make_batch(2, 1)).has_value());
    ASSERT_EQ(log->segments().size(), 2U);
    EXPECT_EQ(log->segments()[1].base_offset, model::offset(2));
}

TEST(partition_log, retention_by_size_deletes_oldest_closed_segments) {
    temp_dir dir;
    log_env env;
    log_config cfg;
    cfg.segment_bytes = 2048;
    auto log = must_open(env, dir.path(), cfg);
    for (int i = 0; i < 60; ++i) {
        ASSERT_TRUE(log->append(make_batch(int64_t{i} * 2, 2)).has_value());
    }
    const uint64_t before = log->size_bytes();
    cfg.retention_bytes = 5000;
    ASSERT_TRUE(log->set_config(cfg).has_value());
    auto report = log->apply_retention();
    ASSERT_TRUE(report.has_value());
    EXPECT_GT(report->segments_removed, 0U);
    EXPECT_EQ(log->size_bytes(), before - report->bytes_removed);
    EXPECT_GE(log->size_bytes(), 5000U);
    EXPECT_LT(log->size_bytes() - log->segments().front().size, 5000U);
    EXPECT_EQ(log->log_start_offset(), log->segments().front().base_offset);
    auto below = log->read(model::offset(0), 100);
    ASSERT_FALSE(below.has_value());
    EXPECT_EQ(below.error().code, errc::offset_out_of_range);
    auto from_start = log->read(log->log_start_offset(), 1 << 20);
    ASSERT_TRUE(from_start.has_value());
    expect_records_match_offsets(slurp(*from_start));
}

// Runs delete_records_before to completion on the test thread.
result<model::offset> delete_before(log_env& env, partition_log& log, int64_t offset) {
    std::optional<result<model::offset>> out;
    log.delete_records_before(model::offset(offset),
                              [&](result<model::offset> r) { out.emplace(std::move(r)); });
    EXPECT_TRUE(env.exec.run_until([&] { return out.has_value(); })) << "delete did not complete";
    if (!out) {
        return unexpected(error{errc::io_error, "delete timed out"});
    }
    return std::move(*out);
}

TEST(partition_log, delete_records_moves_the_start_durably_and_removes_whole_segments_below_it) {
    temp_dir dir;
    log_config cfg;
    cfg.segment_bytes = 2048;
    size_t segments_before = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        for (int i = 0; i < 60; ++i) {
            ASSERT_TRUE(log->append(make_batch(int64_t{i} * 2, 2)).has_value());
        }
        segments_before = log->segments().size();
        auto moved = delete_before(env, *log, 51);
        ASSERT_TRUE(moved.has_value()) << moved.error().message;
        EXPECT_EQ(*moved, model::offset(51));
        EXPECT_EQ(log->log_start_offset(), model::offset(51));
        EXPECT_LT(log->segments().size(), segments_before);
        EXPECT_LE(log->segments().front().base_offset, model::offset(51));
        EXPECT_GT(log->segments().front().next_offset, model::offset(51));
        auto below = log->read(model::offset(50), 100);
        ASSERT_FALSE(below.has_value());
        EXPECT_EQ(below.error().code, errc::offset_out_of_range);
        auto from = log->read(model::offset(51), 1 << 20);
        ASSERT_TRUE(from.has_value());
        expect_records_match_offsets(slurp(*from));
        // Lower than the start: nothing changes.
        auto again = delete_before(env, *log, 10);
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(*again, model::offset(51));
        // No close: the new start must already be in the durable checkpoint.
    }
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        EXPECT_EQ(log->log_start_offset(), model::offset(51));
        EXPECT_EQ(log->log_end_offset(), model::offset(120));
        // Everything: the start reaches the log end, reads there are empty, appends go on.
        auto all = delete_before(env, *log, 120);
        ASSERT_TRUE(all.has_value());
        EXPECT_EQ(*all, model::offset(120));
        auto empty = log->read(model::offset(120), 100);
        ASSERT_TRUE(empty.has_value());
        EXPECT_TRUE(empty->slices.empty());
        ASSERT_TRUE(log->append(make_batch(120, 2)).has_value());
        ASSERT_TRUE(log->close().has_value());
    }
    log_env env;
    auto log = must_open(env, dir.path(), cfg);
    EXPECT_TRUE(log->recovery().clean);
    EXPECT_EQ(log->log_start_offset(), model::offset(120));
    EXPECT_EQ(log->log_end_offset(), model::offset(122));
}

TEST(partition_log, retention_by_time_uses_the_newest_timestamp_of_each_segment) {
    temp_dir dir;
    log_env env;
    log_config cfg;
    cfg.segment_bytes = 1024;
    cfg.retention_ms = 10'000;
    auto log = must_open(env, dir.path(), cfg);
    const int64_t now = env.clock->load();
    for (int i = 0; i < 40; ++i) { // old data, then fresh data
        const int64_t ts = i < 20 ? now - 60'000 : now - 1'000;
        ASSERT_TRUE(log->append(make_batch(int64_t{i} * 2, 2, ts)).has_value());
    }
    auto report = log->apply_retention();
    ASSERT_TRUE(report.has_value());
    EXPECT_GT(report->segments_removed, 0U);
    for (const segment_info& s : log->segments()) {
        EXPECT_GE(s.max_timestamp.value(), now - 10'000);
    }
    EXPECT_LE(log->log_start_offset(), model::offset(40));
    // All data expired: the active segment is rolled and removed, the log is empty but keeps its end.
    env.clock->fetch_add(100'000);
    ASSERT_TRUE(log->apply_retention().has_value());
    EXPECT_EQ(log->log_start_offset(), model::offset(80));
    EXPECT_EQ(log->log_end_offset(), model::offset(80));
    ASSERT_TRUE(log->append(make_batch(80, 1, env.clock->load())).has_value());
    EXPECT_EQ(log->log_end_offset(), model::offset(81));
}

TEST(partition_log, offset_for_timestamp_finds_the_first_record_at_or_after) {
    temp_dir dir;
    log_env env;
    log_config cfg;
    cfg.segment_bytes = 1024;
    cfg.index_interval_bytes = 128;
    auto log = must_open(env, dir.path(), cfg);
    // Batch i holds offsets 4i..4i+3 with timestamps 1000+10i .. 1000+10i+3.
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(log->append(make_batch(int64_t{i} * 4, 4, 1000 + 10 * i)).has_value());
    }
    for (int i = 0; i < 50; ++i) {
        for (int k = 0; k < 4; ++k) {
            auto hit = log->offset_for_timestamp(model::timestamp(1000 + 10 * i + k));
            ASSERT_TRUE(hit.has_value());
            ASSERT_TRUE(hit->has_value());
            EXPECT_EQ(**hit, model::offset(i * 4 + k)) << "ts " << 1000 + 10 * i + k;
        }
        // Between batches: the next batch's first record.
        auto gap = log->offset_for_timestamp(model::timestamp(1000 + 10 * i + 5));
        ASSERT_TRUE(gap.has_value());
        if (i + 1 < 50) {
            EXPECT_EQ(**gap, model::offset((int64_t{i} + 1) * 4));
        } else {
            EXPECT_FALSE(gap->has_value());
        }
    }
    auto early = log->offset_for_timestamp(model::timestamp(0));
    ASSERT_TRUE(early.has_value());
    EXPECT_EQ(**early, model::offset(0));
    EXPECT_EQ(log->max_timestamp(), model::timestamp(1000 + 490 + 3));
}

TEST(partition_log, sync_reports_the_durable_offset_and_groups_commits) {
    temp_dir dir;
    log_env env;
    auto log = must_open(env, dir.path());
    ASSERT_TRUE(log->append(make_batch(0, 5)).has_value());
    auto durable = env.sync(*log);
    ASSERT_TRUE(durable.has_value());
    EXPECT_EQ(*durable, model::offset(5));
    EXPECT_EQ(log->durable_offset(), model::offset(5));

    // Many callers while one sync runs: every callback fires once with an offset that covers
    // what was appended before it asked.
    std::vector<std::optional<model::offset>> seen(20);
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(log->append(make_batch(5 + i, 1)).has_value());
        const model::offset wanted = log->log_end_offset();
        log->sync([&seen, i, wanted](result<model::offset> r) {
            ASSERT_TRUE(r.has_value());
            EXPECT_GE(*r, wanted);
            seen[static_cast<size_t>(i)] = *r;
        });
    }
    ASSERT_TRUE(env.exec.run_until(
      [&] { return std::all_of(seen.begin(), seen.end(), [](const auto& s) { return s.has_value(); }); }));
    EXPECT_EQ(log->durable_offset(), model::offset(25));
    // Already durable: answered at once.
    bool immediate = false;
    log->sync([&](result<model::offset> r) { immediate = r.has_value() && *r == model::offset(25); });
    EXPECT_TRUE(immediate);
}

// The broker runs several flusher threads (log.flush.threads): syncs of different logs complete
// concurrently and out of order, each log's completions still arrive on its owner, in order, with
// offsets that cover what was appended first. Also under TSan.
TEST(partition_log, logs_sharing_a_multi_thread_flusher_sync_concurrently) {
    temp_dir dir;
    log_env env(4);
    constexpr size_t logs = 8;
    constexpr int rounds = 25;
    std::vector<std::unique_ptr<partition_log>> open_logs;
    for (size_t i = 0; i < logs; ++i) {
        open_logs.push_back(must_open(env, dir.path() / std::to_string(i)));
        ASSERT_NE(open_logs.back(), nullptr);
    }
    std::vector<std::vector<model::offset>> answers(logs);
    int pending = 0;
    for (int round = 0; round < rounds; ++round) {
        for (size_t i = 0; i < logs; ++i) {
            ASSERT_TRUE(open_logs[i]->append(make_batch(int64_t{round} * 3, 3)).has_value());
            const model::offset wanted = open_logs[i]->log_end_offset();
            ++pending;
            open_logs[i]->sync([&, i, wanted](result<model::offset> r) {
                ASSERT_TRUE(r.has_value());
                EXPECT_GE(*r, wanted);
                answers[i].push_back(*r);
                --pending;
            });
        }
        // Let some syncs finish while more are appended.
        env.exec.run_pending();
    }
    ASSERT_TRUE(env.exec.run_until([&] { return pending == 0; }));
    for (size_t i = 0; i < logs; ++i) {
        EXPECT_TRUE(std::is_sorted(answers[i].begin(), answers[i].end()));
        EXPECT_EQ(open_logs[i]->durable_offset(), model::offset(int64_t{rounds} * 3));
        ASSERT_TRUE(open_logs[i]->close().has_value());
    }
    open_logs.clear();
    for (size_t i = 0; i < logs; ++i) {
        auto log = must_open(env, dir.path() / std::to_string(i));
        ASSERT_NE(log, nullptr);
        EXPECT_EQ(log->log_end_offset(), model::offset(int64_t{rounds} * 3));
        auto read = log->read(model::offset(0), 1 << 20);
        ASSERT_TRUE(read.has_value());
        expect_records_match_offsets(slurp(*read));
    }
}

TEST(partition_log, clean_close_reopens_without_scanning) {
    temp_dir dir;
    log_config cfg;
    cfg.segment_bytes = 2048;
    cfg.index_interval_bytes = 256;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        for (int i = 0; i < 50; ++i) {
            ASSERT_TRUE(log->append(make_batch(int64_t{i} * 2, 2, 5000 + i)).has_value());
        }
        ASSERT_TRUE(log->close().has_value());
        auto after = log->append(make_batch(0, 1));
        ASSERT_FALSE(after.has_value());
        EXPECT_EQ(after.error().code, errc::closed);
    }
    log_env env;
    auto log = must_open(env, dir.path(), cfg);
    EXPECT_TRUE(log->recovery().clean);
    EXPECT_EQ(log->recovery().segments_scanned, 0U);
    EXPECT_EQ(log->log_end_offset(), model::offset(100));
    EXPECT_EQ(log->max_timestamp(), model::timestamp(5050)); // batch 49 holds 5049 and 5050
    auto r = log->read(model::offset(31), 1 << 20);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->first_offset, model::offset(30));
    expect_records_match_offsets(slurp(*r));
    auto ts = log->offset_for_timestamp(model::timestamp(5020)); // batch 19: offsets 38, 39 at 5019, 5020
    ASSERT_TRUE(ts.has_value());
    EXPECT_EQ(**ts, model::offset(39));
    // Appends continue after the clean reopen.
    auto next = log->append(make_batch(100, 2));
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->base_offset, model::offset(100));
}

// A close with nothing changed since the clean checkpoint on disk (a clean reopen, or a log just
// created) writes nothing: the checkpoint file stays the same file. Any change (an append, a roll)
// makes the close write a new one. Each time the next open is clean and keeps everything.
TEST(partition_log, idle_close_after_a_clean_checkpoint_writes_nothing) {
    temp_dir dir;
    log_config cfg;
    cfg.segment_bytes = 4096;
    const auto checkpoint = dir.path() / log_checkpoint::file_name;
    const auto inode = [&] {
        struct stat st {};
        EXPECT_EQ(::stat(checkpoint.c_str(), &st), 0);
        return st.st_ino;
    };
    ino_t created = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg); // brand new: its first checkpoint says clean
        created = inode();
        ASSERT_TRUE(log->close().has_value());
        EXPECT_EQ(inode(), created);
    }
    ino_t after_append = 0;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        EXPECT_TRUE(log->recovery().clean);
        ASSERT_TRUE(log->append(make_batch(0, 40)).has_value()); // rolls at least once
        ASSERT_TRUE(log->close().has_value());
        after_append = inode();
        EXPECT_NE(after_append, created);
    }
    for (int round = 0; round < 2; ++round) {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        EXPECT_TRUE(log->recovery().clean);
        EXPECT_EQ(log->recovery().segments_scanned, 0U);
        EXPECT_EQ(log->log_end_offset(), model::offset(40));
        auto r = log->read(model::offset(0), 1 << 20);
        ASSERT_TRUE(r.has_value());
        expect_records_match_offsets(slurp(*r));
        ASSERT_TRUE(log->close().has_value());
        EXPECT_EQ(inode(), after_append); // nothing changed: nothing written
    }
    {
        // An append after a clean open, then a crash (no close): the stale clean checkpoint is not
        // trusted, the scan keeps the append.
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        ASSERT_TRUE(log->append(make_batch(40, 2)).has_value());
        // No close(): the destructor leaves the directory as a killed process would.
    }
    log_env env;
    auto log = must_open(env, dir.path(), cfg);
    EXPECT_FALSE(log->recovery().clean);
    EXPECT_EQ(log->log_end_offset(), model::offset(42));
}

TEST(partition_log, reopen_after_crash_scans_and_keeps_everything_written) {
    temp_dir dir;
    log_config cfg;
    cfg.segment_bytes = 2048;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        for (int i = 0; i < 50; ++i) {
            ASSERT_TRUE(log->append(make_batch(int64_t{i} * 2, 2)).has_value());
        }
        ASSERT_TRUE(env.sync(*log).has_value());
        for (int i = 50; i < 60; ++i) { // written, not synced: a process crash keeps them
            ASSERT_TRUE(log->append(make_batch(int64_t{i} * 2, 2)).has_value());
        }
        // No close(): the destructor leaves the directory as a killed process would.
    }
    log_env env;
    auto log = must_open(env, dir.path(), cfg);
    EXPECT_FALSE(log->recovery().clean);
    EXPECT_GE(log->recovery().segments_scanned, 1U);
    EXPECT_EQ(log->recovery().bytes_truncated, 0U);
    EXPECT_EQ(log->log_end_offset(), model::offset(120));
    EXPECT_EQ(log->durable_offset(), model::offset(120));
    auto r = log->read(model::offset(0), 1 << 24);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->next_offset, model::offset(120));
    expect_records_match_offsets(slurp(*r));
}

TEST(partition_log, stale_checkpoint_after_more_appends_is_not_trusted) {
    temp_dir dir;
    {
        log_env env;
        auto log = must_open(env, dir.path());
        ASSERT_TRUE(log->append(make_batch(0, 2)).has_value());
        ASSERT_TRUE(log->close().has_value());
    }
    {
        log_env env;
        auto log = must_open(env, dir.path());
        EXPECT_TRUE(log->recovery().clean);
        ASSERT_TRUE(log->append(make_batch(2, 3)).has_value());
        // crash: no close
    }
    log_env env;
    auto log = must_open(env, dir.path());
    EXPECT_FALSE(log->recovery().clean);
    EXPECT_EQ(log->log_end_offset(), model::offset(5));
}

TEST(partition_log, damaged_index_files_are_rebuilt) {
    temp_dir dir;
    log_config cfg;
    cfg.index_interval_bytes = 128;
    {
        log_env env;
        auto log = must_open(env, dir.path(), cfg);
        for (int i = 0; i < 30; ++i) {
            ASSERT_TRUE(log->append(make_batch(int64_t{i} * 2, 2)).has_value());
        }
        ASSERT_TRUE(log->close().has_value());
    }
    const auto index = dir.path() / "00000000000000000000.index";
    ASSERT_GT(std::filesystem::file_size(index), 8U);
    std::filesystem::resize_file(index, std::filesystem::file_size(index) - 3); // a partial entry
    log_env env;
    auto log = must_open(env, dir.path(), cfg);
    EXPECT_EQ(log->recovery().segments_scanned, 1U);
    EXPECT_EQ(log->log_end_offset(), model::offset(60));
    for (int64_t o = 0; o < 60; o += 5) {
        auto r = log->read(model::offset(o), 1);
        ASSERT_TRUE(r.has_value());
        EXPECT_LE(r->first_offset, model::offset(o));
        EXPECT_GT(r->next_offset, model::offset(o));
    }
}

TEST(partition_log, checkpoint_round_trips_and_rejects_damage) {
    log_checkpoint c{true, model::offset(12), model::offset(3), model::offset(12), 4096};
    auto bytes = c.encode();
    auto back = log_checkpoint::decode(bytes, "x");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, c);
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto damaged = bytes;
        damaged[i] ^= std::byte{0x40};
        EXPECT_FALSE(log_checkpoint::decode(damaged, "x").has_value()) << "byte " << i;
    }
    EXPECT_FALSE(log_checkpoint::decode(std::span(bytes).first(20), "x").has_value());
}

TEST(partition_log, config_values_out_of_range_are_refused_by_name) {
    temp_dir dir;
    log_env env;
    log_config cfg;
    cfg.segment_bytes = 10;
    auto log = env.open(dir.path(), cfg);
    ASSERT_FALSE(log.has_value());
    EXPECT_EQ(log.error().code, errc::invalid_config);
    EXPECT_NE(log.error().message.find("segment.bytes"), std::string::npos);
    cfg = {};
    cfg.retention_ms = -2;
    EXPECT_NE(cfg.validate().error().message.find("retention.ms"), std::string::npos);
}

} // namespace
} // namespace ms::storage
