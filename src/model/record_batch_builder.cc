#include "model/record_batch_builder.h"

#include <algorithm>
#include <array>
#include <cassert>

#include "base/crc32c.h"
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

iobuf record_batch_builder::build(offset base_offset) const {
    assert(_count > 0);
    record_batch_header h;
    h.base_offset = base_offset;
    h.batch_length = static_cast<int32_t>(batch_header_size - batch_length_prefix_size + _records.size());
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
    crc = crc32c(crc, _records);
    h.crc = crc;
    h.encode(raw);
    iobuf out;
    out.append(raw);
    out.append(_records);
    return out;
}

} // namespace ms::model
