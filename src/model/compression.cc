#include "model/compression.h"

// zlib declares next_in as pointer-to-const only when asked to.
#define ZLIB_CONST

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <limits>
#include <memory>

#include "base/endian.h"

namespace ms::model {

namespace {

// Kafka batches are at most 2 GiB (batchLength is an int32); the codec APIs below take 32-bit
// sizes in places, so compress() refuses more.
constexpr size_t max_compress_input = static_cast<size_t>(std::numeric_limits<int32_t>::max());
// Smallest first allocation for streaming codecs.
constexpr size_t min_initial_output = 4096;

constexpr std::array<std::byte, 8> xerial_magic{std::byte{0x82}, std::byte{'S'}, std::byte{'N'},
                                                std::byte{'A'},  std::byte{'P'}, std::byte{'P'},
                                                std::byte{'Y'},  std::byte{0}};
constexpr size_t xerial_header_size = 16; // magic, version, compatible version
constexpr int32_t xerial_version = 1;
constexpr int32_t xerial_compatible_version = 1;
// SnappyOutputStream's default block size in the Java client.
constexpr size_t xerial_block_size = size_t{32} * 1024;

const char* as_chars(const std::byte* p) noexcept {
    return reinterpret_cast<const char*>(p);
}

char* as_chars(std::byte* p) noexcept {
    return reinterpret_cast<char*>(p);
}

// The output of a decompressor. Holds at most limit + 1 bytes: the one byte past the limit is
// how a stream that produces too much is detected without holding any more of it.
//
// Invariant: _size <= _out.size() <= _cap, and _out.capacity() <= _cap once it had to grow.
class bounded_output {
public:
    bounded_output(std::vector<std::byte>& out, size_t limit, size_t size_hint)
      : _out(out), _limit(limit), _cap(limit == std::numeric_limits<size_t>::max() ? limit : limit + 1),
        _hint(std::clamp(size_hint, std::min(min_initial_output, _cap), _cap)) {
        _out.clear();
    }

    [[nodiscard]] bool over_limit() const noexcept { return _size > _limit; }
    // Bytes that may still be written before the limit is passed.
    [[nodiscard]] size_t budget() const noexcept { return _limit - std::min(_size, _limit); }

    // Writable bytes after those produced so far: never empty while !over_limit().
    [[nodiscard]] std::span<std::byte> room() {
        if (_size == _out.size()) {
            grow_to(_out.empty() ? _hint : _out.size() * 2);
        }
        return std::span<std::byte>(_out).subspan(_size);
    }

    // Exactly n writable bytes. REQUIRES: n <= budget().
    [[nodiscard]] std::span<std::byte> room_for(size_t n) {
        if (_out.size() - _size < n) {
            grow_to(std::max(_size + n, std::min(_out.size() * 2, _cap)));
        }
        return std::span<std::byte>(_out).subspan(_size, n);
    }

    void produced(size_t n) noexcept { _size += n; }

    void finish() { _out.resize(_size); }

private:
    void grow_to(size_t n) {
        n = std::min(std::max(n, _size + 1), _cap);
        // reserve first: resize alone may over-allocate (libstdc++ doubles), past the cap.
        _out.reserve(n);
        _out.resize(n);
    }

    std::vector<std::byte>& _out;
    size_t _size = 0;
    size_t _limit;
    size_t _cap;
    size_t _hint;
};

using status = result<void, compression_errc>;

size_t input_based_hint(std::span<const std::byte> in) noexcept {
    constexpr size_t expected_ratio = 4;
    return in.size() > std::numeric_limits<size_t>::max() / expected_ratio ? in.size()
                                                                           : in.size() * expected_ratio;
}

// ---------------------------------------------------------------------------------------------
// gzip

// Ends the zlib stream however the function returns.
class inflate_guard {
public:
    explicit inflate_guard(z_stream* zs) noexcept : _zs(zs) {}
    inflate_guard(const inflate_guard&) = delete;
    inflate_guard& operator=(const inflate_guard&) = delete;
    ~inflate_guard() { inflateEnd(_zs); }

private:
    z_stream* _zs;
};

status gunzip(std::span<const std::byte> in, bounded_output& out) {
    z_stream zs{};
    // 16 + window bits: gzip wrapper only (what GZIPInputStream accepts), no zlib wrapper.
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        return unexpected(compression_errc::library_error);
    }
    const inflate_guard guard(&zs);
    size_t in_pos = 0;
    while (true) {
        // avail_in is 32 bits wide: feed at most that much at a time.
        if (zs.avail_in == 0 && in_pos < in.size()) {
            const size_t n = std::min<size_t>(in.size() - in_pos, UINT_MAX);
            zs.next_in = reinterpret_cast<const Bytef*>(in.data() + in_pos);
            zs.avail_in = static_cast<uInt>(n);
            in_pos += n;
        }
        const std::span<std::byte> room = out.room();
        const size_t offered = std::min<size_t>(room.size(), UINT_MAX);
        zs.next_out = reinterpret_cast<Bytef*>(room.data());
        zs.avail_out = static_cast<uInt>(offered);
        const int rc = inflate(&zs, Z_NO_FLUSH);
        out.produced(offered - zs.avail_out);
        if (out.over_limit()) {
            return unexpected(compression_errc::too_large);
        }
        switch (rc) {
        case Z_OK: break;
        case Z_STREAM_END:
            if (zs.avail_in == 0 && in_pos == in.size()) {
                return {};
            }
            // Another gzip member follows (GZIPInputStream reads concatenated members too).
            if (inflateReset(&zs) != Z_OK) {
                return unexpected(compression_errc::library_error);
            }
            break;
        case Z_BUF_ERROR:
            // No progress was possible. Output room was offered, so input is missing.
            if (zs.avail_in == 0 && in_pos == in.size()) {
                return unexpected(compression_errc::truncated);
            }
            break;
        case Z_MEM_ERROR: return unexpected(compression_errc::library_error);
        default: return unexpected(compression_errc::corrupt); // Z_DATA_ERROR, Z_NEED_DICT
        }
    }
}

// Ends the zlib stream however the function returns.
class deflate_guard {
public:
    explicit deflate_guard(z_stream* zs) noexcept : _zs(zs) {}
    deflate_guard(const deflate_guard&) = delete;
    deflate_guard& operator=(const deflate_guard&) = delete;
    ~deflate_guard() { deflateEnd(_zs); }

private:
    z_stream* _zs;
};

result<std::vector<std::byte>, compression_errc> gzip(std::span<const std::byte> in,
                                                      std::optional<int> level) {
    const int lvl = level.value_or(Z_DEFAULT_COMPRESSION);
    if (lvl < Z_DEFAULT_COMPRESSION || lvl > Z_BEST_COMPRESSION) {
        return unexpected(compression_errc::invalid_level);
    }
    z_stream zs{};
    constexpr int mem_level = 8; // zlib's default
    if (deflateInit2(&zs, lvl, Z_DEFLATED, 16 + MAX_WBITS, mem_level, Z_DEFAULT_STRATEGY) != Z_OK) {
        return unexpected(compression_errc::library_error);
    }
    const deflate_guard guard(&zs);
    // deflateBound() covers the gzip wrapper and makes one Z_FINISH call enough.
    std::vector<std::byte> out(deflateBound(&zs, static_cast<uLong>(in.size())));
    zs.next_in = reinterpret_cast<const Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        return unexpected(compression_errc::library_error);
    }
    out.resize(zs.total_out);
    return out;
}

// ---------------------------------------------------------------------------------------------
// snappy

// One raw snappy stream. Its length prefix is checked against the budget before any allocation.
status unsnappy_raw(std::span<const std::byte> in, bounded_output& out) {
    size_t n = 0;
    if (!snappy::GetUncompressedLength(as_chars(in.data()), in.size(), &n)) {
        return unexpected(compression_errc::corrupt);
    }
    if (n > out.budget()) {
        return unexpected(compression_errc::too_large);
    }
    const std::span<std::byte> dst = out.room_for(n);
    // Snappy checks every element against the stated length: it never writes past dst, and
    // returns false for input that is corrupt or ends early.
    if (!snappy::RawUncompress(as_chars(in.data()), in.size(), as_chars(dst.data()))) {
        return unexpected(compression_errc::corrupt);
    }
    out.produced(n);
    return {};
}

bool is_xerial(std::span<const std::byte> in) noexcept {
    return in.size() >= xerial_magic.size() &&
           std::equal(xerial_magic.begin(), xerial_magic.end(), in.begin());
}

status unsnappy_xerial(std::span<const std::byte> in, bounded_output& out) {
    if (in.size() < xerial_header_size) {
        return unexpected(compression_errc::truncated);
    }
    // The version fields are not checked: every xerial version so far has the same block layout,
    // and neither the Java client nor librdkafka looks at them.
    size_t pos = xerial_header_size;
    while (pos < in.size()) {
        if (in.size() - pos < sizeof(int32_t)) {
            return unexpected(compression_errc::truncated);
        }
        const int32_t len = load_be<int32_t>(&in[pos]);
        pos += sizeof(int32_t);
        if (len <= 0) {
            // SnappyOutputStream never writes an empty block; a negative length is garbage.
            return unexpected(compression_errc::corrupt);
        }
        if (static_cast<size_t>(len) > in.size() - pos) {
            return unexpected(compression_errc::truncated);
        }
        auto block = unsnappy_raw(in.subspan(pos, static_cast<size_t>(len)), out);
        if (!block) {
            return block;
        }
        pos += static_cast<size_t>(len);
    }
    return {};
}

size_t snappy_hint(std::span<const std::byte> in) noexcept {
    size_t n = 0;
    if (!is_xerial(in) && snappy::GetUncompressedLength(as_chars(in.data()), in.size(), &n)) {
        return n;
    }
    return input_based_hint(in);
}

// Appends one raw snappy stream of `in` to `out`.
void append_snappy_raw(std::span<const std::byte> in, std::vector<std::byte>& out) {
    const size_t start = out.size();
    out.resize(start + snappy::MaxCompressedLength(in.size()));
    size_t written = 0;
    snappy::RawCompress(as_chars(in.data()), in.size(), as_chars(out.data() + start), &written);
    out.resize(start + written);
}

std::vector<std::byte> snappy_compress(std::span<const std::byte> in, snappy_framing framing) {
    std::vector<std::byte> out;
    if (framing == snappy_framing::raw) {
        append_snappy_raw(in, out);
        return out;
    }
    out.resize(xerial_header_size);
    std::copy(xerial_magic.begin(), xerial_magic.end(), out.begin());
    store_be<int32_t>(&out[8], xerial_version);
    store_be<int32_t>(&out[12], xerial_compatible_version);
    for (size_t pos = 0; pos < in.size(); pos += xerial_block_size) {
        const size_t len_at = out.size();
        out.resize(len_at + sizeof(int32_t));
        append_snappy_raw(in.subspan(pos, std::min(xerial_block_size, in.size() - pos)), out);
        store_be<int32_t>(&out[len_at], static_cast<int32_t>(out.size() - len_at - sizeof(int32_t)));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// lz4

struct lz4_dctx_deleter {
    void operator()(LZ4F_dctx* d) const noexcept { LZ4F_freeDecompressionContext(d); }
};

status unlz4(std::span<const std::byte> in, bounded_output& out) {
    LZ4F_dctx* raw = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) {
        return unexpected(compression_errc::library_error);
    }
    const std::unique_ptr<LZ4F_dctx, lz4_dctx_deleter> dctx(raw);
    if (in.empty()) {
        return unexpected(compression_errc::truncated);
    }
    size_t pos = 0;
    while (true) {
        const std::span<std::byte> room = out.room();
        size_t dst_size = room.size();
        size_t src_size = in.size() - pos;
        const size_t rc =
          LZ4F_decompress(dctx.get(), room.data(), &dst_size, in.data() + pos, &src_size, nullptr);
        if (LZ4F_isError(rc)) {
            // Also checksum mismatches, and block sizes beyond the frame's maximum.
            return unexpected(compression_errc::corrupt);
        }
        pos += src_size;
        out.produced(dst_size);
        if (out.over_limit()) {
            return unexpected(compression_errc::too_large);
        }
        if (rc == 0 && pos == in.size()) {
            return {}; // the last frame is complete and flushed
        }
        // rc == 0 with input left: another frame follows; the context starts it afresh.
        if (src_size == 0 && dst_size == 0) {
            // No progress although room was offered: the frame wants input there is not.
            return unexpected(pos == in.size() ? compression_errc::truncated : compression_errc::corrupt);
        }
    }
}

result<std::vector<std::byte>, compression_errc> lz4_compress(std::span<const std::byte> in,
                                                              std::optional<int> level) {
    const int lvl = level.value_or(0);
    if (lvl < 0 || lvl > LZ4F_compressionLevel_max()) {
        return unexpected(compression_errc::invalid_level);
    }
    LZ4F_preferences_t prefs;
    std::memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.contentSize = 0;
    prefs.compressionLevel = lvl;
    std::vector<std::byte> out(LZ4F_compressFrameBound(in.size(), &prefs));
    const size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
    if (LZ4F_isError(n)) {
        return unexpected(compression_errc::library_error);
    }
    out.resize(n);
    return out;
}

// ---------------------------------------------------------------------------------------------
// zstd

struct zstd_dctx_deleter {
    void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
};

// Window sizes up to zstd's default limit (2^27 = 128 MiB) are accepted, as by zstd-jni and
// librdkafka: a Java producer streams with a window chosen by level, not by batch size. The window
// buffer is allocated up front but its pages are touched only as output is written, so a large
// window on a small output costs address space, not memory.
status unzstd(std::span<const std::byte> in, bounded_output& out) {
    const std::unique_ptr<ZSTD_DCtx, zstd_dctx_deleter> dctx(ZSTD_createDCtx());
    if (!dctx) {
        return unexpected(compression_errc::library_error);
    }
    if (in.empty()) {
        return unexpected(compression_errc::truncated);
    }
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    while (true) {
        const std::span<std::byte> room = out.room();
        ZSTD_outBuffer dst{room.data(), room.size(), 0};
        const size_t before = src.pos;
        const size_t rc = ZSTD_decompressStream(dctx.get(), &dst, &src);
        if (ZSTD_isError(rc)) {
            switch (ZSTD_getErrorCode(rc)) {
            case ZSTD_error_memory_allocation: return unexpected(compression_errc::library_error);
            // The frame asks for a window above the limit: refused for the memory it would take.
            case ZSTD_error_frameParameter_windowTooLarge: return unexpected(compression_errc::too_large);
            default: return unexpected(compression_errc::corrupt);
            }
        }
        out.produced(dst.pos);
        if (out.over_limit()) {
            return unexpected(compression_errc::too_large);
        }
        if (rc == 0 && src.pos == src.size) {
            return {}; // the last frame is complete and flushed
        }
        // rc == 0 with input left: another frame follows.
        if (src.pos == src.size && dst.pos < dst.size) {
            // Everything decodable was flushed (the output was not full): input is missing.
            return unexpected(compression_errc::truncated);
        }
        if (src.pos == before && dst.pos == 0) {
            return unexpected(compression_errc::corrupt); // no progress: never loop forever
        }
    }
}

result<std::vector<std::byte>, compression_errc> zstd_compress(std::span<const std::byte> in,
                                                               std::optional<int> level) {
    const int lvl = level.value_or(ZSTD_CLEVEL_DEFAULT);
    if (lvl < ZSTD_minCLevel() || lvl > ZSTD_maxCLevel()) {
        return unexpected(compression_errc::invalid_level);
    }
    std::vector<std::byte> out(ZSTD_compressBound(in.size()));
    const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), lvl);
    if (ZSTD_isError(n)) {
        return unexpected(compression_errc::library_error);
    }
    out.resize(n);
    return out;
}

bool known_codec(compression codec) noexcept {
    return static_cast<uint8_t>(codec) <= static_cast<uint8_t>(compression::zstd);
}

} // namespace

std::string_view codec_name(compression codec) noexcept {
    switch (codec) {
    case compression::none: return "none";
    case compression::gzip: return "gzip";
    case compression::snappy: return "snappy";
    case compression::lz4: return "lz4";
    case compression::zstd: return "zstd";
    }
    return "unknown";
}

std::string_view describe(compression_errc e) noexcept {
    switch (e) {
    case compression_errc::unsupported_codec: return "unknown compression codec";
    case compression_errc::corrupt: return "compressed data is corrupt";
    case compression_errc::truncated: return "compressed data ends before its stream does";
    case compression_errc::too_large: return "decompressed data exceeds the size limit";
    case compression_errc::invalid_level: return "compression level out of the codec's range";
    case compression_errc::input_too_large: return "input too large to compress in one piece (2 GiB or more)";
    case compression_errc::library_error: return "compression library failed (out of memory?)";
    }
    return "unknown compression error";
}

result<void, compression_errc> decompress_into(compression codec, std::span<const std::byte> in,
                                               size_t max_output, std::vector<std::byte>& out) {
    if (!known_codec(codec)) {
        return unexpected(compression_errc::unsupported_codec);
    }
    status st;
    switch (codec) {
    case compression::none: {
        bounded_output sink(out, max_output, in.size());
        if (in.size() > sink.budget()) {
            return unexpected(compression_errc::too_large);
        }
        const std::span<std::byte> dst = sink.room_for(in.size());
        std::copy(in.begin(), in.end(), dst.begin());
        sink.produced(in.size());
        sink.finish();
        return {};
    }
    case compression::gzip: {
        bounded_output sink(out, max_output, input_based_hint(in));
        st = gunzip(in, sink);
        sink.finish();
        break;
    }
    case compression::snappy: {
        bounded_output sink(out, max_output, snappy_hint(in));
        st = is_xerial(in) ? unsnappy_xerial(in, sink) : unsnappy_raw(in, sink);
        sink.finish();
        break;
    }
    case compression::lz4: {
        bounded_output sink(out, max_output, input_based_hint(in));
        st = unlz4(in, sink);
        sink.finish();
        break;
    }
    case compression::zstd: {
        // A first frame that states its size: refuse a bomb before allocating, size exactly.
        const unsigned long long stated = ZSTD_getFrameContentSize(in.data(), in.size());
        size_t hint = input_based_hint(in);
        if (stated != ZSTD_CONTENTSIZE_UNKNOWN && stated != ZSTD_CONTENTSIZE_ERROR) {
            if (stated > max_output) {
                out.clear();
                return unexpected(compression_errc::too_large);
            }
            hint = static_cast<size_t>(stated);
        }
        bounded_output sink(out, max_output, hint);
        st = unzstd(in, sink);
        sink.finish();
        break;
    }
    }
    return st;
}

result<std::vector<std::byte>, compression_errc> decompress(compression codec, std::span<const std::byte> in,
                                                            size_t max_output) {
    std::vector<std::byte> out;
    auto r = decompress_into(codec, in, max_output, out);
    if (!r) {
        return unexpected(r.error());
    }
    return out;
}

result<std::vector<std::byte>, compression_errc> compress(compression codec, std::span<const std::byte> in,
                                                          const compression_options& options) {
    if (!known_codec(codec)) {
        return unexpected(compression_errc::unsupported_codec);
    }
    if (in.size() > max_compress_input) {
        return unexpected(compression_errc::input_too_large);
    }
    switch (codec) {
    case compression::none: return std::vector<std::byte>(in.begin(), in.end());
    case compression::gzip: return gzip(in, options.level);
    case compression::snappy: return snappy_compress(in, options.snappy);
    case compression::lz4: return lz4_compress(in, options.level);
    case compression::zstd: return zstd_compress(in, options.level);
    }
    return unexpected(compression_errc::unsupported_codec);
}

} // namespace ms::model
