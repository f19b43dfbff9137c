#pragma once

// Shared fixtures for the storage tests: a private directory, an owner executor drained by the
// test thread, a flusher, and batches whose content is a pure function of their offsets so a
// reader can check every byte it gets back.

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/executor.h"
#include "model/record_batch_builder.h"
#include "storage/partition_log.h"

namespace ms::storage::testing {

// A fresh directory under TMPDIR (or /tmp), removed with its contents at the end of the scope.
class temp_dir {
public:
    temp_dir() {
        const char* base = std::getenv("TMPDIR");
        std::filesystem::path root = base != nullptr ? base : "/tmp";
        std::string pattern = (root / "ms-storage-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        _path = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(_path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return _path; }

private:
    std::filesystem::path _path;
};

// The value of the record at `offset`: checkable by anyone who knows the offset.
inline std::string value_for(int64_t offset, size_t size = 32) {
    std::string v = "value-" + std::to_string(offset) + "-";
    while (v.size() < size) {
        v.push_back(static_cast<char>('a' + (offset + static_cast<int64_t>(v.size())) % 26));
    }
    v.resize(std::max(size, v.size()));
    return v;
}

// A batch of `count` records for offsets [first, first + count), timestamps ts, ts+1, ...
inline iobuf make_batch(int64_t first, int32_t count, int64_t ts = 1000, size_t value_size = 32) {
    model::record_batch_builder b{model::timestamp(ts)};
    for (int32_t i = 0; i < count; ++i) {
        const std::string key = "key-" + std::to_string(first + i);
        const std::string value = value_for(first + i, value_size);
        b.add(key, value, model::timestamp(ts + i));
    }
    return b.build(model::offset(first));
}

// An owner thread (the test thread, draining `exec`), a flusher and a controllable clock.
struct log_env {
    log_env() = default;
    explicit log_env(size_t flusher_threads) : flush(flusher_threads) {}

    manual_executor exec;
    flusher flush{1};
    std::shared_ptr<std::atomic<int64_t>> clock = std::make_shared<std::atomic<int64_t>>(1'000'000);

    log_services services() {
        auto c = clock;
        return log_services{&exec, &flush, [c] { return c->load(); }};
    }

    result<std::unique_ptr<partition_log>> open(const std::filesystem::path& dir, log_config cfg = {}) {
        return partition_log::open(dir, cfg, services());
    }

    // Opens the log, recording a test failure (with the reason) when it cannot.
    std::unique_ptr<partition_log> must_open(const std::filesystem::path& dir, log_config cfg = {}) {
        auto log = open(dir, cfg);
        EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().message);
        return log ? std::move(*log) : nullptr;
    }

    // Runs a sync to completion on this thread.
    result<model::offset> sync(partition_log& log) {
        std::optional<result<model::offset>> out;
        log.sync([&](result<model::offset> r) { out.emplace(std::move(r)); });
        EXPECT_TRUE(exec.run_until([&] { return out.has_value(); })) << "sync did not complete";
        if (!out) {
            return unexpected(error{errc::io_error, "sync timed out"});
        }
        return std::move(*out);
    }
};

// Reads the bytes of a read_result's slices back into memory.
inline std::vector<std::byte> slurp(const read_result& r) {
    std::vector<std::byte> out;
    for (const file_slice& s : r.slices) {
        const size_t at = out.size();
        out.resize(at + s.length);
        auto ok = s.source->read_exact(s.position, std::span<std::byte>(out).subspan(at, s.length));
        EXPECT_TRUE(ok.has_value());
    }
    return out;
}

// Splits concatenated batches, validating each; returns their headers.
inline std::vector<model::record_batch_header> split_batches(std::span<const std::byte> bytes) {
    std::vector<model::record_batch_header> out;
    size_t pos = 0;
    while (pos < bytes.size()) {
        auto h = model::peek_batch_header(bytes.subspan(pos));
        EXPECT_TRUE(h.has_value());
        if (!h) {
            break;
        }
        auto v = model::validate_batch(bytes.subspan(pos, h->size_bytes()), model::batch_limits{});
        EXPECT_TRUE(v.has_value()) << "served batch at byte " << pos << " is invalid";
        out.push_back(*h);
        pos += h->size_bytes();
    }
    return out;
}

// Checks that every record in `bytes` has the key and value that make_batch gives its offset.
inline void expect_records_match_offsets(std::span<const std::byte> bytes) {
    size_t pos = 0;
    while (pos < bytes.size()) {
        auto h = model::peek_batch_header(bytes.subspan(pos));
        ASSERT_TRUE(h.has_value());
        auto batch = bytes.subspan(pos, h->size_bytes());
        auto walked = model::for_each_record(
          batch.subspan(model::batch_header_size), h->record_count, [&](const model::record_view& r) {
              const int64_t o = h->base_offset.value() + r.offset_delta;
              ASSERT_TRUE(r.key.has_value());
              ASSERT_TRUE(r.value.has_value());
              const std::string key(reinterpret_cast<const char*>(r.key->data()), r.key->size());
              const std::string value(reinterpret_cast<const char*>(r.value->data()), r.value->size());
              EXPECT_EQ(key, "key-" + std::to_string(o));
              EXPECT_EQ(value.rfind("value-" + std::to_string(o) + "-", 0), 0U)
                << "offset " << o << " holds " << value.substr(0, 40);
          });
        ASSERT_TRUE(walked.has_value());
        pos += h->size_bytes();
    }
}

// Appends `batches` batches of `count` records from offset `end`, the record at offset o with
// timestamp ts + (o - end); returns the new end.
inline int64_t append_batches(partition_log& log, int64_t end, int batches, int32_t count = 4,
                              int64_t ts = 1000) {
    const int64_t first = end;
    for (int i = 0; i < batches; ++i) {
        auto r = log.append(make_batch(end, count, ts + (end - first)));
        EXPECT_TRUE(r.has_value()) << r.error().message;
        EXPECT_EQ(r->base_offset.value(), end);
        end += count;
    }
    return end;
}

// Every record from the log start to `end` is there, at its offset, intact.
inline void expect_log_holds(const partition_log& log, int64_t end) {
    EXPECT_EQ(log.log_end_offset().value(), end);
    auto r = log.read(log.log_start_offset(), 1ULL << 30);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->next_offset.value(), end);
    expect_records_match_offsets(slurp(*r));
}

} // namespace ms::storage::testing
