#pragma once

// The two sparse indexes of a segment, kept in memory and written to their files when the segment
// is sealed, synced by the flusher, and on clean shutdown. Their on-disk layout is Kafka's:
//
//   <base>.index      entries of 8 bytes:  relative offset u32 BE | file position u32 BE
//   <base>.timeindex  entries of 12 bytes: timestamp i64 BE       | relative offset u32 BE
//
// Offset index: one entry per `index.interval.bytes` of log, mapping the base offset of a batch
// (relative to the segment's base offset) to its byte position. Time index: an entry each time
// the largest timestamp seen grows and an interval has passed, mapping that timestamp to the
// relative offset of the batch holding it; timestamps are strictly increasing.
// Both are only trusted after validation (see load); a stale or bad file is rebuilt by a scan.
// Owned by one shard; not thread-safe.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "model/fundamental.h"
#include "storage/errors.h"

namespace ms::storage {

struct offset_index_entry {
    uint32_t relative_offset;
    uint32_t position;
    bool operator==(const offset_index_entry&) const = default;
};

struct time_index_entry {
    model::timestamp timestamp;
    uint32_t relative_offset;
    bool operator==(const time_index_entry&) const = default;
};

class segment_index {
public:
    static constexpr size_t offset_entry_size = 8;
    static constexpr size_t time_entry_size = 12;

    explicit segment_index(model::offset base_offset) noexcept : _base(base_offset) {}

    // Offers the batch just written at `position`. `bytes_since_entry` is maintained here.
    void on_batch(model::offset batch_base, uint32_t position, uint32_t batch_size,
                  model::timestamp batch_max_timestamp, uint32_t interval_bytes);
    // Records the segment's largest timestamp as a final time index entry (on seal), so lookups
    // by time never have to scan past the last entry to learn a sealed segment's maximum.
    void seal(model::timestamp max_timestamp, model::offset max_timestamp_offset);
    // After load: the counters that decide when the next entries are due, from what the caller
    // learned by scanning the log past the last entry.
    void restore_tail(uint32_t bytes_since_entry, model::timestamp max_timestamp);
    // Drops entries at or past `position` / `next_offset` (after a truncation).
    void truncate(uint32_t position, model::offset next_offset);
    void clear();

    // The position to start scanning from to find the batch containing `target`: the position of
    // the last entry whose offset is <= target, or 0.
    [[nodiscard]] uint32_t lookup_position(model::offset target) const noexcept;
    // The offset to start scanning from to find the first batch with a timestamp >= ts: the
    // offset of the last time entry whose timestamp is < ts, or the base offset.
    [[nodiscard]] model::offset lookup_time(model::timestamp ts) const noexcept;

    [[nodiscard]] std::span<const offset_index_entry> offset_entries() const noexcept { return _offsets; }
    [[nodiscard]] std::span<const time_index_entry> time_entries() const noexcept { return _times; }

    // Encoded file contents.
    [[nodiscard]] std::vector<std::byte> encode_offset_index() const;
    [[nodiscard]] std::vector<std::byte> encode_time_index() const;

    // Loads both files; fails (corrupt) when a file is missing, has a partial entry, is not
    // monotonic, or points past `log_size`. The caller then rebuilds the index by a scan.
    static result<segment_index> load(const std::filesystem::path& offset_index_path,
                                      const std::filesystem::path& time_index_path, model::offset base_offset,
                                      uint64_t log_size);

private:
    model::offset _base;
    std::vector<offset_index_entry> _offsets;
    std::vector<time_index_entry> _times;
    uint32_t _bytes_since_entry = 0;
    model::timestamp _max_timestamp = model::no_timestamp;
    uint32_t _bytes_since_time_entry = 0;
};

} // namespace ms::storage
