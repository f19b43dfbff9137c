#pragma once

// Helpers for the compaction tests: keyed batches, reading a whole log back record by record
// (checking every batch with the rules compacted segments follow), and running a compaction to
// completion on the test thread.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "model/record_batch_builder.h"
#include "model/record_reader.h"
#include "storage/compactor.h"
#include "storage/tests/log_test_support.h"

namespace ms::storage::testing {

struct keyed_record {
    std::string key;
    std::optional<std::string> value; // nullopt: a tombstone
};

inline iobuf make_keyed_batch(const std::vector<keyed_record>& records, int64_t ts,
                              model::compression codec = model::compression::none) {
    model::record_batch_builder b{model::timestamp(ts)};
    b.set_compression(codec);
    for (const keyed_record& r : records) {
        if (r.value) {
            b.add(std::string_view(r.key), std::string_view(*r.value), model::timestamp(ts));
        } else {
            b.add(std::string_view(r.key), std::nullopt, model::timestamp(ts));
        }
    }
    return b.build();
}

struct read_record {
    int64_t offset = 0;
    std::string key;
    std::optional<std::string> value;
};

struct log_contents {
    std::vector<read_record> records;
    std::vector<model::record_batch_header> batches;
    bool valid = true;   // every batch passed the sparse-offset validation, batches were dense
    std::string problem; // what failed first

    // The value a consumer materializing the log ends with, per key (nullopt = deleted).
    [[nodiscard]] std::map<std::string, std::optional<std::string>> latest() const {
        std::map<std::string, std::optional<std::string>> out;
        for (const read_record& r : records) {
            out[r.key] = r.value;
        }
        return out;
    }
};

// Reads the whole log from its start, as a consumer would.
inline log_contents read_all(const partition_log& log) {
    log_contents out;
    auto fail = [&](std::string why) {
        if (out.valid) {
            out.valid = false;
            out.problem = std::move(why);
        }
    };
    auto r = log.read(log.log_start_offset(), uint64_t{1} << 40);
    if (!r) {
        fail(r.error().message);
        return out;
    }
    const std::vector<std::byte> bytes = slurp(*r);
    const model::batch_limits limits{.max_batch_bytes = uint64_t{1} << 30,
                                     .check_records = true,
                                     .check_compressed_records = true,
                                     .allow_sparse_offsets = true};
    size_t pos = 0;
    int64_t expected_base = -1;
    int64_t last_offset = -1;
    model::record_reader reader;
    while (pos < bytes.size()) {
        auto h = model::peek_batch_header(std::span<const std::byte>(bytes).subspan(pos));
        if (!h || pos + h->size_bytes() > bytes.size()) {
            fail("truncated batch");
            break;
        }
        const auto batch = std::span<const std::byte>(bytes).subspan(pos, h->size_bytes());
        if (auto v = model::validate_batch(batch, limits); !v) {
            fail(fmt::format("batch at offset {}: {}", h->base_offset, model::describe(v.error())));
        }
        if (expected_base >= 0 && h->base_offset.value() != expected_base) {
            fail(fmt::format("batch base {} does not follow the previous batch (expected {})", h->base_offset,
                             expected_base));
        }
        expected_base = h->last_offset().value() + 1;
        out.batches.push_back(*h);
        if (!reader.reset(batch)) {
            fail("unreadable batch");
            break;
        }
        auto walked = reader.for_each([&](const model::record_view& rec) {
            read_record rr;
            rr.offset = h->base_offset.value() + rec.offset_delta;
            rr.key =
              rec.key ? std::string(reinterpret_cast<const char*>(rec.key->data()), rec.key->size()) : "";
            if (rec.value) {
                rr.value = std::string(reinterpret_cast<const char*>(rec.value->data()), rec.value->size());
            }
            if (rr.offset <= last_offset) {
                fail(fmt::format("offset {} after {}", rr.offset, last_offset));
            }
            last_offset = rr.offset;
            out.records.push_back(std::move(rr));
        });
        if (!walked) {
            fail("records do not parse");
        }
        pos += h->size_bytes();
    }
    return out;
}

// In sealed segments, a record whose key has a newer record in a sealed segment may only be the
// single record of its segment (after a full run). Returns the offset of one that breaks this.
inline std::optional<int64_t> superseded_in_sealed(const partition_log& log, const log_contents& c) {
    const auto segs = log.segments();
    const int64_t active_base = segs.back().base_offset.value();
    std::map<std::string, int64_t> newest;
    for (const auto& r : c.records) {
        if (r.offset < active_base) {
            newest[r.key] = r.offset;
        }
    }
    for (const auto& r : c.records) {
        if (r.offset >= active_base || newest[r.key] == r.offset) {
            continue;
        }
        size_t in_segment = 0;
        for (const auto& s : segs) {
            if (s.base_offset.value() <= r.offset && r.offset < s.next_offset.value()) {
                for (const auto& x : c.records) {
                    in_segment +=
                      (x.offset >= s.base_offset.value() && x.offset < s.next_offset.value()) ? 1 : 0;
                }
            }
        }
        if (in_segment != 1) {
            return r.offset;
        }
    }
    return std::nullopt;
}

// Starts a compaction and runs the owner's executor until it has finished.
inline bool compact_now(log_env& env, partition_log& log, compactor& c, bool force = true) {
    if (!log.start_compaction(c, force)) {
        return false;
    }
    EXPECT_TRUE(env.exec.run_until([&] { return !log.compacting(); })) << "compaction did not finish";
    return true;
}

inline std::vector<std::pair<int64_t, int64_t>> segment_ranges(const partition_log& log) {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const segment_info& s : log.segments()) {
        out.emplace_back(s.base_offset.value(), s.next_offset.value());
    }
    return out;
}

inline log_config compacted_config() {
    log_config cfg;
    cfg.compact = true;
    cfg.delete_by_retention = false;
    cfg.segment_bytes = 1024;
    cfg.index_interval_bytes = 128;
    cfg.delete_retention_ms = 60'000;
    return cfg;
}

} // namespace ms::storage::testing
