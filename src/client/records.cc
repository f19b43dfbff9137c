#include "client/records.h"

#include <fmt/format.h>

#include "base/crc32c.h"
#include "model/record_batch.h"
#include "model/record_batch_builder.h"
#include "model/record_reader.h"
#include "model/record_set.h"

namespace ms::client {

namespace {

std::string to_string(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; // NOLINT(*-reinterpret-cast)
}

// The headers section of a record: count times (key varint+bytes, value varint+bytes or -1).
bool parse_headers(std::span<const std::byte> raw, int32_t count, std::vector<record_header_value>& out) {
    if (count < 0 || static_cast<size_t>(count) > raw.size()) {
        return false; // every header takes at least two bytes
    }
    model::detail::record_cursor cursor(raw);
    for (int32_t i = 0; i < count; ++i) {
        const std::byte* key = nullptr;
        int32_t key_length = 0;
        const std::byte* value = nullptr;
        int32_t value_length = 0;
        if (!cursor.bytes(key, key_length, false) || !cursor.bytes(value, value_length, true)) {
            return false;
        }
        record_header_value h;
        h.key = to_string({key, static_cast<size_t>(key_length)});
        if (value != nullptr) {
            h.value = to_string({value, static_cast<size_t>(value_length)});
        }
        out.push_back(std::move(h));
    }
    return cursor.at_end();
}

} // namespace

result<iobuf, std::string> encode_records(std::span<const client_record> records, model::compression codec) {
    if (records.empty()) {
        return unexpected(std::string("no records to encode"));
    }
    model::record_batch_builder builder(model::timestamp(records.front().timestamp_ms));
    builder.set_compression(codec);
    std::vector<model::record_header> headers;
    for (const auto& r : records) {
        headers.clear();
        for (const auto& h : r.headers) {
            headers.push_back({h.key, h.value ? std::optional<std::string_view>(*h.value) : std::nullopt});
        }
        builder.add(r.key ? std::optional<std::string_view>(*r.key) : std::nullopt,
                    r.value ? std::optional<std::string_view>(*r.value) : std::nullopt,
                    model::timestamp(r.timestamp_ms), headers);
    }
    auto built = builder.try_build();
    if (!built) {
        return unexpected(fmt::format("cannot compress a batch with {}", model::codec_name(codec)));
    }
    return std::move(*built);
}

result<decoded_records, std::string> decode_records(std::span<const std::byte> bytes, int32_t partition,
                                                    int64_t from) {
    decoded_records out;
    out.next_offset = from;
    model::record_reader reader;
    std::string failure;
    // A partial batch at the end is fetched again from next_offset.
    const auto end = model::for_each_whole_batch(
      bytes, [&](const model::record_batch_header& header, std::span<const std::byte> batch) {
          if (crc32c(0, batch.subspan(model::batch_crc_covered_from)) != header.crc) {
              failure = fmt::format("partition {}: batch at offset {} has a bad CRC", partition,
                                    header.base_offset.value());
              return false;
          }
          const int64_t last = header.last_offset().value();
          if (last < out.next_offset) {
              return true; // entirely before the fetch position
          }
          out.next_offset = last + 1;
          if (header.attributes.control()) {
              return true;
          }
          if (auto reset = reader.reset(batch); !reset) {
              failure = fmt::format("partition {}: batch at offset {} does not parse: {}", partition,
                                    header.base_offset.value(), model::describe(reset.error()));
              return false;
          }
          const bool append_time = header.attributes.ts_type() == model::timestamp_type::log_append_time;
          bool bad_headers = false;
          auto walked = reader.for_each([&](const model::record_view& rec) {
              const int64_t offset = header.base_offset.value() + rec.offset_delta;
              if (offset < from || bad_headers) {
                  return;
              }
              client_record r;
              r.partition = partition;
              r.offset = offset;
              r.log_append_time = append_time;
              r.timestamp_ms = append_time ? header.max_timestamp.value()
                                           : header.base_timestamp.value() + rec.timestamp_delta;
              if (rec.key) {
                  r.key = to_string(*rec.key);
              }
              if (rec.value) {
                  r.value = to_string(*rec.value);
              }
              if (!parse_headers(rec.headers, rec.header_count, r.headers)) {
                  bad_headers = true;
                  return;
              }
              out.records.push_back(std::move(r));
          });
          if (!walked || bad_headers) {
              failure = fmt::format("partition {}: the records of the batch at offset {} do not parse",
                                    partition, header.base_offset.value());
              return false;
          }
          return true;
      });
    if (!failure.empty()) {
        return unexpected(std::move(failure));
    }
    if (end == model::record_set_end::damaged) {
        return unexpected(fmt::format("partition {}: a damaged batch header (batchLength below a header's "
                                      "size) where offset {} was expected",
                                      partition, out.next_offset));
    }
    return out;
}

} // namespace ms::client
