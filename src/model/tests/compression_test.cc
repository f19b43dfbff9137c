// Codec-level tests of model/compression.h: known bytes written by the reference tools and by the
// libraries directly, both snappy framings, decompression bombs refused at the limit, and corrupt
// or truncated input refused without a crash.

// zlib declares next_in as pointer-to-const only when asked to.
#define ZLIB_CONST

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/endian.h"
#include "model/compression.h"

namespace ms::model {

// For readable failures.
void PrintTo(compression_errc e, std::ostream* os); // NOLINT(readability-identifier-naming): GoogleTest name
void PrintTo(compression_errc e, std::ostream* os) {
    *os << describe(e);
}

namespace {

using bytes = std::vector<std::byte>;

constexpr size_t mib = size_t{1024} * 1024;
constexpr std::array<compression, 4> codecs{compression::gzip, compression::snappy, compression::lz4,
                                            compression::zstd};

bytes from_u8(std::initializer_list<unsigned> values) {
    bytes out;
    for (const unsigned v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

bytes from_text(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return {p, p + s.size()};
}

std::string text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

bytes concat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

// Decompresses with a generous limit and expects success.
std::string plain(compression codec, std::span<const std::byte> in, size_t limit = mib) {
    auto r = decompress(codec, in, limit);
    EXPECT_TRUE(r.has_value()) << codec_name(codec) << ": " << describe(r.error());
    return r ? text(*r) : std::string("<error>");
}

compression_errc error_of(compression codec, std::span<const std::byte> in, size_t limit = mib) {
    auto r = decompress(codec, in, limit);
    EXPECT_FALSE(r.has_value()) << codec_name(codec) << ": decompressed to " << r->size() << " bytes";
    return r ? compression_errc::library_error : r.error();
}

// Records-like test data: repetitive enough to compress, varied enough to need literals.
bytes sample_data(size_t n) {
    bytes out;
    out.reserve(n);
    for (size_t i = 0; out.size() < n; ++i) {
        const std::string line =
          "record-" + std::to_string(i % 97) + ":value-" + std::to_string(i * 7919 % 1009) + ";";
        for (const char c : line) {
            if (out.size() < n) {
                out.push_back(static_cast<std::byte>(c));
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Streams written by the libraries directly (not by compress()), in pieces, so that the output is
// made without the input ever being in memory at once: `chunk` repeated `times` times.

bytes gzip_stream(std::span<const std::byte> chunk, size_t times) {
    z_stream zs{};
    EXPECT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
              Z_OK);
    bytes out;
    std::array<std::byte, size_t{64} * 1024> buf{};
    for (size_t i = 0; i <= times; ++i) {
        const bool last = i == times;
        zs.next_in = reinterpret_cast<const Bytef*>(chunk.data());
        zs.avail_in = last ? 0 : static_cast<uInt>(chunk.size());
        int rc = Z_OK;
        do {
            zs.next_out = reinterpret_cast<Bytef*>(buf.data());
            zs.avail_out = static_cast<uInt>(buf.size());
            rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
            out.insert(out.end(), buf.begin(),
                       buf.begin() + static_cast<std::ptrdiff_t>(buf.size() - zs.avail_out));
        } while (zs.avail_out == 0 || (last && rc != Z_STREAM_END));
    }
    deflateEnd(&zs);
    return out;
}

// Without a pledged size the frame header states no content size, as zstd-jni's stream writes.
bytes zstd_stream(std::span<const std::byte> chunk, size_t times, bool pledge_size) {
    const std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    if (pledge_size) {
        EXPECT_FALSE(ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx.get(), chunk.size() * times)));
    }
    bytes out;
    std::vector<std::byte> buf(ZSTD_CStreamOutSize());
    for (size_t i = 0; i <= times; ++i) {
        const bool last = i == times;
        ZSTD_inBuffer in{chunk.data(), last ? 0 : chunk.size(), 0};
        size_t remaining = 0;
        do {
            ZSTD_outBuffer o{buf.data(), buf.size(), 0};
            remaining = ZSTD_compressStream2(cctx.get(), &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
            EXPECT_FALSE(ZSTD_isError(remaining));
            out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(o.pos));
        } while (last ? remaining != 0 : in.pos < in.size);
    }
    return out;
}

bytes lz4_stream(std::span<const std::byte> chunk, size_t times) {
    LZ4F_cctx* raw = nullptr;
    EXPECT_FALSE(LZ4F_isError(LZ4F_createCompressionContext(&raw, LZ4F_VERSION)));
    const std::unique_ptr<LZ4F_cctx, LZ4F_errorCode_t (*)(LZ4F_cctx*)> cctx(raw, LZ4F_freeCompressionContext);
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    std::vector<std::byte> buf(LZ4F_compressBound(chunk.size(), &prefs) + LZ4F_HEADER_SIZE_MAX);
    bytes out;
    auto append = [&](size_t n) {
        EXPECT_FALSE(LZ4F_isError(n));
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    };
    append(LZ4F_compressBegin(cctx.get(), buf.data(), buf.size(), &prefs));
    for (size_t i = 0; i < times; ++i) {
        append(LZ4F_compressUpdate(cctx.get(), buf.data(), buf.size(), chunk.data(), chunk.size(), nullptr));
    }
    append(LZ4F_compressEnd(cctx.get(), buf.data(), buf.size(), nullptr));
    return out;
}

bytes snappy_raw(std::span<const std::byte> in) {
    std::string out;
    snappy::Compress(reinterpret_cast<const char*>(in.data()), in.size(), &out);
    return from_text(out);
}

// Xerial framing around blocks compressed by the snappy library, as SnappyOutputStream writes it.
bytes xerial(std::initializer_list<bytes> raw_blocks) {
    bytes out = from_u8({0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1});
    for (const bytes& block : raw_blocks) {
        bytes len(4);
        store_be<int32_t>(len.data(), static_cast<int32_t>(block.size()));
        out.insert(out.end(), len.begin(), len.end());
        out.insert(out.end(), block.begin(), block.end());
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Known bytes

TEST(compression, codec_names) {
    EXPECT_EQ(codec_name(compression::none), "none");
    EXPECT_EQ(codec_name(compression::gzip), "gzip");
    EXPECT_EQ(codec_name(compression::snappy), "snappy");
    EXPECT_EQ(codec_name(compression::lz4), "lz4");
    EXPECT_EQ(codec_name(compression::zstd), "zstd");
    EXPECT_EQ(codec_name(static_cast<compression>(5)), "unknown");
}

TEST(compression, describe_every_error) {
    std::vector<std::string_view> seen;
    for (const compression_errc e :
         {compression_errc::unsupported_codec, compression_errc::corrupt, compression_errc::truncated,
          compression_errc::too_large, compression_errc::invalid_level, compression_errc::input_too_large,
          compression_errc::library_error}) {
        const std::string_view d = describe(e);
        EXPECT_FALSE(d.empty());
        EXPECT_EQ(std::count(seen.begin(), seen.end(), d), 0) << d;
        seen.push_back(d);
    }
}

// `printf 'hello, kafka' | gzip -n`
TEST(decompress, gzip_known_bytes) {
    const bytes gz = from_u8({0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb,
                              0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0xc8, 0x4e, 0x4c, 0xcb, 0x4e,
                              0x04, 0x00, 0x6e, 0x16, 0x60, 0x9e, 0x0c, 0x00, 0x00, 0x00});
    EXPECT_EQ(plain(compression::gzip, gz), "hello, kafka");
    // Two members back to back read as one stream (GZIPInputStream does the same).
    EXPECT_EQ(plain(compression::gzip, concat({gz, gz})), "hello, kafkahello, kafka");
    // A zlib stream (RFC 1950) is not gzip.
    const bytes zlib_stream =
      from_u8({0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x06, 0x2c, 0x02, 0x15});
    EXPECT_EQ(error_of(compression::gzip, zlib_stream), compression_errc::corrupt);
    // Bytes after the last member that are not a member.
    EXPECT_EQ(error_of(compression::gzip, concat({gz, from_u8({0x00, 0x01})})), compression_errc::corrupt);
    // The trailer's CRC-32 of the output is checked.
    bytes bad_crc = gz;
    bad_crc[24] ^= std::byte{0x01};
    EXPECT_EQ(error_of(compression::gzip, bad_crc), compression_errc::corrupt);
}

TEST(decompress, gzip_written_by_zlib) {
    const bytes data = sample_data(100'000);
    const bytes gz = gzip_stream(data, 3);
    auto r = decompress(compression::gzip, gz, mib);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(*r, concat({data, data, data}));
}

// Raw snappy, written by hand from the format description.
TEST(decompress, snappy_raw_known_bytes) {
    // Length 12, one literal of 12 bytes.
    const bytes literal = concat({from_u8({0x0c, 0x2c}), from_text("hello, kafka")});
    EXPECT_EQ(plain(compression::snappy, literal), "hello, kafka");
    // Length 10: literal "a", then a copy of 9 bytes from offset 1 (overlapping the output).
    EXPECT_EQ(plain(compression::snappy, from_u8({0x0a, 0x00, 'a', 0x15, 0x01})), "aaaaaaaaaa");
    // Empty output.
    EXPECT_EQ(plain(compression::snappy, from_u8({0x00})), "");
    // A copy from before the start of the output.
    EXPECT_EQ(error_of(compression::snappy, from_u8({0x0a, 0x15, 0x01})), compression_errc::corrupt);
    // Stated length longer than the elements produce.
    EXPECT_EQ(error_of(compression::snappy, from_u8({0x0b, 0x00, 'a', 0x15, 0x01})),
              compression_errc::corrupt);
    // Stated length shorter than the elements produce.
    EXPECT_EQ(error_of(compression::snappy, from_u8({0x09, 0x00, 'a', 0x15, 0x01})),
              compression_errc::corrupt);
    // No bytes at all; a length varint that never ends.
    EXPECT_EQ(error_of(compression::snappy, {}), compression_errc::corrupt);
    EXPECT_EQ(error_of(compression::snappy, from_u8({0xff, 0xff, 0xff, 0xff, 0xff, 0xff})),
              compression_errc::corrupt);
}

TEST(decompress, snappy_raw_written_by_snappy) {
    const bytes data = sample_data(200'000);
    auto r = decompress(compression::snappy, snappy_raw(data), mib);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(*r, data);
}

// The Java client's framing: magic, version 1, compatible version 1, then length-prefixed blocks.
TEST(decompress, snappy_xerial_framing) {
    const bytes hello = concat({from_u8({0x07, 0x18}), from_text("hello, ")});
    const bytes kafka = concat({from_u8({0x05, 0x10}), from_text("kafka")});
    const bytes framed = xerial({hello, kafka});
    ASSERT_EQ(framed.size(), 16U + 4 + 9 + 4 + 7);
    EXPECT_EQ(plain(compression::snappy, framed), "hello, kafka");
    // Header only: no blocks, no bytes.
    EXPECT_EQ(plain(compression::snappy, xerial({})), "");

    // Blocks made by the snappy library, of the Java client's 32 KiB block size.
    const bytes data = sample_data(100'000);
    const std::span<const std::byte> d(data);
    const bytes big = xerial({snappy_raw(d.first(32768)), snappy_raw(d.subspan(32768, 32768)),
                              snappy_raw(d.subspan(65536, 32768)), snappy_raw(d.subspan(98304))});
    auto r = decompress(compression::snappy, big, mib);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(*r, data);

    // compress() writes the same framing, and decompress() reads it back.
    auto ours = compress(compression::snappy, data, compression_options{.snappy = snappy_framing::xerial});
    ASSERT_TRUE(ours.has_value());
    ASSERT_GE(ours->size(), 16U);
    EXPECT_TRUE(std::equal(big.begin(), big.begin() + 16, ours->begin()));
    EXPECT_EQ(plain(compression::snappy, *ours), text(data));
    // Raw framing starts with the length varint instead.
    auto raw = compress(compression::snappy, data);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw, snappy_raw(data));
}

TEST(decompress, snappy_xerial_corrupt_framing) {
    const bytes hello = concat({from_u8({0x07, 0x18}), from_text("hello, ")});
    const bytes good = xerial({hello});
    // Header cut short (the magic alone is recognised).
    EXPECT_EQ(error_of(compression::snappy, std::span<const std::byte>(good).first(12)),
              compression_errc::truncated);
    // Block length cut short, and a block shorter than its length.
    EXPECT_EQ(error_of(compression::snappy, std::span<const std::byte>(good).first(18)),
              compression_errc::truncated);
    EXPECT_EQ(error_of(compression::snappy, std::span<const std::byte>(good).first(good.size() - 1)),
              compression_errc::truncated);
    // Zero and negative block lengths.
    bytes zero = good;
    store_be<int32_t>(&zero[16], 0);
    EXPECT_EQ(error_of(compression::snappy, zero), compression_errc::corrupt);
    bytes negative = good;
    store_be<int32_t>(&negative[16], -9);
    EXPECT_EQ(error_of(compression::snappy, negative), compression_errc::corrupt);
    // A block that is not raw snappy.
    EXPECT_EQ(error_of(compression::snappy, xerial({from_u8({0x0a, 0x15, 0x01})})),
              compression_errc::corrupt);
}

// `printf 'hello, kafka' | lz4` and `lz4 --content-size -BX` (block checksums, content size).
TEST(decompress, lz4_known_bytes) {
    const bytes frame =
      from_u8({0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x0c, 0x00, 0x00, 0x80, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
               0x2c, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x00, 0x00, 0x00, 0x00, 0x17, 0xd7, 0x87, 0xfd});
    EXPECT_EQ(plain(compression::lz4, frame), "hello, kafka");
    const bytes checked =
      from_u8({0x04, 0x22, 0x4d, 0x18, 0x7c, 0x40, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xea,
               0x0c, 0x00, 0x00, 0x80, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x6b, 0x61, 0x66, 0x6b,
               0x61, 0x17, 0xd7, 0x87, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x17, 0xd7, 0x87, 0xfd});
    EXPECT_EQ(plain(compression::lz4, checked), "hello, kafka");
    // Concatenated frames read as one stream.
    EXPECT_EQ(plain(compression::lz4, concat({frame, checked})), "hello, kafkahello, kafka");
    // Content checksum mismatch, block checksum mismatch.
    bytes bad = frame;
    bad[27] ^= std::byte{0x01};
    EXPECT_EQ(error_of(compression::lz4, bad), compression_errc::corrupt);
    bytes bad_block = checked;
    bad_block[31] ^= std::byte{0x01};
    EXPECT_EQ(error_of(compression::lz4, bad_block), compression_errc::corrupt);
    // The LZ4 block format without a frame is not accepted.
    EXPECT_EQ(error_of(compression::lz4, from_u8({0xc0, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x6b, 0x61,
                                                  0x66, 0x6b, 0x61})),
              compression_errc::corrupt);
    // Trailing bytes that are not a frame.
    EXPECT_EQ(
      error_of(compression::lz4, concat({frame, from_u8({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08})})),
      compression_errc::corrupt);
    // Input that ends inside a frame (here: before the end mark).
    EXPECT_EQ(error_of(compression::lz4, std::span<const std::byte>(frame).first(23)),
              compression_errc::truncated);
}

TEST(decompress, lz4_written_by_lz4frame) {
    const bytes data = sample_data(150'000);
    const bytes frame = lz4_stream(data, 2);
    auto r = decompress(compression::lz4, frame, mib);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(*r, concat({data, data}));
}

// `zstd < file` (content size in the header) and `cat file | zstd` (no content size).
TEST(decompress, zstd_known_bytes) {
    const bytes sized = from_u8({0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x0c, 0x61, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c,
                                 0x6f, 0x2c, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x17, 0x7b, 0xcf, 0x89});
    const bytes unsized =
      from_u8({0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x61, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c,
               0x6f, 0x2c, 0x20, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x17, 0x7b, 0xcf, 0x89});
    EXPECT_EQ(plain(compression::zstd, sized), "hello, kafka");
    EXPECT_EQ(plain(compression::zstd, unsized), "hello, kafka");
    EXPECT_EQ(plain(compression::zstd, concat({sized, unsized})), "hello, kafkahello, kafka");
    // A skippable frame (magic 0x184D2A50..5F, little-endian length) contributes nothing.
    EXPECT_EQ(plain(compression::zstd,
                    concat({from_u8({0x50, 0x2a, 0x4d, 0x18, 0x02, 0x00, 0x00, 0x00, 0xaa, 0xbb}), sized})),
              "hello, kafka");
    bytes bad_checksum = sized;
    bad_checksum[24] ^= std::byte{0x01};
    EXPECT_EQ(error_of(compression::zstd, bad_checksum), compression_errc::corrupt);
    EXPECT_EQ(error_of(compression::zstd, concat({sized, from_u8({0x00, 0x01, 0x02, 0x03})})),
              compression_errc::corrupt);
    // Input that ends inside a frame.
    EXPECT_EQ(error_of(compression::zstd, std::span<const std::byte>(sized).first(sized.size() - 1)),
              compression_errc::truncated);
    EXPECT_EQ(error_of(compression::zstd, from_text("not zstd at all")), compression_errc::corrupt);
}

TEST(decompress, zstd_written_by_zstd_stream) {
    const bytes data = sample_data(120'000);
    for (const bool pledged : {false, true}) {
        const bytes frame = zstd_stream(data, 3, pledged);
        EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()),
                  pledged ? data.size() * 3 : ZSTD_CONTENTSIZE_UNKNOWN);
        auto r = decompress(compression::zstd, frame, mib);
        ASSERT_TRUE(r.has_value()) << describe(r.error());
        EXPECT_EQ(*r, concat({data, data, data}));
    }
}

TEST(decompress, none_copies_within_the_limit) {
    const bytes data = from_text("as is");
    EXPECT_EQ(plain(compression::none, data), "as is");
    EXPECT_EQ(plain(compression::none, data, 5), "as is");
    EXPECT_EQ(error_of(compression::none, data, 4), compression_errc::too_large);
}

TEST(decompress, unknown_codecs_are_refused) {
    for (const int c : {5, 6, 7, 200}) {
        auto r = decompress(static_cast<compression>(c), from_text("x"), mib);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), compression_errc::unsupported_codec);
        auto w = compress(static_cast<compression>(c), from_text("x"));
        ASSERT_FALSE(w.has_value());
        EXPECT_EQ(w.error(), compression_errc::unsupported_codec);
    }
}

// ---------------------------------------------------------------------------------------------
// compress()

TEST(compress, round_trips_every_codec_and_size) {
    for (const compression codec : codecs) {
        for (const size_t n :
             {size_t{0}, size_t{1}, size_t{100}, size_t{65536}, size_t{65537}, size_t{300'000}}) {
            const bytes data = sample_data(n);
            auto c = compress(codec, data);
            ASSERT_TRUE(c.has_value()) << codec_name(codec) << " " << n;
            auto d = decompress(codec, *c, n);
            ASSERT_TRUE(d.has_value()) << codec_name(codec) << " " << n << ": " << describe(d.error());
            EXPECT_EQ(*d, data) << codec_name(codec) << " " << n;
            if (n >= 65536) {
                EXPECT_LT(c->size(), n / 2) << codec_name(codec) << " did not compress";
            }
        }
    }
}

TEST(compress, levels) {
    const bytes data = sample_data(50'000);
    struct level_case {
        compression codec;
        int level;
        bool valid;
    };
    for (const level_case& c :
         {level_case{compression::gzip, -1, true}, level_case{compression::gzip, 0, true},
          level_case{compression::gzip, 9, true}, level_case{compression::gzip, 10, false},
          level_case{compression::gzip, -2, false}, level_case{compression::lz4, 0, true},
          level_case{compression::lz4, 12, true}, level_case{compression::lz4, 13, false},
          level_case{compression::lz4, -1, false}, level_case{compression::zstd, 1, true},
          level_case{compression::zstd, 19, true}, level_case{compression::zstd, -5, true},
          level_case{compression::zstd, ZSTD_maxCLevel() + 1, false},
          level_case{compression::snappy, 1000, true}}) {
        auto r = compress(c.codec, data, compression_options{.level = c.level});
        ASSERT_EQ(r.has_value(), c.valid) << codec_name(c.codec) << " level " << c.level;
        if (r) {
            EXPECT_EQ(plain(c.codec, *r), text(data));
        } else {
            EXPECT_EQ(r.error(), compression_errc::invalid_level);
        }
    }
}

// Java clients refuse LZ4 frames with dependent blocks; ours are independent, 64 KiB blocks.
TEST(compress, lz4_frames_are_what_java_clients_read) {
    auto c = compress(compression::lz4, sample_data(200'000));
    ASSERT_TRUE(c.has_value());
    LZ4F_dctx* raw = nullptr;
    ASSERT_FALSE(LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION)));
    const std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> dctx(raw,
                                                                            LZ4F_freeDecompressionContext);
    LZ4F_frameInfo_t info{};
    size_t consumed = c->size();
    ASSERT_FALSE(LZ4F_isError(LZ4F_getFrameInfo(dctx.get(), &info, c->data(), &consumed)));
    EXPECT_EQ(info.blockMode, LZ4F_blockIndependent);
    EXPECT_EQ(info.blockSizeID, LZ4F_max64KB);
    EXPECT_EQ(info.contentSize, 0U);
}

// ---------------------------------------------------------------------------------------------
// Decompression bombs: 100 MiB of zeros, written in pieces so the test never holds them either.

struct bomb {
    compression codec;
    std::string name;
    bytes payload;
};

std::vector<bomb> bombs_of_100_mib() {
    const bytes zeros(mib);
    constexpr size_t times = 100;
    std::vector<bomb> out;
    out.push_back({compression::gzip, "gzip", gzip_stream(zeros, times)});
    out.push_back({compression::lz4, "lz4", lz4_stream(zeros, times)});
    out.push_back({compression::zstd, "zstd, no content size", zstd_stream(zeros, times, false)});
    out.push_back({compression::zstd, "zstd, content size", zstd_stream(zeros, times, true)});
    // Snappy needs its input whole, and compresses zeros only about 20:1: 100 xerial blocks made
    // of one compressed MiB.
    const bytes block = snappy_raw(zeros);
    bytes framed = xerial({});
    for (size_t i = 0; i < times; ++i) {
        const bytes one = xerial({block});
        framed.insert(framed.end(), one.begin() + 16, one.end());
    }
    out.push_back({compression::snappy, "snappy xerial", std::move(framed)});
    // Raw snappy states its length up front: 100 MiB, followed by one zero and a copy.
    bytes raw_bomb = from_u8({0x80, 0x80, 0x80, 0x32, 0x00, 0x00, 0xfe, 0x01, 0x00});
    out.push_back({compression::snappy, "snappy raw", std::move(raw_bomb)});
    return out;
}

TEST(decompress, bombs_are_refused_at_the_limit_without_allocating) {
    constexpr size_t limit = 4 * mib;
    for (const bomb& b : bombs_of_100_mib()) {
        SCOPED_TRACE(b.name);
        EXPECT_LT(b.payload.size(), 5 * mib);
        std::vector<std::byte> out;
        auto r = decompress_into(b.codec, b.payload, limit, out);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), compression_errc::too_large);
        // The output never held more than the limit and one byte.
        EXPECT_LE(out.capacity(), limit + 1);
    }
}

// Exactly at the limit is fine, one byte below it is not; for every codec and both snappy framings.
TEST(decompress, limit_is_exact) {
    const bytes data = sample_data(300'000);
    for (const compression codec : codecs) {
        for (const snappy_framing framing : {snappy_framing::raw, snappy_framing::xerial}) {
            if (codec != compression::snappy && framing == snappy_framing::xerial) {
                continue;
            }
            SCOPED_TRACE(std::string(codec_name(codec)) + (framing == snappy_framing::raw ? "" : " xerial"));
            auto c = compress(codec, data, compression_options{.snappy = framing});
            ASSERT_TRUE(c.has_value());
            std::vector<std::byte> exact;
            ASSERT_TRUE(decompress_into(codec, *c, data.size(), exact).has_value());
            EXPECT_EQ(exact, data);
            std::vector<std::byte> under;
            auto r = decompress_into(codec, *c, data.size() - 1, under);
            ASSERT_FALSE(r.has_value());
            EXPECT_EQ(r.error(), compression_errc::too_large);
            EXPECT_LE(under.capacity(), data.size());
            std::vector<std::byte> zero;
            auto z = decompress_into(codec, *c, 0, zero);
            ASSERT_FALSE(z.has_value());
            EXPECT_EQ(z.error(), compression_errc::too_large);
            EXPECT_LE(zero.capacity(), 1U);
        }
    }
}

// The output vector is reused: its capacity serves the next call, its old bytes are gone.
TEST(decompress, into_reuses_the_output_vector) {
    std::vector<std::byte> out(1000, std::byte{0x55});
    auto c = compress(compression::zstd, from_text("short"));
    ASSERT_TRUE(c.has_value());
    ASSERT_TRUE(decompress_into(compression::zstd, *c, mib, out).has_value());
    EXPECT_EQ(text(out), "short");
}

// ---------------------------------------------------------------------------------------------
// Truncated and corrupt input: an error or (where the format allows) a shorter valid output,
// never a crash or a read outside the input (the asan preset checks the latter).

TEST(decompress, every_truncation_is_an_error) {
    const bytes data = sample_data(70'000);
    for (const compression codec : codecs) {
        for (const snappy_framing framing : {snappy_framing::raw, snappy_framing::xerial}) {
            if (codec != compression::snappy && framing == snappy_framing::xerial) {
                continue;
            }
            SCOPED_TRACE(std::string(codec_name(codec)) + (framing == snappy_framing::raw ? "" : " xerial"));
            auto c = compress(codec, data, compression_options{.snappy = framing});
            ASSERT_TRUE(c.has_value());
            // Every prefix near the ends, and a stride through the middle.
            std::vector<size_t> cuts;
            for (size_t n = 0; n < c->size(); ++n) {
                if (n < 64 || c->size() - n < 64 || n % 97 == 0) {
                    cuts.push_back(n);
                }
            }
            for (const size_t n : cuts) {
                // A copy of exactly n bytes, so ASan sees any read past the cut.
                const bytes prefix(c->begin(), c->begin() + static_cast<std::ptrdiff_t>(n));
                auto r = decompress(codec, prefix, mib);
                if (r) {
                    // Only xerial framing can end between blocks: the output is then a prefix.
                    ASSERT_TRUE(framing == snappy_framing::xerial) << "prefix " << n << " decoded";
                    ASSERT_LT(r->size(), data.size());
                    EXPECT_TRUE(std::equal(r->begin(), r->end(), data.begin()));
                    continue;
                }
                EXPECT_TRUE(r.error() == compression_errc::truncated ||
                            r.error() == compression_errc::corrupt)
                  << "prefix " << n << ": " << describe(r.error());
            }
        }
    }
}

TEST(decompress, every_single_bit_flip_is_survived) {
    const bytes data = sample_data(5'000);
    for (const compression codec : codecs) {
        SCOPED_TRACE(codec_name(codec));
        auto c = compress(codec, data);
        ASSERT_TRUE(c.has_value());
        size_t refused = 0;
        for (size_t i = 0; i < c->size(); ++i) {
            for (const unsigned bit : {0U, 3U, 7U}) {
                bytes flipped = *c;
                flipped[i] ^= static_cast<std::byte>(1U << bit);
                auto r = decompress(codec, flipped, 2 * data.size());
                refused += r ? 0 : 1;
                if (r) {
                    EXPECT_LE(r->size(), 2 * data.size());
                }
            }
        }
        // gzip's CRC-32 and length trailer catch nearly every flip (not those in the header's
        // mtime/OS fields or in the padding bits of the last byte). The others may decode a flip
        // into different bytes: for them this test asserts only survival and the bound.
        if (codec == compression::gzip) {
            EXPECT_GT(refused, c->size() * 3 * 9 / 10);
        }
    }
}

RC_GTEST_PROP(decompress, random_bytes_never_crash, ()) {
    const auto codec = static_cast<compression>(*rc::gen::inRange(0, 8));
    const auto garbage = *rc::gen::container<std::vector<uint8_t>>(rc::gen::arbitrary<uint8_t>());
    // Behind a valid magic half of the time, so the codecs get past their first check.
    bytes in;
    if (*rc::gen::arbitrary<bool>()) {
        switch (codec) {
        case compression::gzip: in = from_u8({0x1f, 0x8b, 0x08, 0x00}); break;
        case compression::snappy:
            in = from_u8({0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1});
            break;
        case compression::lz4: in = from_u8({0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7}); break;
        case compression::zstd: in = from_u8({0x28, 0xb5, 0x2f, 0xfd}); break;
        default: break;
        }
    }
    for (const uint8_t v : garbage) {
        in.push_back(static_cast<std::byte>(v));
    }
    const size_t limit = *rc::gen::inRange<size_t>(0, 100'000);
    std::vector<std::byte> out;
    auto r = decompress_into(codec, in, limit, out);
    if (r) {
        RC_ASSERT(out.size() <= limit);
    } else {
        RC_ASSERT(out.capacity() <= limit + 1);
    }
}

} // namespace
} // namespace ms::model
