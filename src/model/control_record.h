#pragma once

// Control records (KIP-98): the records of a control batch (attributes bit 5). A transaction
// coordinator ends a transaction by having each partition leader append a control batch with one
// end-transaction marker record, in the producer's id and epoch, transactional bit set.
//
//   key   | version i16 (= 0) | type i16 (0 abort, 1 commit) |
//   value | version i16 (= 0) | coordinatorEpoch i32 |          (end-transaction markers)
//
// Integers are big-endian (plain, not varints). As Kafka does, a reader accepts versions above 0
// and reads the fields it knows from the front; negative versions are corrupt.

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/result.h"
#include "model/record_batch.h"

namespace ms::model {

// Kafka also defines KRaft-only types (2 leader change, 3/4 snapshot header/footer, ...); they
// never appear in a partition of a topic and are carried here only as their number.
enum class control_record_type : int16_t { abort = 0, commit = 1 };

inline constexpr size_t control_key_size = 4;
inline constexpr size_t end_txn_marker_value_size = 6;
inline constexpr int16_t control_record_version = 0;

struct end_txn_marker {
    control_record_type type = control_record_type::abort;
    int32_t coordinator_epoch = 0;

    bool operator==(const end_txn_marker&) const = default;
};

[[nodiscard]] std::array<std::byte, control_key_size> encode_control_key(control_record_type type) noexcept;
[[nodiscard]] std::array<std::byte, end_txn_marker_value_size>
encode_end_txn_marker_value(int32_t coordinator_epoch) noexcept;

// The type in a control record's key (any number, see control_record_type). corrupt_records when
// the key is null, shorter than 4 bytes or has a negative version.
[[nodiscard]] result<control_record_type, batch_errc> parse_control_key(const record_view& rec) noexcept;

// An end-transaction marker: key type abort or commit, value as above. corrupt_records otherwise.
[[nodiscard]] result<end_txn_marker, batch_errc> parse_end_txn_marker(const record_view& rec) noexcept;

} // namespace ms::model
