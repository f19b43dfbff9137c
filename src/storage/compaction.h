#pragma once

// Log compaction (cleanup.policy=compact): the cleaner's part, which runs on a compactor thread
// (compactor.h) over the immutable files of sealed segments and writes cleaned copies next to
// them. partition_log swaps the copies in on its owner thread. Rules (docs/compaction.md):
//
//   key map    newest offset of each key in [dirty_start, mapped_end) and whether that record is
//              a tombstone, exact keys, bounded by key_map_bytes; when full, mapped_end stops at
//              the record that did not fit and only the segments below mapped_end are cleaned.
//   a record   is dropped when the map knows a newer offset for its key (superseded), or when it
//              is a tombstone (null value) below mapped_end that nothing newer supersedes, whose
//              batch's max timestamp is more than delete_retention_ms before now, and whose key is
//              not the key of an earlier segment left with a single value (which may be an older
//              value the tombstone still has to hide). Records without a key and control batches
//              stay.
//   a batch    keeps its attributes, producer fields, codec and base timestamp; it is rewritten
//              with its retained records (offsets unchanged, offset deltas recomputed). A batch
//              left without records hands its offset range to the next retained batch of the
//              segment (whose base offset is lowered); trailing ones to the last retained batch
//              (whose lastOffsetDelta grows). Batches stay dense: each starts one past the end
//              of the one before. Unchanged batches are copied byte for byte.
//   a segment  keeps its offset range. One that would retain nothing keeps one record (the anchor)
//              as a single batch spanning the whole range: the last one whose key's newest record
//              is a value, else the last tombstone, else the last record (whose key's tombstone
//              then stays, see above). One that is already just its anchor is left as it is.
//
// The cleaned copy of segment <base> is <base>.log.cleaned with its indexes in
// <base>.index.cleaned and <base>.timeindex.cleaned, all fdatasync'ed before they are handed over.
// Leftover *.cleaned files (a crash, a run discarded) are deleted when the log opens.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "model/fundamental.h"
#include "storage/errors.h"
#include "storage/file.h"
#include "storage/segment_index.h"

namespace ms::storage {

inline constexpr std::string_view cleaned_suffix = ".cleaned";
// The default bound on the memory of a run's key map (keys plus bookkeeping), as Kafka's
// log.cleaner.dedupe.buffer.size.
inline constexpr size_t default_key_map_bytes = size_t{128} * 1024 * 1024;

// A sealed segment as the cleaner sees it: bytes that no longer change, behind a descriptor
// shared with the segment (valid even if retention unlinks the file meanwhile).
struct segment_snapshot {
    model::offset base;
    model::offset next;
    uint64_t size = 0;
    std::shared_ptr<const file> log;
};

struct compaction_input {
    std::filesystem::path dir;
    std::vector<segment_snapshot> segments; // sealed segments from the log start, in offset order
    model::offset dirty_start;              // below it, an earlier run's key map covered every record
    int64_t now_ms = 0;
    int64_t delete_retention_ms = 0;
    uint32_t index_interval_bytes = 4096;
    size_t key_map_bytes = default_key_map_bytes;
};

// The cleaned copy of one segment, ready to be swapped in: its files are durable.
struct cleaned_segment {
    model::offset base;
    model::offset next;
    std::shared_ptr<const file> source; // the file it replaces: the swap checks it is still the one
    file log;                           // <base>.log.cleaned, open
    segment_index index{model::offset(0)};
    model::timestamp max_timestamp = model::no_timestamp;
    model::offset max_timestamp_offset;
    uint64_t bytes_before = 0;
    uint64_t bytes_after = 0;
    uint64_t records_before = 0;
    uint64_t records_after = 0;
};

struct compaction_output {
    std::vector<cleaned_segment> segments; // the segments that changed, in offset order
    model::offset mapped_end;              // the key map covered every record below this
    size_t segments_cleaned = 0;           // examined and rewritten if anything changed
    uint64_t bytes_before = 0;             // of the segments examined
    uint64_t bytes_after = 0;
    uint64_t records_before = 0;
    uint64_t records_after = 0;
    uint64_t tombstones_removed = 0;
};

// The cleaner's work; see the top of this file. Reads only `in.segments`' files, writes only
// *.cleaned files in `in.dir`. On an error or when `cancel` becomes true (errc::closed) it removes
// every file it wrote. Thread-safe with respect to the owner of the log.
[[nodiscard]] result<compaction_output> clean_segments(const compaction_input& in,
                                                       const std::atomic<bool>& cancel);

// The temporary files of segment `base`'s cleaned copy.
[[nodiscard]] std::filesystem::path cleaned_log_path(const std::filesystem::path& dir, model::offset base);
[[nodiscard]] std::filesystem::path cleaned_index_path(const std::filesystem::path& dir, model::offset base);
[[nodiscard]] std::filesystem::path cleaned_time_index_path(const std::filesystem::path& dir,
                                                            model::offset base);
// Removes a cleaned copy's files (missing ones are fine); logs what it could not remove.
void discard_cleaned(const std::filesystem::path& dir, model::offset base);

} // namespace ms::storage
