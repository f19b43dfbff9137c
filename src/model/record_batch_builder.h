#pragma once

// record_batch_builder: writes an uncompressed record batch v2, for tests, tools and (later) the
// broker's own control batches. Compressed batches arrive with the protocol layer's builder.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/iobuf.h"
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

    record_batch_builder& set_attributes(batch_attributes a) noexcept {
        _attributes = a;
        return *this;
    }
    record_batch_builder& set_producer(int64_t id, int16_t epoch, int32_t base_sequence) noexcept {
        _producer_id = id;
        _producer_epoch = epoch;
        _base_sequence = base_sequence;
        return *this;
    }

    [[nodiscard]] int32_t record_count() const noexcept { return _count; }

    // REQUIRES: at least one record added. The CRC is computed here.
    [[nodiscard]] iobuf build(offset base_offset = offset(0)) const;

private:
    timestamp _base_timestamp;
    timestamp _max_timestamp = no_timestamp;
    batch_attributes _attributes;
    int64_t _producer_id = -1;
    int16_t _producer_epoch = -1;
    int32_t _base_sequence = -1;
    int32_t _count = 0;
    std::vector<std::byte> _records;
};

} // namespace ms::model
