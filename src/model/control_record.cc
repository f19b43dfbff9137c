#include "model/control_record.h"

#include "base/endian.h"

namespace ms::model {

std::array<std::byte, control_key_size> encode_control_key(control_record_type type) noexcept {
    std::array<std::byte, control_key_size> out{};
    store_be<int16_t>(&out[0], control_record_version);
    store_be<int16_t>(&out[2], static_cast<int16_t>(type));
    return out;
}

std::array<std::byte, end_txn_marker_value_size>
encode_end_txn_marker_value(int32_t coordinator_epoch) noexcept {
    std::array<std::byte, end_txn_marker_value_size> out{};
    store_be<int16_t>(&out[0], control_record_version);
    store_be<int32_t>(&out[2], coordinator_epoch);
    return out;
}

result<control_record_type, batch_errc> parse_control_key(const record_view& rec) noexcept {
    if (!rec.key || rec.key->size() < control_key_size || load_be<int16_t>(rec.key->data()) < 0) {
        return unexpected(batch_errc::corrupt_records);
    }
    return static_cast<control_record_type>(load_be<int16_t>(rec.key->data() + 2));
}

result<end_txn_marker, batch_errc> parse_end_txn_marker(const record_view& rec) noexcept {
    auto type = parse_control_key(rec);
    if (!type) {
        return unexpected(type.error());
    }
    if (*type != control_record_type::abort && *type != control_record_type::commit) {
        return unexpected(batch_errc::corrupt_records);
    }
    if (!rec.value || rec.value->size() < end_txn_marker_value_size ||
        load_be<int16_t>(rec.value->data()) < 0) {
        return unexpected(batch_errc::corrupt_records);
    }
    return end_txn_marker{*type, load_be<int32_t>(rec.value->data() + 2)};
}

} // namespace ms::model
