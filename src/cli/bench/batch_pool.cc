#include "cli/bench/batch_pool.h"

#include <random>
#include <string>

#include <fmt/format.h>

#include "base/endian.h"
#include "model/record_batch.h"
#include "model/record_batch_builder.h"

namespace ms::cli::bench {

namespace {

// Header positions of the two timestamps (after baseOffset, batchLength, leaderEpoch, magic, crc,
// attributes, lastOffsetDelta).
constexpr size_t first_timestamp_position = 27;
constexpr size_t max_timestamp_position = 35;

} // namespace

result<model::compression, std::string> parse_codec(std::string_view name) {
    for (const auto codec : {model::compression::none, model::compression::gzip, model::compression::snappy,
                             model::compression::lz4, model::compression::zstd}) {
        if (model::codec_name(codec) == name) {
            return codec;
        }
    }
    return unexpected(fmt::format("unknown compression '{}': use none, gzip, snappy, lz4 or zstd", name));
}

result<batch_pool, std::string> batch_pool::build(int32_t records, int32_t value_size, key_mode keys,
                                                  model::compression codec, size_t variety, uint64_t seed) {
    batch_pool pool;
    pool._records = records;
    std::mt19937_64 random(seed);
    std::string value(static_cast<size_t>(value_size), '\0');
    std::vector<std::string> batch_keys(static_cast<size_t>(records));
    uint64_t sequence = 0;
    for (size_t b = 0; b < variety; ++b) {
        model::record_batch_builder builder(model::timestamp(0));
        builder.set_compression(codec);
        uint64_t payload = 0;
        for (int32_t r = 0; r < records; ++r) {
            for (size_t i = 0; i < value.size(); i += 8) {
                const uint64_t word = random();
                for (size_t j = i; j < value.size() && j < i + 8; ++j) {
                    value[j] = static_cast<char>((word >> (8 * (j - i))) & 0x7f);
                }
            }
            std::optional<std::string_view> key;
            auto& k = batch_keys[static_cast<size_t>(r)];
            if (keys == key_mode::sequential) {
                k = fmt::format("{:012}", sequence++);
                key = k;
            } else if (keys == key_mode::random) {
                k = fmt::format("{:012}", random() % 1'000'000);
                key = k;
            }
            payload += value.size() + (key ? key->size() : 0);
            builder.add(key, value, model::timestamp(0));
        }
        auto built = builder.try_build();
        if (!built) {
            return unexpected(
              fmt::format("cannot compress the bench batches with {}", model::codec_name(codec)));
        }
        std::vector<std::byte> bytes(built->size());
        built->copy_out(0, bytes);
        pool._batches.push_back(std::move(bytes));
        pool._payload_bytes = payload;
    }
    return pool;
}

iobuf batch_pool::next(int64_t now_ms) {
    std::vector<std::byte>& batch = _batches[_next];
    _next = (_next + 1) % _batches.size();
    store_be<int64_t>(batch.data() + first_timestamp_position, now_ms);
    store_be<int64_t>(batch.data() + max_timestamp_position, now_ms);
    model::update_batch_crc(batch);
    return iobuf::copy_of(batch);
}

} // namespace ms::cli::bench
