#pragma once

// batch_pool: record batches built once before a produce run, so the load generator spends its CPU
// on the wire and not on encoding. Each send takes the next batch of the pool, copies it (the
// broker may still be reading the previous copy from the socket buffer), stamps the current time
// as its first and max timestamp and recomputes the CRC, as a client building a fresh batch would.
// Payloads are random bytes (incompressible unless a codec finds repetition; keys follow
// --keys), so codecs see realistic work.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/iobuf.h"
#include "base/result.h"
#include "cli/bench/bench_options.h"
#include "model/compression.h"

namespace ms::cli::bench {

class batch_pool {
public:
    // Builds `variety` batches of `records` records with `value_size`-byte values.
    static result<batch_pool, std::string> build(int32_t records, int32_t value_size, key_mode keys,
                                                 model::compression codec, size_t variety, uint64_t seed);

    // The next batch, stamped with `now_ms`, in its own buffer.
    [[nodiscard]] iobuf next(int64_t now_ms);

    [[nodiscard]] int32_t records_per_batch() const noexcept { return _records; }
    // Keys and values of one batch.
    [[nodiscard]] uint64_t payload_bytes_per_batch() const noexcept { return _payload_bytes; }
    [[nodiscard]] size_t wire_bytes_per_batch() const noexcept { return _batches.front().size(); }

private:
    std::vector<std::vector<std::byte>> _batches;
    size_t _next = 0;
    int32_t _records = 0;
    uint64_t _payload_bytes = 0;
};

[[nodiscard]] result<model::compression, std::string> parse_codec(std::string_view name);

} // namespace ms::cli::bench
