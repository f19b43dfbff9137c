#pragma once

// The compression codecs of record batch v2: everything after recordsCount is one blob in the
// codec given by attributes bits 0-2. Formats, as Kafka clients write them:
//
//   gzip    RFC 1952 member(s) (zlib). Concatenated members decode as one stream.
//   snappy  either raw snappy (librdkafka, and Java clients before xerial framing):
//             | uncompressed length varint | snappy elements ... |
//           or xerial framing (the Java client's SnappyOutputStream):
//             | 82 'S' 'N' 'A' 'P' 'P' 'Y' 00 | version i32 | compatible version i32 |
//             | block length i32 | raw snappy block | block length i32 | raw snappy block | ...
//           (integers big-endian; each block is a whole raw snappy stream of its own).
//           A raw stream can never start with the xerial magic (its first element would be a
//           copy from before the start of the output), so the first 8 bytes tell them apart.
//   lz4     LZ4 frame(s) (lz4frame.h, the "LZ4F" format). Not the LZ4 block format.
//   zstd    zstd frame(s), content size in the frame header optional.
//
// Decompression is bounded: a caller states the most output it accepts, and a stream that would
// produce more is refused with too_large after at most max_output + 1 bytes were written and
// without ever reserving more than that, so a few KiB of crafted input ("decompression bomb")
// cannot make the broker allocate gigabytes. Corrupt or truncated input of any codec is an
// error, never a crash or a read outside the input. Every function here is thread-safe and
// allocates its codec state per call.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ms::model {

enum class compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

// "none", "gzip", "snappy", "lz4", "zstd", or "unknown".
[[nodiscard]] std::string_view codec_name(compression codec) noexcept;

enum class compression_errc : uint8_t {
    unsupported_codec, // not one of the codecs above
    corrupt,           // input is not a stream of the codec: bad magic, header, checksum or data
    truncated,         // input ends inside the stream
    too_large,         // output would exceed the caller's max_output
    invalid_level,     // compress(): a level the codec does not have
    input_too_large,   // compress(): input above what the codec takes in one call (>= 2 GiB)
    library_error,     // the codec library failed for another reason (it could not allocate)
};
[[nodiscard]] std::string_view describe(compression_errc e) noexcept;

// Snappy framing for compress(). Decompression reads both.
enum class snappy_framing : uint8_t { raw, xerial };

struct compression_options {
    // Codec level; nullopt is the codec's default. gzip: -1..9 (default 6). lz4: 0..12 (default
    // 0, the fast compressor; 3 and up use LZ4 HC). zstd: ZSTD_minCLevel()..ZSTD_maxCLevel()
    // (default 3). snappy has no levels and ignores this.
    std::optional<int> level = std::nullopt;
    snappy_framing snappy = snappy_framing::raw;
};

// Decompresses `in`, written with `codec`, into `out` (replacing its contents, reusing its
// capacity). compression::none copies. Output above max_output bytes is refused with too_large;
// `out.capacity()` then is at most max_output + 1 (plus whatever it was on entry). On error,
// `out` holds an unspecified prefix of the output.
// Cost: one pass of the codec over the input; `out` grows geometrically from about four times the
// input size (snappy and zstd frames that state their size get it exactly), new bytes are
// zero-filled before the codec writes them.
[[nodiscard]] result<void, compression_errc> decompress_into(compression codec, std::span<const std::byte> in,
                                                             size_t max_output, std::vector<std::byte>& out);

// As decompress_into, into a new vector.
[[nodiscard]] result<std::vector<std::byte>, compression_errc>
decompress(compression codec, std::span<const std::byte> in, size_t max_output);

// Compresses `in` with `codec` in the form Kafka clients write and read (see the top of this
// file). lz4 frames use independent 64 KiB blocks and no content size, which Java clients
// require ("Dependent block stream is unsupported"); xerial snappy uses 32 KiB blocks, as the
// Java client does. compression::none copies.
[[nodiscard]] result<std::vector<std::byte>, compression_errc>
compress(compression codec, std::span<const std::byte> in, const compression_options& options = {});

} // namespace ms::model
