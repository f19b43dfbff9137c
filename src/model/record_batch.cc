#include "model/record_batch.h"

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

#include "base/crc32c.h"
#include "base/endian.h"
#include "base/varint.h"

namespace ms::model {

record_batch_header record_batch_header::decode(std::span<const std::byte, batch_header_size> b) noexcept {
    record_batch_header h;
    h.base_offset = offset(load_be<int64_t>(&b[0]));
    h.batch_length = load_be<int32_t>(&b[8]);
    h.partition_leader_epoch = leader_epoch(load_be<int32_t>(&b[12]));
    h.magic = load_be<int8_t>(&b[16]);
    h.crc = load_be<uint32_t>(&b[17]);
    h.attributes.bits = load_be<int16_t>(&b[21]);
    h.last_offset_delta = load_be<int32_t>(&b[23]);
    h.base_timestamp = timestamp(load_be<int64_t>(&b[27]));
    h.max_timestamp = timestamp(load_be<int64_t>(&b[35]));
    h.producer_id = load_be<int64_t>(&b[43]);
    h.producer_epoch = load_be<int16_t>(&b[51]);
    h.base_sequence = load_be<int32_t>(&b[53]);
    h.record_count = load_be<int32_t>(&b[57]);
    return h;
}

void record_batch_header::encode(std::span<std::byte, batch_header_size> b) const noexcept {
    store_be<int64_t>(&b[0], base_offset.value());
    store_be<int32_t>(&b[8], batch_length);
    store_be<int32_t>(&b[12], partition_leader_epoch.value());
    store_be<int8_t>(&b[16], magic);
    store_be<uint32_t>(&b[17], crc);
    store_be<int16_t>(&b[21], attributes.bits);
    store_be<int32_t>(&b[23], last_offset_delta);
    store_be<int64_t>(&b[27], base_timestamp.value());
    store_be<int64_t>(&b[35], max_timestamp.value());
    store_be<int64_t>(&b[43], producer_id);
    store_be<int16_t>(&b[51], producer_epoch);
    store_be<int32_t>(&b[53], base_sequence);
    store_be<int32_t>(&b[57], record_count);
}

std::string_view describe(batch_errc e) noexcept {
    switch (e) {
    case batch_errc::truncated: return "record batch is truncated";
    case batch_errc::invalid_length: return "record batch length field does not match its bytes";
    case batch_errc::unsupported_magic: return "record batch magic is not 2";
    case batch_errc::too_large: return "record batch is larger than the size limit";
    case batch_errc::crc_mismatch: return "record batch CRC-32C mismatch";
    case batch_errc::unsupported_compression: return "record batch uses an unknown compression codec";
    case batch_errc::invalid_record_count: return "record batch record count is not lastOffsetDelta + 1";
    case batch_errc::invalid_timestamp: return "record batch has a timestamp below -1";
    case batch_errc::corrupt_records: return "record batch records do not parse";
    case batch_errc::decompression_failed:
        return "record batch records do not decompress (corrupt or truncated)";
    case batch_errc::decompressed_too_large:
        return "record batch records decompress to more than the size limit";
    }
    return "unknown record batch error";
}

batch_errc to_batch_errc(compression_errc e) noexcept {
    return e == compression_errc::too_large ? batch_errc::decompressed_too_large
                                            : batch_errc::decompression_failed;
}

result<record_batch_header, batch_errc> peek_batch_header(std::span<const std::byte> bytes) noexcept {
    if (bytes.size() < batch_header_size) {
        return unexpected(batch_errc::truncated);
    }
    return record_batch_header::decode(bytes.first<batch_header_size>());
}

namespace detail {

result<record_view, batch_errc> parse_record(std::span<const std::byte> records, size_t& pos) noexcept {
    record_view rec;
    if (!parse_record_into(records, pos, rec)) {
        return unexpected(batch_errc::corrupt_records);
    }
    return rec;
}

} // namespace detail

namespace {

void put_varint(std::vector<std::byte>& out, int32_t v) {
    std::array<std::byte, max_varint_size> tmp{};
    out.insert(out.end(), tmp.begin(),
               tmp.begin() + static_cast<std::ptrdiff_t>(encode_varint(v, tmp.data())));
}

void put_optional_bytes(std::vector<std::byte>& out, const std::optional<std::span<const std::byte>>& b) {
    if (!b) {
        put_varint(out, -1);
        return;
    }
    put_varint(out, static_cast<int32_t>(b->size()));
    out.insert(out.end(), b->begin(), b->end());
}

} // namespace

void encode_record(std::vector<std::byte>& out, const record_view& rec, int32_t offset_delta) {
    // The body first, to learn its length; a small copy next to the (de)compression around it.
    std::vector<std::byte> body;
    body.reserve(32 + (rec.key ? rec.key->size() : 0) + (rec.value ? rec.value->size() : 0) +
                 rec.headers.size());
    body.push_back(static_cast<std::byte>(rec.attributes));
    std::array<std::byte, max_varlong_size> tmp{};
    body.insert(body.end(), tmp.begin(),
                tmp.begin() + static_cast<std::ptrdiff_t>(encode_varlong(rec.timestamp_delta, tmp.data())));
    put_varint(body, offset_delta);
    put_optional_bytes(body, rec.key);
    put_optional_bytes(body, rec.value);
    put_varint(body, rec.header_count);
    body.insert(body.end(), rec.headers.begin(), rec.headers.end());
    put_varint(out, static_cast<int32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
}

result<std::vector<std::byte>, compression_errc> encode_batch(record_batch_header header,
                                                              std::span<const std::byte> plain_records) {
    std::vector<std::byte> compressed;
    std::span<const std::byte> section = plain_records;
    if (header.attributes.codec() != compression::none) {
        auto c = compress(header.attributes.codec(), plain_records);
        if (!c) {
            return unexpected(c.error());
        }
        compressed = std::move(*c);
        section = compressed;
    }
    header.magic = batch_magic_v2;
    header.batch_length = static_cast<int32_t>(batch_header_size - batch_length_prefix_size + section.size());
    std::vector<std::byte> out(batch_header_size + section.size());
    std::copy(section.begin(), section.end(), out.begin() + batch_header_size);
    header.encode(std::span<std::byte>(out).first<batch_header_size>());
    update_batch_crc(out);
    return out;
}

void update_batch_crc(std::span<std::byte> batch) noexcept {
    const uint32_t crc = crc32c(0, batch.subspan(batch_crc_covered_from));
    store_be<uint32_t>(&batch[batch_crc_position], crc);
}

namespace {

bool valid_timestamp(timestamp ts) noexcept {
    return ts.value() >= -1;
}

// Header checks shared by both entry points. `total` is the number of bytes given.
result<record_batch_header, batch_errc> check_header(std::span<const std::byte, batch_header_size> raw,
                                                     size_t total, const batch_limits& limits) {
    const record_batch_header h = record_batch_header::decode(raw);
    if (h.batch_length < static_cast<int32_t>(batch_header_size - batch_length_prefix_size)) {
        return unexpected(batch_errc::invalid_length);
    }
    if (h.size_bytes() > total) {
        return unexpected(batch_errc::truncated);
    }
    if (h.size_bytes() < total) {
        return unexpected(batch_errc::invalid_length);
    }
    if (h.magic != batch_magic_v2) {
        return unexpected(batch_errc::unsupported_magic);
    }
    if (h.size_bytes() > limits.max_batch_bytes) {
        return unexpected(batch_errc::too_large);
    }
    return h;
}

result<validated_batch, batch_errc>
check_body(const record_batch_header& h, std::span<const std::byte> records, const batch_limits& limits) {
    if (h.attributes.codec_bits() > static_cast<int>(compression::zstd)) {
        return unexpected(batch_errc::unsupported_compression);
    }
    const int64_t span = static_cast<int64_t>(h.last_offset_delta) + 1;
    const bool count_ok = limits.allow_sparse_offsets ? h.record_count <= span : h.record_count == span;
    if (h.record_count < 1 || h.last_offset_delta < 0 || !count_ok) {
        return unexpected(batch_errc::invalid_record_count);
    }
    if (!valid_timestamp(h.base_timestamp) || !valid_timestamp(h.max_timestamp)) {
        return unexpected(batch_errc::invalid_timestamp);
    }
    validated_batch out{h, h.max_timestamp};
    if (!limits.check_records) {
        return out;
    }
    std::vector<std::byte> decompressed;
    if (h.attributes.codec() != compression::none) {
        if (!limits.check_compressed_records) {
            return out;
        }
        auto plain =
          decompress_into(h.attributes.codec(), records, limits.max_decompressed_bytes, decompressed);
        if (!plain) {
            return unexpected(to_batch_errc(plain.error()));
        }
        records = decompressed;
    }
    int32_t expected_delta = 0;
    int64_t previous_delta = -1;
    bool bad_delta = false;
    bool bad_timestamp = false;
    int64_t max_ts = -1;
    auto walked = for_each_record(records, h.record_count, [&](const record_view& rec) {
        if (limits.allow_sparse_offsets) {
            // A compacted batch keeps its records' offsets: increasing, inside the batch's range.
            bad_delta |= rec.offset_delta <= previous_delta || rec.offset_delta > h.last_offset_delta;
            previous_delta = rec.offset_delta;
        } else {
            // Records of a produced batch carry offset deltas 0, 1, 2, ... (Kafka refuses others).
            bad_delta |= rec.offset_delta != expected_delta++;
        }
        if (h.base_timestamp.value() >= 0) {
            // The delta is producer-controlled: an overflowing sum is an invalid timestamp.
            int64_t ts = 0;
            bad_timestamp |=
              __builtin_add_overflow(h.base_timestamp.value(), rec.timestamp_delta, &ts) || ts < 0;
            max_ts = std::max(max_ts, ts);
        }
    });
    if (!walked) {
        return unexpected(walked.error());
    }
    if (bad_delta) {
        return unexpected(batch_errc::corrupt_records);
    }
    if (bad_timestamp) {
        return unexpected(batch_errc::invalid_timestamp);
    }
    if (h.base_timestamp.value() >= 0) {
        out.max_record_timestamp = timestamp(max_ts);
    }
    return out;
}

} // namespace

result<validated_batch, batch_errc> validate_batch(std::span<const std::byte> bytes,
                                                   const batch_limits& limits) {
    if (bytes.size() < batch_header_size) {
        return unexpected(batch_errc::truncated);
    }
    auto h = check_header(bytes.first<batch_header_size>(), bytes.size(), limits);
    if (!h) {
        return unexpected(h.error());
    }
    if (crc32c(0, bytes.subspan(batch_crc_covered_from)) != h->crc) {
        return unexpected(batch_errc::crc_mismatch);
    }
    return check_body(*h, bytes.subspan(batch_header_size), limits);
}

result<validated_batch, batch_errc> validate_batch(const iobuf& bytes, const batch_limits& limits) {
    if (bytes.size() < batch_header_size) {
        return unexpected(batch_errc::truncated);
    }
    std::array<std::byte, batch_header_size> raw{};
    bytes.copy_out(0, raw);
    auto h = check_header(raw, bytes.size(), limits);
    if (!h) {
        return unexpected(h.error());
    }
    // CRC over the pieces in place: no linearisation of the batch.
    uint32_t crc = 0;
    size_t skip = batch_crc_covered_from;
    for (size_t i = 0; i < bytes.piece_count(); ++i) {
        std::span<const std::byte> piece = bytes.piece_bytes(i);
        if (skip >= piece.size()) {
            skip -= piece.size();
            continue;
        }
        crc = crc32c(crc, piece.subspan(skip));
        skip = 0;
    }
    if (crc != h->crc) {
        return unexpected(batch_errc::crc_mismatch);
    }
    const size_t records_size = bytes.size() - batch_header_size;
    std::span<const std::byte> records = bytes.contiguous(batch_header_size, records_size);
    if (records.size() == records_size) {
        return check_body(*h, records, limits);
    }
    // Fragmented records: parse a private copy (rare: network frames arrive in one buffer).
    std::vector<std::byte> scratch(records_size);
    bytes.copy_out(batch_header_size, scratch);
    return check_body(*h, scratch, limits);
}

} // namespace ms::model
