#pragma once
// read_checked_batch: the records of one fetched batch, counted (and kept for a visitor) only
// once the batch's CRC has matched.
//
// For an uncompressed batch the CRC runs a window ahead of the parse instead of over the whole
// batch first: a consumer's batch is often larger than the core's L2 (1,000 records of 1 KiB),
// and two passes from end to end read it from L3 or memory twice; in windows, the parse reads
// bytes the CRC has just brought into cache. A compressed batch is checked whole first (its
// records are parsed from the decompressed copy).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/record_batch.h"
#include "model/record_reader.h"

namespace ms::cli::bench {

// How far the CRC runs ahead of the parse: well inside L2, well above a record's size.
inline constexpr size_t crc_window_bytes = size_t{64} << 10U;

struct checked_records {
    uint64_t messages = 0; // records at or after the fetch position
    uint64_t bytes = 0;    // their keys and values
};

// Reads the whole batch `batch` (as for_each_whole_batch hands it out, with its `header`):
// records at offsets >= `from` are added to `tally`, and to `keep` when it is not null (views
// into `batch`, or into `reader` for a compressed batch). On a bad CRC or records that do not
// parse, an error naming the batch's offset and nothing is added.
// REQUIRES: batch.size() == header.size_bytes() >= model::batch_header_size.
[[nodiscard]] result<void, std::string>
read_checked_batch(model::record_reader& reader, const model::record_batch_header& header,
                   std::span<const std::byte> batch, bool check_crc, int64_t from,
                   std::vector<model::record_view>* keep, checked_records& tally);

} // namespace ms::cli::bench
