// libFuzzer target for the record batch decoder (model/record_batch.h).
//
// The input is one candidate batch. Checked on every input:
// - validate_batch over a span and over iobufs holding the same bytes in several pieces agree:
//   the same error, or both valid with identical headers and max record timestamp;
// - the same holds with the record walk switched off, and switching the walk off only ever turns
//   a record-level error (corrupt_records, invalid_timestamp) into a success;
// - a valid uncompressed batch iterates: exactly recordsCount records, offset deltas 0, 1, 2, ...
// Any disagreement abort()s, so libFuzzer keeps the input.
//
// Two bytes of the input steer the harness. Both lie inside baseOffset, which validation never
// looks at, so using them does not hide any input from the decoder:
//   byte 0       where the fragmented copies are cut (see layouts())
//   byte 1 bit 0 recompute the CRC before validating, so that mutations of the covered bytes reach
//                the checks behind the CRC instead of all stopping at crc_mismatch
//
// Seeds: fuzz/corpus/record_batch/ (batches written by record_batch_builder).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "base/crc32c.h"
#include "base/endian.h"
#include "base/iobuf.h"
#include "model/record_batch.h"
#include "model/record_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using ms::iobuf;
using ms::model::batch_errc;
using ms::model::batch_limits;
using ms::model::validated_batch;
using batch_result = ms::result<validated_batch, batch_errc>;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "record_batch_fuzz: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what) {
    if (!ok) {
        fail(what);
    }
}

std::array<std::byte, ms::model::batch_header_size> encoded(const ms::model::record_batch_header& h) {
    std::array<std::byte, ms::model::batch_header_size> out{};
    h.encode(out);
    return out;
}

bool same_outcome(const batch_result& a, const batch_result& b) {
    if (a.has_value() != b.has_value()) {
        return false;
    }
    if (!a) {
        return a.error() == b.error();
    }
    return encoded(a->header) == encoded(b->header) && a->max_record_timestamp == b->max_record_timestamp;
}

// The same bytes as iobufs of several shapes: two pieces cut at a point taken from byte 0, and
// pieces of 1..16 bytes (also from byte 0).
std::vector<iobuf> layouts(std::span<const std::byte> bytes) {
    std::vector<iobuf> out;
    out.push_back(iobuf::copy_of(bytes));
    if (bytes.empty()) {
        return out;
    }
    const auto selector = std::to_integer<size_t>(bytes[0]);
    const size_t cut = selector % (bytes.size() + 1);
    iobuf two = iobuf::copy_of(bytes.first(cut));
    two.append(iobuf::copy_of(bytes.subspan(cut)));
    out.push_back(std::move(two));

    const size_t chunk = 1 + (selector >> 4);
    iobuf many;
    for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
        many.append(iobuf::copy_of(bytes.subspan(pos, std::min(chunk, bytes.size() - pos))));
    }
    out.push_back(std::move(many));
    return out;
}

void walk_records(std::span<const std::byte> bytes, const validated_batch& v) {
    const ms::model::record_batch_header& h = v.header;
    int32_t seen = 0;
    int64_t max_ts = -1;
    size_t touched = 0;
    auto walked = ms::model::for_each_record(
      bytes.subspan(ms::model::batch_header_size), h.record_count, [&](const ms::model::record_view& rec) {
          check(rec.offset_delta == seen, "validated batch has a wrong offset delta");
          ++seen;
          if (h.base_timestamp.value() >= 0) {
              int64_t ts = 0;
              check(!__builtin_add_overflow(h.base_timestamp.value(), rec.timestamp_delta, &ts),
                    "validated batch has a record timestamp beyond int64");
              max_ts = std::max(max_ts, ts);
          }
          // Read every byte the views point at, so ASan sees any view past the batch.
          for (const auto& part : {rec.key, rec.value}) {
              if (part) {
                  for (const std::byte b : *part) {
                      touched += std::to_integer<size_t>(b);
                  }
              }
          }
          for (const std::byte b : rec.headers) {
              touched += std::to_integer<size_t>(b);
          }
      });
    check(walked.has_value(), "validated batch does not iterate");
    check(seen == h.record_count, "validated batch iterates a different record count");
    if (h.base_timestamp.value() >= 0) {
        check(v.max_record_timestamp.value() == max_ts, "max_record_timestamp is not the records' max");
    }
    // Keep `touched` alive without printing anything.
    static volatile size_t sink = 0;
    sink = sink + touched;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::byte> bytes(size);
    if (size > 0) {
        std::memcpy(bytes.data(), data, size);
    }
    if (size >= ms::model::batch_header_size && (data[1] & 1U) != 0) {
        const uint32_t crc =
          ms::crc32c(0, std::span<const std::byte>(bytes).subspan(ms::model::batch_crc_covered_from));
        ms::store_be<uint32_t>(&bytes[ms::model::batch_crc_position], crc);
    }
    const std::span<const std::byte> span(bytes);

    const batch_limits walk{};
    const batch_limits no_walk{.check_records = false};
    const batch_result full = ms::model::validate_batch(span, walk);
    const batch_result header_only = ms::model::validate_batch(span, no_walk);

    for (const iobuf& buf : layouts(span)) {
        check(buf.size() == size, "layout lost bytes");
        check(same_outcome(full, ms::model::validate_batch(buf, walk)), "span and iobuf disagree");
        check(same_outcome(header_only, ms::model::validate_batch(buf, no_walk)),
              "span and iobuf disagree without the record walk");
    }

    if (full) {
        check(header_only.has_value() && encoded(full->header) == encoded(header_only->header),
              "a batch valid with the record walk is refused without it");
    } else if (header_only) {
        check(full.error() == batch_errc::corrupt_records || full.error() == batch_errc::invalid_timestamp,
              "the record walk refused a batch for a header-level reason");
    } else {
        check(full.error() == header_only.error(), "header-level errors differ with the record walk");
    }

    if (size >= ms::model::batch_header_size) {
        auto peeked = ms::model::peek_batch_header(span);
        check(peeked.has_value(), "peek_batch_header refused a full header");
        if (full) {
            check(encoded(*peeked) == encoded(full->header), "peek_batch_header and validate_batch disagree");
        }
    } else {
        auto peeked = ms::model::peek_batch_header(span);
        check(!peeked.has_value() && peeked.error() == batch_errc::truncated, "peek of a short header");
    }

    if (full && full->header.attributes.codec() == ms::model::compression::none) {
        walk_records(span, *full);
    }
    // Any batch whose header and CRC pass, compressed or not, goes through the record reader the
    // broker uses (decompression with a small bomb limit); it may refuse, never crash.
    if (header_only) {
        ms::model::record_reader reader(
          ms::model::record_read_limits{.max_decompressed_bytes = size_t{1} << 20});
        if (reader.reset(span)) {
            size_t touched = 0;
            int32_t records = 0;
            for (;;) {
                auto rec = reader.next();
                if (!rec || !*rec) {
                    break;
                }
                ++records;
                for (const auto& part : {(*rec)->key, (*rec)->value}) {
                    if (part) {
                        for (const std::byte b : *part) {
                            touched += std::to_integer<size_t>(b);
                        }
                    }
                }
            }
            check(records <= header_only->header.record_count,
                  "the reader returned more records than the count");
            volatile size_t sink = touched;
            (void)sink;
        }
    }
    return 0;
}
