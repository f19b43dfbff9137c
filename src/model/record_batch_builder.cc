#include "model/record_batch_builder.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdlib>
#include <utility>

#include "base/crc32c.h"
#include "base/logging.h"
#include "base/varint.h"

namespace ms::model {

namespace {

void put_varint(std::vector<std::byte>& out, int32_t v) {
    std::array<std::byte, 5> tmp{};
    out.insert(out.end(), tmp.begin(),
               tmp.begin() + static_cast<std::ptrdiff_t>(encode_varint(v, tmp.data())));
}

void put_varlong(std::vector<std::byte>& out, int64_t v) {
    std::array<std::byte, 10> tmp{};
    out.insert(out.end(), tmp.begin(),
               tmp.begin() + static_cast<std::ptrdiff_t>(encode_varlong(v, tmp.data())));
}

void put_bytes(std::vector<std::byte>& out, std::optional<std::string_view> s) {
    if (!s) {
        put_varint(out, -1);
        return;
    }
    put_varint(out, static_cast<int32_t>(s->size()));
    const auto* p = reinterpret_cast<const std::byte*>(s->data());
    out.insert(out.end(), p, p + s->size());
}

} // namespace

record_batch_builder& record_batch_builder::add(std::optional<std::string_view> key,
                                                std::optional<std::string_view> value, timestamp ts,
                                                std::span<const record_header> headers) {
    if (ts == no_timestamp) {
        ts = _base_timestamp;
    }
    if (ts.value() >= 0) {
        _max_timestamp = std::max(_max_timestamp, ts);
    }
    std::vector<std::byte> body;
    body.push_back(std::byte{0}); // record attributes: unused in v2
    put_varlong(body, _base_timestamp.value() >= 0 ? ts.value() - _base_timestamp.value() : 0);
    put_varint(body, _count);
    put_bytes(body, key);
    put_bytes(body, value);
    put_varint(body, static_cast<int32_t>(headers.size()));
    for (const record_header& h : headers) {
        put_bytes(body, h.key);
        put_bytes(body, h.value);
    }
    put_varint(_records, static_cast<int32_t>(body.size()));
    _records.insert(_records.end(), body.begin(), body.end());
    ++_count;
    return *this;
}

record_batch_builder& record_batch_builder::add_end_txn_marker(control_record_type type,
                                                               int32_t coordinator_epoch, timestamp ts) {
    assert(_count == 0);
    _attributes.bits = static_cast<int16_t>(_attributes.bits | batch_attributes::control_bit |
                                            batch_attributes::transactional_bit);
    const auto key = encode_control_key(type);
    const auto value = encode_end_txn_marker_value(coordinator_epoch);
    return add(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
               std::string_view(reinterpret_cast<const char*>(value.data()), value.size()), ts);
}

result<iobuf, compression_errc> record_batch_builder::try_build(offset base_offset) const {
    assert(_count > 0);
    // Codec bits 5..7 name no codec: written as given over plain records (see set_attributes).
    std::vector<std::byte> compressed;
    std::span<const std::byte> section = _records;
    if (_attributes.codec() != compression::none &&
        _attributes.codec_bits() <= static_cast<int>(compression::zstd)) {
        auto c = compress(_attributes.codec(), _records, _compression_options);
        if (!c) {
            return unexpected(c.error());
        }
        compressed = std::move(*c);
        section = compressed;
    }
    record_batch_header h;
    h.base_offset = base_offset;
    h.batch_length = static_cast<int32_t>(batch_header_size - batch_length_prefix_size + section.size());
    h.partition_leader_epoch = no_leader_epoch;
    h.magic = batch_magic_v2;
    h.attributes = _attributes;
    h.last_offset_delta = _count - 1;
    h.base_timestamp = _base_timestamp;
    h.max_timestamp = _max_timestamp;
    h.producer_id = _producer_id;
    h.producer_epoch = _producer_epoch;
    h.base_sequence = _base_sequence;
    h.record_count = _count;
    std::array<std::byte, batch_header_size> raw{};
    h.encode(raw);
    uint32_t crc = crc32c(0, std::span<const std::byte>(raw).subspan(batch_crc_covered_from));
    crc = crc32c(crc, section);
    h.crc = crc;
    h.encode(raw);
    iobuf out;
    out.append(raw);
    out.append(section);
    return out;
}

iobuf record_batch_builder::build(offset base_offset) const {
    auto built = try_build(base_offset);
    if (!built) {
        logging::get("model")->critical("record_batch_builder: cannot compress a batch with {}: {}; aborting",
                                        codec_name(_attributes.codec()), describe(built.error()));
        std::abort();
    }
    return std::move(*built);
}

} // namespace ms::model
