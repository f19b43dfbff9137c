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

struct record_set_walk {
    record_set_end end = record_set_end::complete;
    size_t whole_bytes = 0; // bytes of the batches visited, up to the partial tail or damaged header
};

// Calls visit(const record_batch_header&, std::span<const std::byte> batch) -> bool for each whole
// batch in order, until it returns false.
template<typename Visitor>
record_set_walk for_each_whole_batch(std::span<const std::byte> bytes, Visitor&& visit) {
    record_set_walk walk;
    while (walk.whole_bytes < bytes.size()) {
        const auto rest = bytes.subspan(walk.whole_bytes);
        auto header = peek_batch_header(rest);
        if (!header) { // fewer bytes than a header
            walk.end = record_set_end::partial_tail;
            return walk;
        }
        if (header->batch_length < 0 || header->size_bytes() < batch_header_size) {
            walk.end = record_set_end::damaged;
            return walk;
        }
        if (rest.size() < header->size_bytes()) {
            walk.end = record_set_end::partial_tail;
            return walk;
        }
        const auto batch = rest.first(header->size_bytes());
        walk.whole_bytes += batch.size();
        if (!visit(*header, batch)) {
            walk.end = record_set_end::stopped;
            return walk;
        }
    }
    return walk;
}

} // namespace ms::model
