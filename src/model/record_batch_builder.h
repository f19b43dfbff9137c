#pragma once

// record_batch_builder: writes a record batch v2, uncompressed or compressed with any codec, and
// control batches (end-transaction markers), for tests, tools and the broker's own batches.
// Records are encoded as they are added; build() compresses them (everything after recordsCount
// becomes one blob) and computes the CRC over the final bytes.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/iobuf.h"
#include "base/result.h"
#include "model/compression.h"
#include "model/control_record.h"
#include "model/record_batch.h"

namespace ms::model {

struct record_header {
    std::string_view key;
    std::optional<std::string_view> value;
};

class record_batch_builder {
public:
    // base_timestamp: the first record's timestamp (-1 for none).
    explicit record_batch_builder(timestamp base_timestamp = timestamp(0)) noexcept
      : _base_timestamp(base_timestamp) {}

    record_batch_builder& add(std::optional<std::string_view> key, std::optional<std::string_view> value,
                              timestamp ts = no_timestamp, std::span<const record_header> headers = {});

    // All attribute bits, codec included. Codec bits 5..7 (no such codec) are written as given,
    // with the records uncompressed: a way to make batches that validation must refuse.
    record_batch_builder& set_attributes(batch_attributes a) noexcept {
        _attributes = a;
        return *this;
    }
    // Sets the codec (attributes bits 0-2) and how build() compresses with it.
    record_batch_builder& set_compression(compression codec, compression_options options = {}) noexcept {
        _attributes.bits = static_cast<int16_t>((_attributes.bits & ~batch_attributes::codec_mask) |
                                                static_cast<int16_t>(codec));
        _compression_options = options;
        return *this;
    }
    // Makes this a control batch holding the end-transaction marker of a transaction (KIP-98):
    // sets the control and transactional attribute bits and adds the marker as the one record.
    // Kafka's markers also carry the producer id and epoch: set_producer(id, epoch, -1).
    // REQUIRES: no record added before, none after.
    record_batch_builder& add_end_txn_marker(control_record_type type, int32_t coordinator_epoch,
                                             timestamp ts = no_timestamp);
    record_batch_builder& set_producer(int64_t id, int16_t epoch, int32_t base_sequence) noexcept {
        _producer_id = id;
        _producer_epoch = epoch;
        _base_sequence = base_sequence;
        return *this;
    }

    [[nodiscard]] int32_t record_count() const noexcept { return _count; }

    // The batch. REQUIRES: at least one record added. Compresses (when a codec is set) and
    // computes the CRC. Fails only with a compression error: invalid_level, or library_error
    // when a codec library cannot allocate its state.
    [[nodiscard]] result<iobuf, compression_errc> try_build(offset base_offset = offset(0)) const;
    // As try_build, for callers that cannot get a compression error: no codec, or the codec's
    // default level. REQUIRES: try_build would succeed; a compression failure aborts the process
    // (it means a broken precondition, or a codec library without memory).
    [[nodiscard]] iobuf build(offset base_offset = offset(0)) const;

private:
    timestamp _base_timestamp;
    timestamp _max_timestamp = no_timestamp;
    batch_attributes _attributes;
    compression_options _compression_options;
    int64_t _producer_id = -1;
    int16_t _producer_epoch = -1;
    int32_t _base_sequence = -1;
    int32_t _count = 0;
    std::vector<std::byte> _records;
};

} // namespace ms::model
