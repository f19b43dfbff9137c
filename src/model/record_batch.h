#pragma once

// Kafka record batch v2 ("magic 2"), the unit of storage and of transfer. MemoryStreamer stores
// and serves batches byte for byte as producers wrote them; this header reads and checks them.
//
//  byte  0 +--------------------------+
//          | baseOffset          i64  |  set by the broker (outside the CRC)
//        8 | batchLength         i32  |  bytes after this field (total size = 12 + batchLength)
//       12 | partitionLeaderEpoch i32 |  set by the broker (outside the CRC)
//       16 | magic               i8   |  = 2
//       17 | crc                 u32  |  CRC-32C of bytes 21 .. end
//       21 | attributes          i16  |  bits 0-2 codec, 3 timestamp type, 4 transactional,
//          |                          |  5 control, 6 delete horizon
//       23 | lastOffsetDelta     i32  |
//       27 | baseTimestamp       i64  |
//       35 | maxTimestamp        i64  |
//       43 | producerId          i64  |
//       51 | producerEpoch       i16  |
//       53 | baseSequence        i32  |
//       57 | recordsCount        i32  |
//       61 | records ...              |  (one compressed blob when codec != none)
//          +--------------------------+
//
// Each record (integers are zigzag varints):
//   length varint | attributes i8 | timestampDelta varlong | offsetDelta varint |
//   keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value |
//   headerCount varint | headers: (keyLength varint, key, valueLength varint, value)*

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/iobuf.h"
#include "base/result.h"
#include "base/varint.h"
#include "model/compression.h"
#include "model/fundamental.h"

namespace ms::model {

inline constexpr size_t batch_header_size = 61;
// baseOffset and batchLength: the part of the header not counted by batchLength.
inline constexpr size_t batch_length_prefix_size = 12;
inline constexpr size_t batch_crc_position = 17;
inline constexpr size_t batch_crc_covered_from = 21;
inline constexpr size_t batch_leader_epoch_position = 12;
inline constexpr int8_t batch_magic_v2 = 2;
// The default bound on a decompressed records section: far above what a producer's batch.size
// yields, far below what a decompression bomb would ask for.
inline constexpr size_t default_max_decompressed_bytes = size_t{64} * 1024 * 1024;

// `compression` (the codec of attributes bits 0-2) is declared in model/compression.h.
enum class timestamp_type : uint8_t { create_time = 0, log_append_time = 1 };

struct batch_attributes {
    static constexpr int16_t codec_mask = 0x7;
    static constexpr int16_t timestamp_type_bit = 0x8;
    static constexpr int16_t transactional_bit = 0x10;
    static constexpr int16_t control_bit = 0x20;
    static constexpr int16_t delete_horizon_bit = 0x40;

    int16_t bits = 0;

    [[nodiscard]] int codec_bits() const noexcept { return bits & codec_mask; }
    [[nodiscard]] compression codec() const noexcept { return static_cast<compression>(bits & codec_mask); }
    [[nodiscard]] timestamp_type ts_type() const noexcept {
        return (bits & timestamp_type_bit) != 0 ? timestamp_type::log_append_time
                                                : timestamp_type::create_time;
    }
    [[nodiscard]] bool transactional() const noexcept { return (bits & transactional_bit) != 0; }
    [[nodiscard]] bool control() const noexcept { return (bits & control_bit) != 0; }
    [[nodiscard]] bool has_delete_horizon() const noexcept { return (bits & delete_horizon_bit) != 0; }
};

// The decoded fixed header of a batch. Decoding checks nothing; see validate_batch.
struct record_batch_header {
    offset base_offset;
    int32_t batch_length = 0;
    leader_epoch partition_leader_epoch;
    int8_t magic = 0;
    uint32_t crc = 0;
    batch_attributes attributes;
    int32_t last_offset_delta = 0;
    timestamp base_timestamp;
    timestamp max_timestamp;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    int32_t record_count = 0;

    // REQUIRES: batch_length >= 0 (true once validated).
    [[nodiscard]] size_t size_bytes() const noexcept {
        return batch_length_prefix_size + static_cast<size_t>(batch_length);
    }
    [[nodiscard]] offset last_offset() const noexcept { return base_offset + last_offset_delta; }

    static record_batch_header decode(std::span<const std::byte, batch_header_size> bytes) noexcept;
    void encode(std::span<std::byte, batch_header_size> out) const noexcept;
};

// Why a batch was refused. The Kafka error a client sees is chosen by the broker:
// truncated/invalid_length/crc_mismatch/corrupt_records -> CORRUPT_MESSAGE (2),
// too_large -> MESSAGE_TOO_LARGE (10), unsupported_magic/invalid_record_count -> INVALID_RECORD (87),
// invalid_timestamp -> INVALID_TIMESTAMP (32), unsupported_compression ->
// UNSUPPORTED_COMPRESSION_TYPE (76), decompression_failed -> CORRUPT_MESSAGE (2),
// decompressed_too_large -> MESSAGE_TOO_LARGE (10) (a Java producer then splits the batch).
enum class batch_errc : uint8_t {
    truncated,               // fewer bytes than a header, or than batchLength declares
    invalid_length,          // batchLength below the header size, or bytes left over after it
    unsupported_magic,       // magic != 2
    too_large,               // whole batch above the configured limit
    crc_mismatch,            // CRC-32C of attributes..end differs from the crc field
    unsupported_compression, // codec bits 5..7
    invalid_record_count,    // recordsCount < 1 or != lastOffsetDelta + 1 (or > it, with sparse offsets)
    invalid_timestamp,       // a timestamp below -1
    corrupt_records,         // records that do not parse exactly (after decompression, if any)
    decompression_failed,    // a compressed records section its codec cannot decode
    decompressed_too_large,  // a compressed records section that decompresses to more than the limit
};
[[nodiscard]] std::string_view describe(batch_errc e) noexcept;
// The batch error for a failed decompression of a records section: too_large ->
// decompressed_too_large, anything else (corrupt, truncated, a library failure) ->
// decompression_failed.
[[nodiscard]] batch_errc to_batch_errc(compression_errc e) noexcept;

struct batch_limits {
    // Whole batch size limit in bytes (topic max.message.bytes; Kafka's default is 1048588).
    size_t max_batch_bytes = 1048588;
    // Walk every record of an uncompressed batch. Appends from producers do; recovery, which only
    // needs to know that bytes are intact, skips it.
    bool check_records = true;
    // Also decompress and walk the records of a compressed batch (only with check_records). Off by
    // default: the broker stores compressed batches as produced and reads their records lazily
    // (record_reader), so the append path does not pay for a decompression.
    bool check_compressed_records = false;
    // The most bytes a compressed records section may decompress to (see compression.h).
    size_t max_decompressed_bytes = default_max_decompressed_bytes;
    // Accept the batches log compaction writes (docs/compaction.md): 1 <= recordsCount <=
    // lastOffsetDelta + 1, record offset deltas strictly increasing within [0, lastOffsetDelta]
    // (so the first one may be above 0). Only storage recovery and the cleaner set this; a
    // producer's batch must be dense (count == lastOffsetDelta + 1, deltas 0, 1, 2, ...).
    bool allow_sparse_offsets = false;
};

struct validated_batch {
    record_batch_header header;
    // The largest record timestamp; the header's maxTimestamp when records were not walked.
    timestamp max_record_timestamp;
};

// Checks that `bytes` holds exactly one well-formed batch. Costs one CRC pass over the batch and,
// when check_records is on and the batch is uncompressed, one pass over its records. With
// check_compressed_records, a compressed batch is decompressed (allocating up to
// max_decompressed_bytes + 1) and its records walked with the same checks.
// Copies only the 61 header bytes (and the records when they are split across fragments).
[[nodiscard]] result<validated_batch, batch_errc> validate_batch(const iobuf& bytes,
                                                                 const batch_limits& limits);
[[nodiscard]] result<validated_batch, batch_errc> validate_batch(std::span<const std::byte> bytes,
                                                                 const batch_limits& limits);

// Reads only the fixed header at the start of `bytes` (which may hold more batches after it).
[[nodiscard]] result<record_batch_header, batch_errc>
peek_batch_header(std::span<const std::byte> bytes) noexcept;

// One record; spans point into the records section it was parsed from (the batch bytes of an
// uncompressed batch, a record_reader's scratch buffer for a compressed one).
struct record_view {
    int8_t attributes = 0;
    int64_t timestamp_delta = 0;
    int32_t offset_delta = 0;
    std::optional<std::span<const std::byte>> key;
    std::optional<std::span<const std::byte>> value;
    int32_t header_count = 0;
    std::span<const std::byte> headers; // the raw header section
};

// Appends one record to a plain records section, as `rec` but with `offset_delta` (its other fields,
// headers included, are copied byte for byte). Used to rewrite batches (log compaction).
void encode_record(std::vector<std::byte>& out, const record_view& rec, int32_t offset_delta);

// A whole batch from a header and a plain records section: compresses the section with the
// header's codec (its default level; snappy raw), then sets magic, batchLength and the CRC. The
// caller's other header fields (offsets, counts, timestamps, producer fields) are written as given.
[[nodiscard]] result<std::vector<std::byte>, compression_errc>
encode_batch(record_batch_header header, std::span<const std::byte> plain_records);

// Recomputes the CRC of a whole batch after its header was edited in place.
void update_batch_crc(std::span<std::byte> batch) noexcept;

// Parses a plain records section (the bytes after the 61-byte header of an uncompressed batch, or
// the decompressed blob of a compressed one; record_reader handles both), calling
// `visit(const record_view&)` for each. Fails with corrupt_records unless exactly `count` records
// fill the section.
template<typename Visitor>
result<void, batch_errc> for_each_record(std::span<const std::byte> records, int32_t count, Visitor&& visit);

namespace detail {

// Reads a record's fields inside its own bytes: every read is bounded by the record's end, so a
// lying inner length cannot reach into the next record. Single-byte varints (most of them in
// small records) take the fast path; longer ones go through the checked decoder.
class record_cursor {
public:
    explicit record_cursor(std::span<const std::byte> body) noexcept
      : _at(body.data()), _end(body.data() + body.size()) {}

    [[nodiscard, gnu::always_inline]] bool varint(int32_t& out) noexcept {
        return zigzag(
          out, [](std::span<const std::byte> in) { return decode_varint(in); }, zigzag_decode32);
    }
    [[nodiscard, gnu::always_inline]] bool varlong(int64_t& out) noexcept {
        return zigzag(
          out, [](std::span<const std::byte> in) { return decode_varlong(in); }, zigzag_decode64);
    }
    // A varint length and that many bytes; -1 is null when `nullable` (data is then nullptr).
    // Scalars rather than an optional: copying optionals through the stack made GCC store their
    // flag byte and reload it as a word, a store-forwarding stall on every record.
    [[nodiscard, gnu::always_inline]] bool bytes(const std::byte*& data, int32_t& length,
                                                 bool nullable) noexcept {
        if (!varint(length)) {
            return false;
        }
        if (length < 0) {
            data = nullptr;
            return length == -1 && nullable;
        }
        if (static_cast<size_t>(length) > static_cast<size_t>(_end - _at)) {
            return false;
        }
        data = _at;
        _at += length;
        return true;
    }
    [[nodiscard, gnu::always_inline]] bool byte(int8_t& out) noexcept {
        if (_at == _end) {
            return false;
        }
        out = static_cast<int8_t>(std::to_integer<uint8_t>(*_at++));
        return true;
    }
    [[nodiscard]] const std::byte* position() const noexcept { return _at; }
    [[nodiscard]] bool at_end() const noexcept { return _at == _end; }

private:
    // A zigzag varint of T: short ones inline, longer ones through the checked decoder.
    template<typename T, typename Decode, typename Unzigzag>
    [[nodiscard, gnu::always_inline]] bool zigzag(T& out, Decode decode, Unzigzag unzigzag) noexcept {
        uint32_t small = 0;
        if (short_varint(small)) {
            out = unzigzag(small);
            return true;
        }
        auto d = decode(rest());
        if (!d) {
            return false;
        }
        out = d->value;
        _at += d->size;
        return true;
    }

    // One- and two-byte varints (values below 2^14: lengths and deltas of records up to 8 KiB),
    // decoded without the general loop. False leaves the cursor where it was.
    [[nodiscard, gnu::always_inline]] bool short_varint(uint32_t& out) noexcept {
        if (_at == _end) {
            return false;
        }
        const uint32_t b0 = std::to_integer<uint8_t>(_at[0]);
        if (b0 < 0x80) {
            out = b0;
            _at += 1;
            return true;
        }
        if (_end - _at < 2) {
            return false;
        }
        const uint32_t b1 = std::to_integer<uint8_t>(_at[1]);
        if (b1 >= 0x80) {
            return false;
        }
        out = (b0 & 0x7FU) | (b1 << 7);
        _at += 2;
        return true;
    }

    [[nodiscard]] std::span<const std::byte> rest() const noexcept {
        return {_at, static_cast<size_t>(_end - _at)};
    }

    const std::byte* _at;
    const std::byte* _end;
};

// Parses one record starting at records[pos] into `out`; advances pos past it. False when it
// does not parse (corrupt_records). Inline: it runs for every produced record.
inline bool parse_record_into(std::span<const std::byte> records, size_t& pos, record_view& out) noexcept {
    record_cursor outer(records.subspan(pos));
    int32_t length = 0;
    if (!outer.varint(length) || length <= 0) {
        return false;
    }
    const auto header_bytes = static_cast<size_t>(outer.position() - (records.data() + pos));
    const auto body_size = static_cast<size_t>(length);
    if (body_size > records.size() - pos - header_bytes) {
        return false;
    }
    const std::span<const std::byte> body = records.subspan(pos + header_bytes, body_size);
    // Fields go to locals first: `out` could alias the input bytes (std::byte may alias anything),
    // so writing it field by field would make the compiler reload the cursor after every store.
    record_cursor in(body);
    int8_t attributes = 0;
    int64_t timestamp_delta = 0;
    int32_t offset_delta = 0;
    const std::byte* key = nullptr;
    int32_t key_size = 0;
    const std::byte* value = nullptr;
    int32_t value_size = 0;
    int32_t header_count = 0;
    if (!in.byte(attributes) || !in.varlong(timestamp_delta) || !in.varint(offset_delta) ||
        !in.bytes(key, key_size, true) || !in.bytes(value, value_size, true) || !in.varint(header_count) ||
        header_count < 0) {
        return false;
    }
    const std::byte* headers_start = in.position();
    const std::byte* ignored = nullptr;
    int32_t ignored_size = 0;
    for (int32_t h = 0; h < header_count; ++h) {
        if (!in.bytes(ignored, ignored_size, false) || !in.bytes(ignored, ignored_size, true)) {
            return false;
        }
    }
    if (!in.at_end()) {
        return false;
    }
    out.attributes = attributes;
    out.timestamp_delta = timestamp_delta;
    out.offset_delta = offset_delta;
    if (key_size < 0) {
        out.key.reset();
    } else {
        out.key.emplace(key, static_cast<size_t>(key_size));
    }
    if (value_size < 0) {
        out.value.reset();
    } else {
        out.value.emplace(value, static_cast<size_t>(value_size));
    }
    out.header_count = header_count;
    out.headers = {headers_start, static_cast<size_t>(in.position() - headers_start)};
    pos += header_bytes + body_size;
    return true;
}

// As parse_record_into, as a result.
result<record_view, batch_errc> parse_record(std::span<const std::byte> records, size_t& pos) noexcept;

} // namespace detail

template<typename Visitor>
result<void, batch_errc> for_each_record(std::span<const std::byte> records, int32_t count, Visitor&& visit) {
    size_t pos = 0;
    record_view rec;
    for (int32_t i = 0; i < count; ++i) {
        if (!detail::parse_record_into(records, pos, rec)) {
            return unexpected(batch_errc::corrupt_records);
        }
        visit(std::as_const(rec));
    }
    if (pos != records.size()) {
        return unexpected(batch_errc::corrupt_records);
    }
    return {};
}

} // namespace ms::model
