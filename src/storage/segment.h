#pragma once

// segment: one `<base offset, 20 digits>.log` file of whole record batches plus its indexes.
//
//   <dir>/00000000000000001234.log        batches, exact record batch v2 bytes, back to back
//   <dir>/00000000000000001234.index      sparse offset index (segment_index.h)
//   <dir>/00000000000000001234.timeindex  sparse time index   (segment_index.h)
//
// A segment is owned by its partition_log (one shard). Its log file is held by shared_ptr so that
// read slices handed to the network and fdatasync jobs on the flusher keep the descriptor valid
// even after retention unlinks the file.

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>

#include "base/iobuf.h"
#include "model/record_batch.h"
#include "storage/file.h"
#include "storage/segment_index.h"

namespace ms::storage {

// Where a batch sits in a segment, and what its header says.
struct batch_location {
    uint64_t position = 0;
    model::record_batch_header header;
};

// A window of a segment's log file for walking batch headers: one pread brings in every header
// of the next few KiB, so scanning small batches costs a syscall per window, not one per batch.
// Belongs to one segment and one walk (a later append is not seen by a filled window). After a
// batch larger than a quarter window only the next header is read, so walking large batches (sent
// with sendfile) does not copy their bytes.
struct header_window {
    static constexpr size_t capacity = 4096;
    uint64_t start = 0;
    size_t length = 0;
    uint64_t last_batch_bytes = 0;
    std::array<std::byte, capacity> bytes; // [0, length) read from `start`; not zero-filled per walk
};

// What a recovery scan found.
struct scan_report {
    uint64_t valid_bytes = 0;   // bytes of whole, valid batches from the start
    uint64_t dropped_bytes = 0; // bytes after them, now truncated
    size_t batches = 0;
    std::string stop_reason; // why the scan stopped before the end ("" = reached the end)
};

class segment {
public:
    static constexpr size_t base_digits = 20;
    // "00000000000000001234" for 1234.
    static std::string file_stem(model::offset base_offset);
    // The base offset named by a file stem, if it is one.
    static std::optional<model::offset> parse_stem(std::string_view stem);

    // Creates an empty segment; fails if the log file already exists with data.
    static result<std::unique_ptr<segment>> create(const std::filesystem::path& dir, model::offset base);
    // Opens an existing segment's log file. Nothing is read yet: the caller then either trusts
    // the files (load_indexes() + restore_tail()) or scans them (recover()).
    static result<std::unique_ptr<segment>> open(const std::filesystem::path& dir, model::offset base);
    // A sealed segment over a log file written elsewhere (the compactor's cleaned copy, renamed to
    // this segment's name): `index` and the offsets and timestamps describe exactly its batches.
    // Reads nothing. The file is taken as synced; the caller says whether the index files are.
    static std::unique_ptr<segment> adopt(const std::filesystem::path& dir, model::offset base,
                                          model::offset next, uint64_t size, file log, segment_index index,
                                          model::timestamp max_timestamp, model::offset max_timestamp_offset);
    // Loads and validates the index files against the log size.
    result<void> load_indexes();

    [[nodiscard]] model::offset base_offset() const noexcept { return _base; }
    // One past the last offset stored; base_offset() when empty.
    [[nodiscard]] model::offset next_offset() const noexcept { return _next; }
    [[nodiscard]] uint64_t size() const noexcept { return _size; }
    [[nodiscard]] bool empty() const noexcept { return _size == 0; }
    [[nodiscard]] model::timestamp max_timestamp() const noexcept { return _max_timestamp; }
    [[nodiscard]] model::offset max_timestamp_offset() const noexcept { return _max_timestamp_offset; }
    [[nodiscard]] const std::shared_ptr<const file>& log_file() const noexcept { return _log; }
    [[nodiscard]] const segment_index& index() const noexcept { return _index; }
    [[nodiscard]] std::filesystem::path log_path() const { return _log->path(); }
    [[nodiscard]] std::filesystem::path index_path() const;
    [[nodiscard]] std::filesystem::path time_index_path() const;

    // Appends one validated batch: `prefix` replaces its first prefix.size() bytes (base offset,
    // length, leader epoch), the rest is written from the iobuf's own fragments. On failure the
    // file is cut back to its previous size, so no partial batch remains; if that cut fails too
    // the error is errc::log_failed and the segment must not be appended to again (its file may
    // end in a partial batch that only a recovery scan removes).
    result<void> append(std::span<const std::byte> prefix, const iobuf& batch,
                        const model::record_batch_header& header, uint32_t index_interval_bytes);

    // The first batch whose last offset is >= target, if any, scanning from the index hint.
    result<std::optional<batch_location>> find_batch(model::offset target) const;
    result<std::optional<batch_location>> find_batch(model::offset target, header_window& window) const;
    // The first batch whose max timestamp is >= ts, if any.
    result<std::optional<batch_location>> find_batch_by_time(model::timestamp ts) const;
    // Reads the fixed header of the batch at `position`.
    result<model::record_batch_header> read_header(uint64_t position) const;
    // The same through `window`, which is refilled from `position` when it does not hold the header.
    result<model::record_batch_header> read_header(uint64_t position, header_window& window) const;
    // Reads a whole batch.
    result<std::vector<std::byte>> read_batch(const batch_location& where) const;

    // Validates every batch from the start (length, magic, CRC, offsets increasing from the base
    // offset), truncates the file after the last good one and rebuilds the indexes from it.
    result<scan_report> recover(uint64_t max_batch_bytes, uint32_t index_interval_bytes);
    // After open() of a segment whose size and indexes are trusted: learns the next offset and
    // max timestamp by reading the batch headers past the last index entry.
    result<void> restore_tail();

    // Stops appends and adds the final time index entry.
    void seal();
    // Adds the largest timestamp so far as a time index entry (before writing the indexes at a
    // clean shutdown), so a reopen learns the maximum without a scan.
    void checkpoint_max_timestamp();
    [[nodiscard]] bool sealed() const noexcept { return _sealed; }
    // Writes both index files (not synced: the flusher syncs them).
    result<void> write_indexes() const;
    // Removes the index files, then the log file. Open descriptors stay valid for readers. On
    // failure the log file is still there: the segment is whole, maybe without its index files.
    result<void> remove_files() const;
    // The same for the segment of `base` in `dir`, without opening it.
    static result<void> remove_files(const std::filesystem::path& dir, model::offset base);

    // Flush bookkeeping, maintained by partition_log.
    uint64_t synced_size = 0;
    bool indexes_written = false; // index files hold the current index
    bool indexes_synced = false;  // ... and are durable
    int64_t created_ms = 0;       // when the first batch was appended (for segment.ms)
    uint64_t reserved_to = 0;     // the end of the blocks asked of the preallocator (0: none)

private:
    segment(std::filesystem::path dir, model::offset base, file log) noexcept;
    void note_batch(uint64_t position, const model::record_batch_header& header, uint32_t interval);

    std::filesystem::path _dir;
    model::offset _base;
    model::offset _next;
    uint64_t _size = 0;
    model::timestamp _max_timestamp = model::no_timestamp;
    model::offset _max_timestamp_offset;
    std::shared_ptr<const file> _log;
    segment_index _index;
    bool _sealed = false;
};

} // namespace ms::storage
