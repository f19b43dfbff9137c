// Log compaction: what a reader sees after runs, tombstones and their retention, the key map
// budget, every intermediate file state of a swap (crash points), failing system calls during a
// run, and the compactor thread racing the owner (run under TSan).

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/compaction.h"
#include "storage/fault_injection.h"
#include "storage/tests/compaction_test_support.h"

namespace ms::storage {
namespace {

using testing::compact_now;
using testing::compacted_config;
using testing::keyed_record;
using testing::log_env;
using testing::make_keyed_batch;
using testing::read_all;
using testing::segment_ranges;
using testing::temp_dir;

using latest_map = std::map<std::string, std::optional<std::string>>;

// Appends `batches` batches of 3 records over `keys` keys (round robin), rolling as segment.bytes
// says; returns what a consumer must end with.
latest_map fill(log_env& env, partition_log& log, int batches, int keys, int first = 0) {
    latest_map latest;
    for (int b = 0; b < batches; ++b) {
        std::vector<keyed_record> records;
        for (int i = 0; i < 3; ++i) {
            const int n = (first + b) * 3 + i;
            records.push_back({"k" + std::to_string(n % keys), "value-" + std::to_string(n)});
        }
        for (const auto& r : records) {
            latest[r.key] = r.value;
        }
        const auto codec = static_cast<model::compression>(b % 5);
        EXPECT_TRUE(log.append(make_keyed_batch(records, env.clock->load(), codec)).has_value());
    }
    return latest;
}

bool has_cleaned_files(const std::filesystem::path& dir) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() == cleaned_suffix) {
            return true;
        }
    }
    return false;
}

void expect_only_newest_in_sealed(const partition_log& log, const testing::log_contents& c) {
    const auto bad = testing::superseded_in_sealed(log, c);
    EXPECT_FALSE(bad.has_value()) << "superseded record at offset " << *bad;
}

TEST(compaction, keeps_the_newest_record_of_every_key) {
    temp_dir dir;
    log_env env;
    compactor c;
    auto log = env.must_open(dir.path(), compacted_config());
    const latest_map expected = fill(env, *log, 80, 10);
    ASSERT_TRUE(log->roll().has_value());
    const auto ranges = segment_ranges(*log);
    const auto end = log->log_end_offset();
    const auto size_before = log->size_bytes();
    ASSERT_GT(ranges.size(), 4U);

    ASSERT_TRUE(compact_now(env, *log, c));
    ASSERT_TRUE(log->last_compaction().has_value());
    const compaction_report& report = *log->last_compaction();
    EXPECT_FALSE(report.failure.has_value());
    EXPECT_GT(report.segments_rewritten, 0U);
    EXPECT_LT(report.records_after, report.records_before);
    EXPECT_LT(log->size_bytes(), size_before);
    EXPECT_EQ(segment_ranges(*log), ranges);
    EXPECT_EQ(log->log_end_offset(), end);

    auto contents = read_all(*log);
    ASSERT_TRUE(contents.valid) << contents.problem;
    EXPECT_EQ(contents.latest(), expected);
    expect_only_newest_in_sealed(*log, contents);
    EXPECT_FALSE(has_cleaned_files(dir.path()));

    // Nothing is dirty now: an unforced run does not start; new sealed data makes it dirty again.
    EXPECT_FALSE(log->start_compaction(c));
    EXPECT_EQ(log->dirty_ratio(), 0.0);

    // The compacted segments survive a crash (no close) and a clean reopen.
    ASSERT_TRUE(env.sync(*log).has_value());
    log.reset();
    for (bool clean : {false, true}) {
        log_env env2;
        auto again = env2.must_open(dir.path(), compacted_config());
        ASSERT_NE(again, nullptr);
        auto reread = read_all(*again);
        ASSERT_TRUE(reread.valid) << reread.problem;
        EXPECT_EQ(reread.records.size(), contents.records.size());
        EXPECT_EQ(reread.latest(), expected);
        EXPECT_EQ(segment_ranges(*again), ranges);
        if (clean) {
            EXPECT_TRUE(again->close().has_value());
        }
    }
}

TEST(compaction, appends_continue_during_a_run_and_the_next_run_needs_new_dirt) {
    temp_dir dir;
    log_env env;
    compactor c;
    auto cfg = compacted_config();
    cfg.min_cleanable_dirty_ratio = 0.3;
    auto log = env.must_open(dir.path(), cfg);
    latest_map expected = fill(env, *log, 40, 7);
    ASSERT_TRUE(log->roll().has_value());
    ASSERT_TRUE(log->start_compaction(c, false)); // all sealed bytes are dirty after open
    EXPECT_TRUE(log->compacting());
    EXPECT_FALSE(log->start_compaction(c, true)); // one run at a time
    for (auto& [k, v] : fill(env, *log, 20, 7, 40)) {
        expected[k] = v;
    }
    ASSERT_TRUE(env.exec.run_until([&] { return !log->compacting(); }));
    auto contents = read_all(*log);
    ASSERT_TRUE(contents.valid) << contents.problem;
    EXPECT_EQ(contents.latest(), expected);
    ASSERT_TRUE(log->roll().has_value());
    EXPECT_GT(log->dirty_ratio(), 0.0);
    EXPECT_LT(log->dirty_ratio(), 1.0);
}

TEST(compaction, tombstones_stay_for_delete_retention_ms) {
    temp_dir dir;
    log_env env;
    compactor c;
    auto cfg = compacted_config();
    auto log = env.must_open(dir.path(), cfg);
    ASSERT_TRUE(log->append(make_keyed_batch({{"a", "1"}, {"b", "2"}}, env.clock->load())).has_value());
    ASSERT_TRUE(log->roll().has_value());
    ASSERT_TRUE(
      log->append(make_keyed_batch({{"a", std::nullopt}, {"c", "3"}}, env.clock->load())).has_value());
    ASSERT_TRUE(log->roll().has_value());
    ASSERT_TRUE(log->append(make_keyed_batch({{"d", "4"}}, env.clock->load())).has_value());

    auto keys_at = [&] {
        std::multiset<std::string> out;
        auto contents = read_all(*log);
        EXPECT_TRUE(contents.valid) << contents.problem;
        for (const auto& r : contents.records) {
            out.insert(r.key + (r.value ? "=" + *r.value : "=null"));
        }
        return out;
    };
    ASSERT_TRUE(compact_now(env, *log, c));
    EXPECT_EQ(keys_at(), (std::multiset<std::string>{"b=2", "a=null", "c=3", "d=4"}));
    env.clock->fetch_add(cfg.delete_retention_ms); // exactly the retention: not yet
    ASSERT_TRUE(compact_now(env, *log, c));
    EXPECT_EQ(keys_at(), (std::multiset<std::string>{"b=2", "a=null", "c=3", "d=4"}));
    env.clock->fetch_add(1);
    ASSERT_TRUE(compact_now(env, *log, c));
    EXPECT_EQ(keys_at(), (std::multiset<std::string>{"b=2", "c=3", "d=4"}));
    EXPECT_EQ(log->last_compaction()->tombstones_removed, 1U);
    EXPECT_EQ(log->log_end_offset(), model::offset(5));
}

TEST(compaction, a_tombstone_stays_while_a_single_record_segment_may_hold_an_older_value) {
    // Segment [a=1] keeps its only record even though the tombstone supersedes it (segments never
    // become empty), so the tombstone must stay or a=1 would come back.
    temp_dir dir;
    log_env env;
    compactor c;
    auto cfg = compacted_config();
    auto log = env.must_open(dir.path(), cfg);
    ASSERT_TRUE(log->append(make_keyed_batch({{"a", "1"}}, env.clock->load())).has_value());
    ASSERT_TRUE(log->roll().has_value());
    ASSERT_TRUE(
      log->append(make_keyed_batch({{"a", std::nullopt}, {"c", "3"}}, env.clock->load())).has_value());
    ASSERT_TRUE(log->roll().has_value());
    ASSERT_TRUE(log->append(make_keyed_batch({{"d", "4"}}, env.clock->load())).has_value());
    env.clock->fetch_add(cfg.delete_retention_ms + 1);
    for (int run = 0; run < 3; ++run) {
        ASSERT_TRUE(compact_now(env, *log, c));
        auto contents = read_all(*log);
        ASSERT_TRUE(contents.valid) << contents.problem;
        EXPECT_EQ(contents.latest(), (latest_map{{"a", std::nullopt}, {"c", "3"}, {"d", "4"}}));
    }
}

TEST(compaction, deleted_keys_leave_no_trace_when_their_segments_hold_a_live_key) {
    // Many small segments, each batch updating one key that is deleted later and one that stays:
    // every segment is emptied by the run, and the record it keeps (segments never move) must be
    // one of a live key, so that once the tombstones expire nothing of the deleted keys is left.
    temp_dir dir;
    log_env env;
    compactor c;
    auto cfg = compacted_config();
    cfg.segment_bytes = 300;
    auto log = env.must_open(dir.path(), cfg);
    constexpr int keys = 5;
    latest_map expected;
    auto put = [&](const std::vector<keyed_record>& batch) {
        ASSERT_TRUE(log->append(make_keyed_batch(batch, env.clock->load())).has_value());
        for (const auto& r : batch) {
            expected[r.key] = r.value;
        }
    };
    for (int i = 0; i < 60; ++i) {
        // The deleted key's record last: the segment's last record, which an anchor was before.
        put({{"live-" + std::to_string(i % keys), "value-" + std::to_string(i)},
             {"gone-" + std::to_string(i % keys), "old-" + std::to_string(i)}});
    }
    std::vector<keyed_record> deletes;
    deletes.reserve(keys + 1);
    for (int k = 0; k < keys; ++k) {
        deletes.push_back({"gone-" + std::to_string(k), std::nullopt});
    }
    deletes.push_back({"live-0", "newest"}); // the tombstones' segment holds a live key too
    put(deletes);
    ASSERT_TRUE(log->roll().has_value());
    put({{"live-1", "active"}});
    const auto ranges = segment_ranges(*log);
    const auto end = log->log_end_offset();
    ASSERT_GT(ranges.size(), 10U);

    auto check = [&](bool tombstones_expired) {
        auto contents = read_all(*log);
        ASSERT_TRUE(contents.valid) << contents.problem;
        EXPECT_EQ(contents.latest(), tombstones_expired ? [&] {
            latest_map live = expected;
            std::erase_if(live, [](const auto& kv) { return !kv.second.has_value(); });
            return live;
        }()
                                                        : expected);
        EXPECT_EQ(segment_ranges(*log), ranges);
        EXPECT_EQ(log->log_end_offset(), end);
        std::vector<std::string> deleted_seen;
        for (const auto& r : contents.records) {
            if (r.key.starts_with("gone-") && (tombstones_expired || r.value)) {
                deleted_seen.push_back(fmt::format("{}@{}", r.key, r.offset));
            }
        }
        std::string names;
        for (const auto& n : deleted_seen) {
            names += n + " ";
        }
        EXPECT_TRUE(deleted_seen.empty()) << names;
    };
    // Before delete.retention.ms only the tombstones of the deleted keys remain.
    ASSERT_TRUE(compact_now(env, *log, c));
    check(false);
    env.clock->fetch_add(cfg.delete_retention_ms + 1);
    ASSERT_TRUE(compact_now(env, *log, c));
    check(true);
    EXPECT_EQ(log->last_compaction()->tombstones_removed, static_cast<uint64_t>(keys));
    // A further run finds nothing to change: the kept records are not rewritten again.
    ASSERT_TRUE(compact_now(env, *log, c));
    EXPECT_EQ(log->last_compaction()->segments_rewritten, 0U);
    check(true);
    // The same after a crash (recovery scans the cleaned segments).
    ASSERT_TRUE(env.sync(*log).has_value());
    log.reset();
    log_env env2;
    log = env2.must_open(dir.path(), cfg);
    ASSERT_NE(log, nullptr);
    check(true);
}

TEST(compaction, a_segment_of_deleted_keys_only_keeps_a_tombstone_rather_than_a_value) {
    // Segment [a=1 a=null b=2] holds no live key: it keeps one record, preferably the tombstone
    // a=null (it hides nothing, so no other tombstone has to stay for it) over its last record
    // b=2 (which would pin b's tombstone, as in the test below).
    temp_dir dir;
    log_env env;
    compactor c;
    auto cfg = compacted_config();
    auto log = env.must_open(dir.path(), cfg);
    ASSERT_TRUE(log->append(make_keyed_batch({{"a", "1"}}, env.clock->load())).has_value());
    ASSERT_TRUE(
      log->append(make_keyed_batch({{"a", std::nullopt}, {"b", "2"}}, env.clock->load())).has_value());
    ASSERT_TRUE(log->roll().has_value());
    ASSERT_TRUE(
      log->append(make_keyed_batch({{"b", std::nullopt}, {"c", "3"}}, env.clock->load())).has_value());
    ASSERT_TRUE(log->roll().has_value());
    ASSERT_TRUE(log->append(make_keyed_batch({{"d", "4"}}, env.clock->load())).has_value());
    env.clock->fetch_add(cfg.delete_retention_ms + 1);
    for (int run = 0; run < 2; ++run) {
        ASSERT_TRUE(compact_now(env, *log, c));
        auto contents = read_all(*log);
        ASSERT_TRUE(contents.valid) << contents.problem;
        std::vector<std::string> seen;
        for (const auto& r : contents.records) {
            seen.push_back(fmt::format("{}@{}={}", r.key, r.offset, r.value.value_or("null")));
        }
        EXPECT_EQ(seen, (std::vector<std::string>{"a@1=null", "c@4=3", "d@5=4"}));
    }
}

TEST(compaction, refuses_records_without_a_key_and_ignores_retention_unless_delete) {
    temp_dir dir;
    log_env env;
    auto cfg = compacted_config();
    cfg.retention_bytes = 0;
    cfg.retention_ms = 0;
    auto log = env.must_open(dir.path(), cfg);
    model::record_batch_builder keyless{model::timestamp(env.clock->load())};
    keyless.add(std::nullopt, std::string_view("v"));
    auto refused = log->append(keyless.build());
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, errc::invalid_batch);
    EXPECT_EQ(refused.error().batch_error, model::batch_errc::invalid_record_count);
    EXPECT_NE(refused.error().message.find("without a key"), std::string::npos);

    fill(env, *log, 30, 5);
    ASSERT_TRUE(log->roll().has_value());
    env.clock->fetch_add(10'000);
    auto kept = log->apply_retention();
    ASSERT_TRUE(kept.has_value());
    EXPECT_EQ(kept->segments_removed, 0U); // cleanup.policy=compact: no retention

    cfg.delete_by_retention = true; // compact,delete
    ASSERT_TRUE(log->set_config(cfg).has_value());
    auto removed = log->apply_retention();
    ASSERT_TRUE(removed.has_value());
    EXPECT_GT(removed->segments_removed, 0U);
    EXPECT_TRUE(log->append(keyless.build()).has_value() == false);

    log_config both_off = cfg;
    both_off.compact = false;
    both_off.delete_by_retention = false;
    EXPECT_FALSE(both_off.validate().has_value());
    log_config bad_ratio;
    bad_ratio.min_cleanable_dirty_ratio = 1.5;
    EXPECT_FALSE(bad_ratio.validate().has_value());
    log_config bad_retention;
    bad_retention.delete_retention_ms = -1;
    EXPECT_FALSE(bad_retention.validate().has_value());
}

TEST(compaction, a_small_key_map_cleans_a_prefix_and_later_runs_finish) {
    temp_dir dir;
    log_env env;
    compactor small(1, 400); // a few keys per run
    auto log = env.must_open(dir.path(), compacted_config());
    const latest_map expected = fill(env, *log, 60, 25);
    ASSERT_TRUE(log->roll().has_value());
    const auto ranges = segment_ranges(*log);
    const model::offset sealed_end(ranges.back().first);
    ASSERT_TRUE(compact_now(env, *log, small));
    ASSERT_LT(log->last_compaction()->cleaned_up_to, sealed_end);
    int runs = 1;
    while (log->last_compaction()->cleaned_up_to < sealed_end && runs < 200) {
        ASSERT_TRUE(compact_now(env, *log, small));
        ++runs;
        auto contents = read_all(*log);
        ASSERT_TRUE(contents.valid) << contents.problem;
        ASSERT_EQ(contents.latest(), expected);
    }
    EXPECT_EQ(log->last_compaction()->cleaned_up_to, sealed_end);
    EXPECT_GT(runs, 2);
    // Partial runs never drop a record the map did not know was superseded; a full run with a
    // big map then finds exactly the newest per key in sealed data.
    compactor big;
    ASSERT_TRUE(compact_now(env, *log, big));
    auto contents = read_all(*log);
    ASSERT_TRUE(contents.valid) << contents.problem;
    EXPECT_EQ(contents.latest(), expected);
    expect_only_newest_in_sealed(*log, contents);
    EXPECT_EQ(segment_ranges(*log), ranges);
}

// --- crash points: every file state a crash can leave during a swap -------------------------

enum class swap_step : uint8_t { cleaned_written, indexes_removed, log_renamed, index_renamed, all_renamed };

void apply_step(const std::filesystem::path& dir, model::offset base, swap_step step) {
    const std::string stem = segment::file_stem(base);
    if (step >= swap_step::indexes_removed) {
        std::filesystem::remove(dir / (stem + ".index"));
        std::filesystem::remove(dir / (stem + ".timeindex"));
    }
    if (step >= swap_step::log_renamed) {
        std::filesystem::rename(cleaned_log_path(dir, base), dir / (stem + ".log"));
    }
    if (step >= swap_step::index_renamed) {
        std::filesystem::rename(cleaned_index_path(dir, base), dir / (stem + ".index"));
    }
    if (step >= swap_step::all_renamed) {
        std::filesystem::rename(cleaned_time_index_path(dir, base), dir / (stem + ".timeindex"));
    }
}

TEST(compaction_crash, every_intermediate_file_state_reopens_intact) {
    temp_dir root;
    const auto original = root.path() / "original";
    latest_map expected;
    std::vector<std::pair<int64_t, int64_t>> ranges;
    std::vector<model::offset> cleaned_bases;
    {
        log_env env;
        auto log = env.must_open(original, compacted_config());
        // Tombstones, old enough to go, so that a swap drops them too.
        expected = fill(env, *log, 50, 8);
        ASSERT_TRUE(log->append(make_keyed_batch({{"k1", std::nullopt}, {"k2", "x"}}, 0)).has_value());
        expected["k1"] = std::nullopt;
        expected["k2"] = "x";
        ASSERT_TRUE(log->roll().has_value());
        ASSERT_TRUE(log->append(make_keyed_batch({{"k3", "y"}}, env.clock->load())).has_value());
        expected["k3"] = "y";
        ranges = segment_ranges(*log);
        ASSERT_TRUE(log->close().has_value()); // a clean checkpoint: the worst case for trust
    }
    // The cleaner's output, left next to the original segments as a crash would find it.
    {
        compaction_input in;
        in.dir = original;
        in.dirty_start = model::offset(0);
        in.now_ms = 10'000'000;
        in.delete_retention_ms = 1000;
        in.index_interval_bytes = 128;
        for (size_t i = 0; i + 1 < ranges.size(); ++i) {
            auto f = file::open(original / (segment::file_stem(model::offset(ranges[i].first)) + ".log"),
                                open_mode::read_only);
            ASSERT_TRUE(f.has_value());
            auto size = f->size();
            ASSERT_TRUE(size.has_value());
            in.segments.push_back(segment_snapshot{model::offset(ranges[i].first),
                                                   model::offset(ranges[i].second), *size,
                                                   std::make_shared<const file>(std::move(*f))});
        }
        std::atomic<bool> cancel{false};
        auto out = clean_segments(in, cancel);
        ASSERT_TRUE(out.has_value()) << out.error().message;
        ASSERT_GT(out->segments.size(), 1U);
        EXPECT_EQ(out->tombstones_removed, 1U);
        for (const cleaned_segment& c : out->segments) {
            cleaned_bases.push_back(c.base);
        }
    }
    const latest_map after_compaction = [&] {
        latest_map m = expected;
        m.erase("k1");
        return m;
    }();
    for (size_t j = 0; j < cleaned_bases.size(); ++j) {
        for (auto step : {swap_step::cleaned_written, swap_step::indexes_removed, swap_step::log_renamed,
                          swap_step::index_renamed, swap_step::all_renamed}) {
            SCOPED_TRACE(::testing::Message() << "segment " << j << " step " << static_cast<int>(step));
            const auto dir =
              root.path() / ("state-" + std::to_string(j) + "-" + std::to_string(static_cast<int>(step)));
            std::filesystem::copy(original, dir);
            for (size_t before = 0; before < j; ++before) { // swapped in order: earlier ones are done
                apply_step(dir, cleaned_bases[before], swap_step::all_renamed);
            }
            apply_step(dir, cleaned_bases[j], step);
            log_env env;
            auto log = env.must_open(dir, compacted_config());
            ASSERT_NE(log, nullptr);
            EXPECT_FALSE(has_cleaned_files(dir));
            auto contents = read_all(*log);
            ASSERT_TRUE(contents.valid) << contents.problem;
            EXPECT_EQ(segment_ranges(*log), ranges);
            // The tombstone's segment comes after the older values' one: it is gone only once those are.
            const auto latest = contents.latest();
            EXPECT_TRUE(latest == expected || latest == after_compaction);
            for (const auto& [k, v] : after_compaction) {
                EXPECT_EQ(latest.at(k), v) << k;
            }
            // Compaction works on the recovered log.
            compactor c;
            ASSERT_TRUE(compact_now(env, *log, c));
            auto again = read_all(*log);
            ASSERT_TRUE(again.valid) << again.problem;
            EXPECT_TRUE(again.latest() == expected || again.latest() == after_compaction);
        }
    }
}

// --- failing system calls during a run or its swap ------------------------------------------

TEST(compaction_faults, a_failed_step_leaves_the_log_whole) {
    const std::vector<std::pair<const char*, fault>> cases{
      {"cleaner write", fault{.op = fault_op::write, .path_contains = ".log.cleaned"}},
      {"cleaner write ENOSPC", fault{.op = fault_op::write, .error = ENOSPC, .path_contains = ".cleaned"}},
      {"cleaner fdatasync", fault{.op = fault_op::datasync, .path_contains = ".cleaned"}},
      {"remove old index", fault{.op = fault_op::unlink, .path_contains = ".timeindex", .skip = 0}},
      {"rename log", fault{.op = fault_op::rename, .path_contains = ".log.cleaned", .skip = 1}},
      {"rename index", fault{.op = fault_op::rename, .path_contains = ".index.cleaned", .skip = 1}},
      {"rename time index", fault{.op = fault_op::rename, .path_contains = ".timeindex.cleaned"}},
    };
    for (const auto& [name, f] : cases) {
        SCOPED_TRACE(name);
        temp_dir dir;
        latest_map expected;
        std::vector<std::pair<int64_t, int64_t>> ranges;
        {
            log_env env;
            compactor c;
            auto log = env.must_open(dir.path(), compacted_config());
            expected = fill(env, *log, 60, 6);
            ASSERT_TRUE(log->roll().has_value());
            ranges = segment_ranges(*log);
            fault_injection::guard faults;
            faults.arm(f);
            ASSERT_TRUE(compact_now(env, *log, c));
            EXPECT_GT(faults.fired(f.op), 0U);
            auto contents = read_all(*log);
            ASSERT_TRUE(contents.valid) << contents.problem;
            EXPECT_EQ(contents.latest(), expected);
            EXPECT_EQ(segment_ranges(*log), ranges);
            fault_injection::clear();
            ASSERT_TRUE(env.sync(*log).has_value());
            EXPECT_FALSE(has_cleaned_files(dir.path()));
            // The next run succeeds.
            ASSERT_TRUE(compact_now(env, *log, c));
            EXPECT_FALSE(log->last_compaction()->failure.has_value());
            auto after = read_all(*log);
            ASSERT_TRUE(after.valid) << after.problem;
            EXPECT_EQ(after.latest(), expected);
            ASSERT_TRUE(env.sync(*log).has_value());
        } // a crash: no close
        log_env env;
        auto log = env.must_open(dir.path(), compacted_config());
        ASSERT_NE(log, nullptr);
        auto contents = read_all(*log);
        ASSERT_TRUE(contents.valid) << contents.problem;
        EXPECT_EQ(contents.latest(), expected);
        EXPECT_EQ(segment_ranges(*log), ranges);
    }
}

// --- the compactor thread racing the owner (meant for TSan) ----------------------------------

TEST(compaction_threads, a_run_races_appends_retention_reads_and_close) {
    compactor c(2);
    for (int round = 0; round < 12; ++round) {
        SCOPED_TRACE(round);
        temp_dir dir;
        log_env env;
        auto cfg = compacted_config();
        cfg.delete_by_retention = (round % 2) == 0; // compact,delete: retention removes segments meanwhile
        cfg.retention_bytes = 6000;
        cfg.retention_ms = -1;
        auto log = env.must_open(dir.path(), cfg);
        fill(env, *log, 60, 9);
        ASSERT_TRUE(log->roll().has_value());
        ASSERT_TRUE(log->start_compaction(c, true));
        int step = 0;
        while (log->compacting() && step < 10'000) {
            fill(env, *log, 1, 9, 100 + step);
            if (step % 3 == 0) {
                ASSERT_TRUE(log->apply_retention().has_value());
            }
            if (step % 5 == 0) {
                auto contents = read_all(*log);
                ASSERT_TRUE(contents.valid) << contents.problem;
            }
            if (round % 3 == 2 && step == 2) {
                break; // close with the run in flight
            }
            env.exec.run_pending();
            ++step;
        }
        if (round % 3 == 2) {
            ASSERT_TRUE(log->close().has_value());
            EXPECT_FALSE(log->compacting());
            EXPECT_FALSE(has_cleaned_files(dir.path()));
            env.exec.run_pending(); // the run's posted swap finds it taken
            continue;
        }
        ASSERT_TRUE(env.exec.run_until([&] { return !log->compacting(); }));
        auto contents = read_all(*log);
        ASSERT_TRUE(contents.valid) << contents.problem;
        ASSERT_TRUE(env.sync(*log).has_value());
        ASSERT_TRUE(log->close().has_value());
        EXPECT_FALSE(has_cleaned_files(dir.path()));
    }
}

} // namespace
} // namespace ms::storage
