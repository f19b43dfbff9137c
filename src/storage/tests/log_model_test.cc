// Model-based test: random sequences of append / read / sync / roll / retention / offset lookup /
// clean reopen / crash reopen, run against the real log and an in-memory model of it. The model
// knows every record's offset, key and timestamp; the log must agree after every step.

#include <rapidcheck.h>

#include <array>
#include <map>
#include <ostream>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "storage/tests/log_test_support.h"

namespace ms::storage {
namespace {

using testing::log_env;
using testing::make_batch;
using testing::slurp;
using testing::temp_dir;

enum class op_kind : uint8_t {
    append,
    append_corrupt,
    read,
    sync,
    roll,
    retention,
    lookup_time,
    reopen_clean,
    reopen_crash
};

struct op {
    op_kind kind = op_kind::append;
    int a = 0; // op-specific: record count, read position jitter, retention bytes...
    int b = 0; // op-specific: value size, max bytes, timestamp...
};

// Lets RapidCheck print a failing sequence readably (RapidCheck looks for the name showValue).
[[maybe_unused]] void showValue(const op& o, std::ostream& os) { // NOLINT(readability-identifier-naming)
    static constexpr std::array names{"append",    "append_corrupt", "read",         "sync",        "roll",
                                      "retention", "lookup_time",    "reopen_clean", "reopen_crash"};
    os << names[static_cast<size_t>(o.kind)] << "(" << o.a << "," << o.b << ")";
}

struct model_batch {
    int64_t base = 0;
    int32_t count = 0;
    int64_t first_ts = 0;
};

struct log_model {
    std::map<int64_t, model_batch> batches; // by base offset
    int64_t start = 0;
    int64_t end = 0;

    const model_batch* containing(int64_t o) const {
        auto it = batches.upper_bound(o);
        if (it == batches.begin()) {
            return nullptr;
        }
        --it;
        return o < it->second.base + it->second.count ? &it->second : nullptr;
    }
};

void check_read(const partition_log& log, const log_model& m, int64_t at, uint64_t max_bytes) {
    auto r = log.read(model::offset(at), max_bytes);
    if (at < m.start || at > m.end) {
        RC_ASSERT(!r.has_value());
        RC_ASSERT(r.error().code == errc::offset_out_of_range);
        return;
    }
    RC_ASSERT(r.has_value());
    if (at == m.end) {
        RC_ASSERT(r->empty());
        return;
    }
    const model_batch* first = m.containing(at);
    RC_ASSERT(first != nullptr);
    RC_ASSERT(r->first_offset.value() == first->base);
    auto bytes = slurp(*r);
    auto headers = testing::split_batches(bytes);
    RC_ASSERT(!headers.empty());
    RC_ASSERT(headers.size() == 1 || r->bytes <= max_bytes);
    int64_t expect = first->base;
    for (const auto& h : headers) {
        const model_batch* mb = m.containing(expect);
        RC_ASSERT(mb != nullptr);
        RC_ASSERT(h.base_offset.value() == mb->base);
        RC_ASSERT(h.record_count == mb->count);
        RC_ASSERT(h.base_timestamp.value() == mb->first_ts);
        expect = mb->base + mb->count;
    }
    RC_ASSERT(r->next_offset.value() == expect);
    testing::expect_records_match_offsets(bytes);
    RC_ASSERT(!::testing::Test::HasFailure());
}

void check_state(const partition_log& log, const log_model& m) {
    RC_ASSERT(log.log_start_offset().value() == m.start);
    RC_ASSERT(log.log_end_offset().value() == m.end);
    check_read(log, m, m.start, 1ULL << 30);
}

rc::Gen<op> gen_op() {
    return rc::gen::apply(
      [](op_kind k, int a, int b) {
          return op{k, a, b};
      },
      rc::gen::weightedElement<op_kind>({{30, op_kind::append},
                                         {2, op_kind::append_corrupt},
                                         {20, op_kind::read},
                                         {5, op_kind::sync},
                                         {3, op_kind::roll},
                                         {3, op_kind::retention},
                                         {6, op_kind::lookup_time},
                                         {2, op_kind::reopen_clean},
                                         {2, op_kind::reopen_crash}}),
      rc::gen::inRange(0, 1000), rc::gen::inRange(0, 1000));
}

RC_GTEST_PROP(log_model, random_operation_sequences_agree_with_the_model, ()) {
    const auto ops = *rc::gen::container<std::vector<op>>(gen_op());
    log_config cfg;
    cfg.segment_bytes = *rc::gen::inRange<uint64_t>(400, 8192);
    cfg.index_interval_bytes = *rc::gen::inRange<uint32_t>(1, 1024);
    cfg.retention_ms = -1;

    temp_dir dir;
    auto env = std::make_unique<log_env>();
    auto opened = env->open(dir.path(), cfg);
    RC_ASSERT(opened.has_value());
    std::unique_ptr<partition_log> log = std::move(*opened);
    log_model m;

    for (const op& o : ops) {
        switch (o.kind) {
        case op_kind::append: {
            const int32_t count = 1 + o.a % 12;
            const int64_t ts = 10'000 + o.b * 7 % 5000; // timestamps jump around between batches
            auto r = log->append(make_batch(m.end, count, ts, static_cast<size_t>(o.b % 200)));
            RC_ASSERT(r.has_value());
            RC_ASSERT(r->base_offset.value() == m.end);
            m.batches[m.end] = model_batch{m.end, count, ts};
            m.end += count;
            break;
        }
        case op_kind::append_corrupt: {
            std::string bytes = make_batch(m.end, 2).to_string();
            bytes[21 + static_cast<size_t>(o.a) % (bytes.size() - 21)] ^= 0x20;
            auto r = log->append(iobuf::copy_of(bytes));
            RC_ASSERT(!r.has_value());
            RC_ASSERT(r.error().code == errc::invalid_batch);
            break;
        }
        case op_kind::read: {
            const int64_t at = m.start + (o.a % (m.end - m.start + 3)) - 1;
            check_read(*log, m, at, static_cast<uint64_t>(o.b) * 8);
            break;
        }
        case op_kind::sync: {
            auto d = env->sync(*log);
            RC_ASSERT(d.has_value());
            RC_ASSERT(d->value() == m.end);
            break;
        }
        case op_kind::roll: RC_ASSERT(log->roll().has_value()); break;
        case op_kind::retention: {
            log_config c = cfg;
            c.retention_bytes = static_cast<int64_t>(o.a) * 20;
            RC_ASSERT(log->set_config(c).has_value());
            const uint64_t size_before = log->size_bytes();
            auto r = log->apply_retention();
            RC_ASSERT(r.has_value());
            RC_ASSERT(log->size_bytes() == size_before - r->bytes_removed);
            const int64_t new_start = log->log_start_offset().value();
            RC_ASSERT(new_start >= m.start);
            RC_ASSERT(new_start <= m.end);
            RC_ASSERT(new_start == m.end || m.batches.count(new_start) == 1); // a batch boundary
            // What is left is still at least the limit, unless only the active segment is left.
            RC_ASSERT(r->segments_removed == 0 || log->segments().size() == 1 ||
                      log->size_bytes() >= static_cast<uint64_t>(c.retention_bytes));
            m.batches.erase(m.batches.begin(), m.batches.lower_bound(new_start));
            m.start = new_start;
            RC_ASSERT(log->set_config(cfg).has_value());
            break;
        }
        case op_kind::lookup_time: {
            const int64_t ts = 9'990 + o.a * 6;
            std::optional<int64_t> expected;
            for (const auto& [base, b] : m.batches) {
                for (int32_t i = 0; i < b.count && !expected; ++i) {
                    if (b.first_ts + i >= ts) {
                        expected = base + i;
                    }
                }
                if (expected) {
                    break;
                }
            }
            auto r = log->offset_for_timestamp(model::timestamp(ts));
            RC_ASSERT(r.has_value());
            RC_ASSERT(r->has_value() == expected.has_value());
            if (expected) {
                RC_ASSERT((*r)->value() == *expected);
            }
            break;
        }
        case op_kind::reopen_clean:
        case op_kind::reopen_crash: {
            if (o.kind == op_kind::reopen_clean) {
                RC_ASSERT(log->close().has_value());
            }
            log.reset();
            env = std::make_unique<log_env>();
            auto again = env->open(dir.path(), cfg);
            RC_ASSERT(again.has_value());
            log = std::move(*again);
            // After a crash the log may still count as clean when nothing changed since the
            // last clean start; after a close it must always be.
            RC_ASSERT(o.kind == op_kind::reopen_crash || log->recovery().clean);
            RC_ASSERT(log->recovery().bytes_truncated == 0U);
            break;
        }
        }
        RC_ASSERT(log->log_end_offset().value() == m.end);
        RC_ASSERT(log->log_start_offset().value() == m.start);
    }
    check_state(*log, m);
}

} // namespace
} // namespace ms::storage
