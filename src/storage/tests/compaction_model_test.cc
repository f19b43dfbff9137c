// Model-based test of log compaction: random appends of keyed records (a small key space, some
// tombstones, every codec), rolls, compactions run to completion (with a large and a tiny key
// map), clock jumps, appends during a run, and clean and crash reopens, against an in-memory
// model of every record ever appended. After each step the log read from its start must give
// strictly increasing offsets, only records the model has, the newest value of every key, every
// tombstone younger than delete.retention.ms that is still the newest of its key, and unchanged
// segment boundaries and log end. After a full run, records of deleted keys are left only where a
// segment had nothing else to keep (no record of a live key) or a tombstone still hides a value.

#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <map>
#include <ostream>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "storage/tests/compaction_test_support.h"

namespace ms::storage {
namespace {

using testing::keyed_record;
using testing::log_env;
using testing::temp_dir;

enum class op_kind : uint8_t {
    append,
    roll,
    compact,
    compact_small,
    compact_while_appending,
    tick,
    reopen_clean,
    reopen_crash
};

struct op {
    op_kind kind = op_kind::append;
    int a = 0;
    int b = 0;
};

[[maybe_unused]] void showValue(const op& o, std::ostream& os) { // NOLINT(readability-identifier-naming)
    static constexpr std::array names{
      "append", "roll",         "compact",     "compact_small", "compact_while_appending",
      "tick",   "reopen_clean", "reopen_crash"};
    os << names[static_cast<size_t>(o.kind)] << "(" << o.a << "," << o.b << ")";
}

rc::Gen<op> gen_op() {
    return rc::gen::construct<op>(rc::gen::weightedElement<op_kind>({{12, op_kind::append},
                                                                     {3, op_kind::roll},
                                                                     {3, op_kind::compact},
                                                                     {1, op_kind::compact_small},
                                                                     {1, op_kind::compact_while_appending},
                                                                     {2, op_kind::tick},
                                                                     {1, op_kind::reopen_clean},
                                                                     {1, op_kind::reopen_crash}}),
                                  rc::gen::inRange(0, 1 << 20), rc::gen::inRange(0, 1 << 20));
}

struct model_record {
    std::string key;
    std::optional<std::string> value;
    int64_t ts = 0;
};

constexpr int64_t delete_retention_ms = 10'000;

struct harness {
    temp_dir dir;
    log_config cfg;
    std::unique_ptr<log_env> env = std::make_unique<log_env>();
    std::unique_ptr<partition_log> log;
    std::map<int64_t, model_record> records; // every record ever appended, by offset
    int64_t end = 0;
    compactor big{1};
    compactor small{1, 200};

    void append(int seed) {
        const int count = 1 + seed % 4;
        std::vector<keyed_record> batch;
        for (int i = 0; i < count; ++i) {
            const int r = (seed >> (2 + 4 * i)) & 0xff;
            keyed_record rec{"key-" + std::to_string(r % 6), std::nullopt};
            if (r % 5 != 0) { // one in five is a tombstone
                rec.value = "v" + std::to_string(end + i) + std::string(static_cast<size_t>(r % 40), 'x');
            }
            batch.push_back(rec);
        }
        static constexpr std::array codecs{model::compression::none, model::compression::zstd,
                                           model::compression::lz4, model::compression::gzip,
                                           model::compression::snappy};
        const int64_t ts = env->clock->load();
        auto appended =
          log->append(testing::make_keyed_batch(batch, ts, codecs[static_cast<size_t>(seed >> 18) % 5]));
        RC_ASSERT(appended.has_value());
        RC_ASSERT(appended->base_offset.value() == end);
        for (const keyed_record& r : batch) {
            records[end++] = model_record{r.key, r.value, ts};
        }
    }

    void compact(compactor& c, bool force, bool check_kept = false) {
        const auto ranges = testing::segment_ranges(*log);
        const auto before = testing::read_all(*log);
        if (log->start_compaction(c, force)) {
            RC_ASSERT(env->exec.run_until([&] { return !log->compacting(); }));
            RC_ASSERT(log->last_compaction().has_value());
            if (check_kept) {
                check_deleted_keys_after_full_run(ranges, before, testing::read_all(*log));
            }
        }
        RC_ASSERT(testing::segment_ranges(*log) == ranges);
    }

    // After a run whose key map covered all sealed data: a deleted key (its newest sealed record a
    // tombstone) keeps an older record only as the single record of a segment that held no record
    // of a live key before the run, and keeps an expired tombstone only when that is such a
    // segment's single record or an older value of its key is still there (which it hides).
    void check_deleted_keys_after_full_run(const std::vector<std::pair<int64_t, int64_t>>& ranges,
                                           const testing::log_contents& before,
                                           const testing::log_contents& after) const {
        const int64_t active_base = ranges.back().first;
        std::map<std::string, int64_t> sealed_newest;
        for (const auto& [o, r] : records) {
            if (o < active_base) {
                sealed_newest[r.key] = o;
            }
        }
        auto live = [&](const std::string& key) {
            auto it = sealed_newest.find(key);
            return it != sealed_newest.end() && records.at(it->second).value.has_value();
        };
        auto segment_of = [&](int64_t o) {
            return *std::find_if(ranges.begin(), ranges.end(),
                                 [&](const auto& r) { return r.first <= o && o < r.second; });
        };
        auto records_in = [](const testing::log_contents& c, std::pair<int64_t, int64_t> seg) {
            std::vector<const testing::read_record*> out;
            for (const auto& r : c.records) {
                if (seg.first <= r.offset && r.offset < seg.second) {
                    out.push_back(&r);
                }
            }
            return out;
        };
        for (const auto& r : after.records) {
            if (r.offset >= active_base || live(r.key)) {
                continue;
            }
            const auto seg = segment_of(r.offset);
            const bool alone = records_in(after, seg).size() == 1;
            bool had_live = false;
            for (const auto* b : records_in(before, seg)) {
                had_live = had_live || live(b->key);
            }
            if (r.offset != sealed_newest.at(r.key)) {
                RC_ASSERT(alone);
                RC_ASSERT(!had_live);
                continue;
            }
            const model_record& m = records.at(r.offset);
            if (m.value || clock - m.ts <= delete_retention_ms || (alone && !had_live)) {
                continue;
            }
            const bool hides_a_value =
              std::any_of(after.records.begin(), after.records.end(), [&](const auto& x) {
                  return x.key == r.key && x.offset < r.offset && x.value.has_value();
              });
            RC_ASSERT(hides_a_value);
        }
    }

    void reopen(bool clean) {
        if (clean) {
            RC_ASSERT(log->close().has_value());
        }
        log.reset();
        env = std::make_unique<log_env>();
        env->clock->store(clock);
        auto again = env->open(dir.path(), cfg);
        RC_ASSERT(again.has_value());
        log = std::move(*again);
    }

    void check(bool full_run) const {
        RC_ASSERT(log->log_end_offset().value() == end);
        const auto contents = testing::read_all(*log);
        if (!contents.valid) {
            RC_FAIL(contents.problem);
        }
        // Only records the model has, at their offsets.
        for (const auto& r : contents.records) {
            auto it = records.find(r.offset);
            RC_ASSERT(it != records.end());
            RC_ASSERT(it->second.key == r.key);
            RC_ASSERT(it->second.value == r.value);
        }
        // The newest record of each key: a value is always there; a tombstone while it is young.
        std::map<std::string, int64_t> newest;
        for (const auto& [o, r] : records) {
            newest[r.key] = o;
        }
        std::set<int64_t> present;
        for (const auto& r : contents.records) {
            present.insert(r.offset);
        }
        for (const auto& [key, o] : newest) {
            const model_record& r = records.at(o);
            if (r.value || clock - r.ts <= delete_retention_ms) {
                RC_ASSERT(present.count(o) == 1U);
            }
        }
        // A consumer ends with the model's values (an absent key = deleted).
        auto latest = contents.latest();
        for (const auto& [key, o] : newest) {
            const auto& value = records.at(o).value;
            auto it = latest.find(key);
            RC_ASSERT((it == latest.end() ? std::optional<std::string>{} : it->second) == value);
        }
        if (full_run) {
            // Sealed data holds only the newest record of each key (as far as sealed data goes),
            // but for the single record a segment keeps when all of its records were superseded.
            RC_ASSERT(!testing::superseded_in_sealed(*log, contents).has_value());
        }
    }

    int64_t clock = 1'000'000;
};

RC_GTEST_PROP(compaction_model, random_sequences_keep_the_newest_value_of_every_key, ()) {
    // At most 60 steps: each run fsyncs, and the suite runs the property up to 1500 times.
    const auto ops = *rc::gen::resize(60, rc::gen::container<std::vector<op>>(gen_op()));
    harness h;
    h.cfg = testing::compacted_config();
    h.cfg.segment_bytes = *rc::gen::inRange<uint64_t>(200, 2000);
    h.cfg.index_interval_bytes = *rc::gen::inRange<uint32_t>(1, 512);
    h.cfg.delete_retention_ms = delete_retention_ms;
    h.cfg.min_cleanable_dirty_ratio = 0.0;
    auto opened = h.env->open(h.dir.path(), h.cfg);
    RC_ASSERT(opened.has_value());
    h.log = std::move(*opened);

    for (const op& o : ops) {
        bool full_run = false;
        switch (o.kind) {
        case op_kind::append: h.append(o.a); break;
        case op_kind::roll: RC_ASSERT(h.log->roll().has_value()); break;
        case op_kind::compact:
            h.compact(h.big, true, true);
            full_run = true;
            break;
        case op_kind::compact_small: h.compact(h.small, (o.a & 1) != 0); break;
        case op_kind::compact_while_appending: {
            const auto ranges = testing::segment_ranges(*h.log);
            if (h.log->start_compaction(h.big, true)) {
                for (int i = 0; i < 1 + o.a % 4; ++i) {
                    h.append(o.b + i);
                }
                if ((o.a & 16) != 0) {
                    RC_ASSERT(h.log->roll().has_value());
                }
                RC_ASSERT(h.env->exec.run_until([&] { return !h.log->compacting(); }));
            }
            const auto now = testing::segment_ranges(*h.log);
            RC_ASSERT(std::equal(ranges.begin(), ranges.end() - 1, now.begin()));
            break;
        }
        case op_kind::tick:
            h.clock += o.a % (2 * delete_retention_ms);
            h.env->clock->store(h.clock);
            break;
        case op_kind::reopen_clean: h.reopen(true); break;
        case op_kind::reopen_crash: h.reopen(false); break;
        }
        h.check(full_run);
    }
    RC_ASSERT(h.log->close().has_value());
}

} // namespace
} // namespace ms::storage
