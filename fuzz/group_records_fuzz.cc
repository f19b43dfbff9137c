// libFuzzer target for the decoders of __consumer_offsets records (broker/groups/group_records.h),
// which read bytes from disk at start-up.
//
// Checked on every input: each decoder returns a value or an error without reading outside the
// input; whatever decodes re-encodes to bytes that decode to the same value (for keys and group
// values the encoding is canonical, so the bytes must round-trip exactly once normalised).
// Any disagreement abort()s, so libFuzzer keeps the input.
//
// Seeds: fuzz/corpus/group_records/ (keys and values written by the encoders).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "broker/groups/group_records.h"

namespace {

using namespace ms::broker::groups;

[[noreturn]] void fail(const char* what) {
    (void)std::fprintf(stderr, "group_records_fuzz: %s\n", what);
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size); // NOLINT

    if (auto key = decode_key(in)) {
        auto again = decode_key(encode_key(*key));
        if (!again || !(*again == *key)) {
            fail("key does not round-trip");
        }
    }
    if (auto value = decode_offset_value(in)) {
        auto again = decode_offset_value(encode_offset_value(*value));
        if (!again || again->offset != value->offset || again->metadata != value->metadata ||
            again->commit_timestamp != value->commit_timestamp) {
            fail("offset value does not round-trip");
        }
    }
    if (auto group = decode_group_value(in)) {
        auto bytes = encode_group_value(*group);
        auto again = decode_group_value(bytes);
        if (!again || !(*again == *group)) {
            fail("group value does not round-trip");
        }
    }
    return 0;
}
