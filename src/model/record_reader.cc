#include "model/record_reader.h"

#include <array>

namespace ms::model {

void record_reader::clear() noexcept {
    _header = record_batch_header{};
    _records = {};
    _pos = 0;
    _index = 0;
    _failed = false;
}

result<void, batch_errc> record_reader::reset(std::span<const std::byte> batch) {
    clear();
    if (batch.size() < batch_header_size) {
        return unexpected(batch_errc::truncated);
    }
    const record_batch_header h = record_batch_header::decode(batch.first<batch_header_size>());
    if (h.batch_length < static_cast<int32_t>(batch_header_size - batch_length_prefix_size)) {
        return unexpected(batch_errc::invalid_length);
    }
    if (h.size_bytes() > batch.size()) {
        return unexpected(batch_errc::truncated);
    }
    if (h.attributes.codec_bits() > static_cast<int>(compression::zstd)) {
        return unexpected(batch_errc::unsupported_compression);
    }
    if (h.record_count < 0) {
        return unexpected(batch_errc::invalid_record_count);
    }
    std::span<const std::byte> section = batch.subspan(batch_header_size, h.size_bytes() - batch_header_size);
    if (h.attributes.codec() != compression::none) {
        auto plain =
          decompress_into(h.attributes.codec(), section, _limits.max_decompressed_bytes, _decompressed);
        if (!plain) {
            return unexpected(to_batch_errc(plain.error()));
        }
        section = _decompressed;
    }
    _header = h;
    _records = section;
    return {};
}

result<void, batch_errc> record_reader::reset(const iobuf& batch) {
    clear();
    if (batch.size() < batch_header_size) {
        return unexpected(batch_errc::truncated);
    }
    std::array<std::byte, batch_header_size> raw{};
    batch.copy_out(0, raw);
    const record_batch_header h = record_batch_header::decode(raw);
    if (h.batch_length < static_cast<int32_t>(batch_header_size - batch_length_prefix_size)) {
        return unexpected(batch_errc::invalid_length);
    }
    if (h.size_bytes() > batch.size()) {
        return unexpected(batch_errc::truncated);
    }
    const std::span<const std::byte> in_place = batch.contiguous(0, h.size_bytes());
    if (in_place.size() == h.size_bytes()) {
        return reset(in_place);
    }
    // The batch spans pieces (rare: network frames and segment reads arrive in one buffer).
    _linear.resize(h.size_bytes());
    batch.copy_out(0, _linear);
    return reset(std::span<const std::byte>(_linear));
}

result<std::optional<record_view>, batch_errc> record_reader::next() noexcept {
    if (_failed) {
        return unexpected(batch_errc::corrupt_records);
    }
    if (_index >= _header.record_count) {
        if (_pos != _records.size()) {
            return unexpected(batch_errc::corrupt_records);
        }
        return std::optional<record_view>{};
    }
    auto rec = detail::parse_record(_records, _pos);
    if (!rec) {
        // Stay failed: a later next() must not resume in the middle of a broken record.
        _failed = true;
        return unexpected(rec.error());
    }
    ++_index;
    return std::optional<record_view>{*rec};
}

} // namespace ms::model
