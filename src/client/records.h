#pragma once

// Records as the CLI produces and prints them: owned keys, values and headers, with the batch
// encoding (record_batch_builder) and decoding (record_reader) around them.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/iobuf.h"
#include "base/result.h"
#include "model/compression.h"

namespace ms::client {

struct record_header_value {
    std::string key;
    std::optional<std::string> value;
    bool operator==(const record_header_value&) const = default;
};

struct client_record {
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::vector<record_header_value> headers;
    int64_t timestamp_ms = -1;
    // Filled by decode_records:
    int32_t partition = -1;
    int64_t offset = -1;
    bool log_append_time = false;
};

// One batch v2 of `records` (at least one), compressed with `codec`, base timestamp the first
// record's. Fails only when the codec fails.
[[nodiscard]] result<iobuf, std::string> encode_records(std::span<const client_record> records,
                                                        model::compression codec);

struct decoded_records {
    std::vector<client_record> records; // offset >= from, in offset order
    // Where to fetch next: after the last whole batch seen (control batches included); `from` when
    // no whole batch was there.
    int64_t next_offset = 0;
};

// The records at offsets >= `from` in a Fetch answer's record set (whole batches; a partial batch
// at the end is ignored, as Kafka allows). Every batch's CRC is checked; a bad CRC, a batch that
// does not parse or a header that lies fails with a message naming the partition and offset.
// Control batches (transaction markers) are skipped. Bounded: compressed batches decompress to at
// most the record_reader's limit.
[[nodiscard]] result<decoded_records, std::string> decode_records(std::span<const std::byte> bytes,
                                                                  int32_t partition, int64_t from);

} // namespace ms::client
