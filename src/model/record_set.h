#pragma once
// for_each_whole_batch: the batches of a record set (the records of a Fetch answer, bytes read
// from a log), one after the other, in place.
//
//   | batch | batch | batch | start of a batch |
//                            └ partial tail: a Fetch answer is cut at a byte limit, not at a batch end
//
// Only each batch's fixed header is read here; the CRC and the records are the visitor's to check
// (validate_batch, record_reader). What the walk does promise: every span handed to the visitor
// lies inside `bytes` and is at least a header long, whatever the bytes say.
#include <cstddef>
#include <span>

#include "model/record_batch.h"

namespace ms::model {

enum class record_set_end {
    complete,     // every byte belonged to a whole batch
    stopped,      // the visitor returned false
    partial_tail, // the last bytes are the start of a batch: fewer than its header or its batchLength
    damaged,      // a header declares a batchLength below a header's size: nothing after it can be trusted
};

// Calls visit(const record_batch_header&, std::span<const std::byte> batch) -> bool for each whole
// batch in order, until it returns false; returns how the walk ended.
template<typename Visitor>
record_set_end for_each_whole_batch(std::span<const std::byte> bytes, Visitor&& visit) {
    size_t pos = 0;
    while (pos < bytes.size()) {
        const auto rest = bytes.subspan(pos);
        auto header = peek_batch_header(rest);
        if (!header) { // fewer bytes than a header
            return record_set_end::partial_tail;
        }
        if (header->batch_length < 0 || header->size_bytes() < batch_header_size) {
            return record_set_end::damaged;
        }
        if (rest.size() < header->size_bytes()) {
            return record_set_end::partial_tail;
        }
        const auto batch = rest.first(header->size_bytes());
        pos += batch.size();
        if (!visit(*header, batch)) {
            return record_set_end::stopped;
        }
    }
    return record_set_end::complete;
}

} // namespace ms::model
