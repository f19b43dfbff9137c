#pragma once

// record_reader: the records of any batch, compressed or not.
//
//   batch bytes ──► | header (61) | records section ............................ |
//                                   codec none: parsed in place, zero copy
//                                   codec gzip/snappy/lz4/zstd: decompressed once into the
//                                   reader's scratch buffer, parsed there
//
// The reader checks only what it needs to read safely: the header's batchLength against the bytes
// given, the codec, and each record as it is parsed. It does not check the CRC, the record count
// against lastOffsetDelta, offset deltas or timestamps: validate_batch does, once, when a batch
// arrives. Any input is safe to read (an error, never a read outside the bytes given).
//
// Cost: a compressed batch costs one decompression per reset() (bounded by
// max_decompressed_bytes; the scratch buffer's capacity is kept for the next batch); records are
// then read without allocating. A fragmented iobuf is copied into a second scratch buffer first.
// A reader is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/iobuf.h"
#include "base/result.h"
#include "model/record_batch.h"

namespace ms::model {

struct record_read_limits {
    // The most bytes a compressed records section may decompress to; more is refused with
    // decompressed_too_large (see compression.h).
    size_t max_decompressed_bytes = default_max_decompressed_bytes;
};

class record_reader {
public:
    explicit record_reader(record_read_limits limits = {}) noexcept : _limits(limits) {}
    // Moves keep record views valid (the scratch buffers move with their memory); copies would not.
    record_reader(record_reader&&) noexcept = default;
    record_reader& operator=(record_reader&&) noexcept = default;
    record_reader(const record_reader&) = delete;
    record_reader& operator=(const record_reader&) = delete;
    ~record_reader() = default;

    // Starts reading the batch at the start of `batch` (bytes after the batchLength it declares
    // are ignored, so a span of several batches may be passed). Errors: truncated, invalid_length
    // (batchLength below the header), unsupported_compression, invalid_record_count (negative),
    // decompression_failed, decompressed_too_large. After an error the reader is empty.
    // REQUIRES: the bytes stay alive and unchanged while views of an uncompressed batch are used.
    [[nodiscard]] result<void, batch_errc> reset(std::span<const std::byte> batch);
    // As above; when the batch lies in one piece of the iobuf it is read in place.
    [[nodiscard]] result<void, batch_errc> reset(const iobuf& batch);

    // The next record, or std::nullopt after recordsCount of them. corrupt_records when a record
    // does not parse or bytes are left over after the last one. The view is valid until the next
    // reset() of this reader (and, for an uncompressed batch, while the batch bytes are).
    [[nodiscard]] result<std::optional<record_view>, batch_errc> next() noexcept;

    // Calls visit(const record_view&) for each remaining record.
    template<typename Visitor>
    [[nodiscard]] result<void, batch_errc> for_each(Visitor&& visit);

    // REQUIRES: a successful reset().
    [[nodiscard]] const record_batch_header& header() const noexcept { return _header; }
    // The plain records section: in the batch bytes, or in scratch for a compressed batch.
    [[nodiscard]] std::span<const std::byte> records() const noexcept { return _records; }
    // Records not yet returned by next().
    [[nodiscard]] int32_t remaining() const noexcept { return _header.record_count - _index; }
    // Bytes of records() parsed so far: for an uncompressed batch, the next record starts
    // batch_header_size + consumed() bytes into the batch.
    [[nodiscard]] size_t consumed() const noexcept { return _pos; }

private:
    void clear() noexcept;

    record_read_limits _limits;
    record_batch_header _header;
    std::span<const std::byte> _records;
    size_t _pos = 0;
    int32_t _index = 0;
    bool _failed = false;
    std::vector<std::byte> _decompressed; // scratch: the decompressed records section
    std::vector<std::byte> _linear;       // scratch: a fragmented batch's bytes in one piece
};

// Calls visit(const record_view&) for each record of the batch at the start of `batch`, whatever
// its codec. Errors as record_reader::reset and next. Allocates a scratch buffer for a compressed
// batch; use a record_reader to reuse one across batches.
template<typename Visitor>
[[nodiscard]] result<void, batch_errc> for_each_record_in_batch(std::span<const std::byte> batch,
                                                                const record_read_limits& limits,
                                                                Visitor&& visit) {
    record_reader reader(limits);
    auto opened = reader.reset(batch);
    if (!opened) {
        return opened;
    }
    return reader.for_each(std::forward<Visitor>(visit));
}

template<typename Visitor>
result<void, batch_errc> record_reader::for_each(Visitor&& visit) {
    while (true) {
        auto rec = next();
        if (!rec) {
            return unexpected(rec.error());
        }
        if (!*rec) {
            return {};
        }
        visit(**rec);
    }
}

} // namespace ms::model
