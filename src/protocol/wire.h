#pragma once

// The Kafka wire primitives under every generated message: big-endian integers, (compact) strings,
// bytes, arrays, unsigned varints, UUIDs, tagged-field sections, and `records`, which travel as
// zero-copy iobuf slices of the frame they arrived in and are never parsed here.
//
// Errors are sticky: the first failure (truncated input, a length beyond the bytes left, an array
// count that could not possibly fit) is recorded, every later read returns an empty value and
// consumes nothing, and the caller checks status() once at the end. So generated decoders are
// straight-line code, and no count read from the wire can make them allocate more than the frame
// holds: an array of N elements is refused unless N * (minimum element size) <= bytes left.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/endian.h"
#include "base/iobuf.h"
#include "base/result.h"

namespace ms::protocol {

using api_version = int16_t;

struct uuid {
    std::array<std::byte, 16> bytes{};
    bool operator==(const uuid&) const = default;
};

// A tagged field the decoder did not know: kept as raw bytes and written back on encode.
struct tagged_field {
    uint32_t tag = 0;
    std::vector<std::byte> data;
    bool operator==(const tagged_field&) const = default;
};
using unknown_tagged_fields = std::vector<tagged_field>;

enum class decode_errc : uint8_t {
    truncated,           // the input ended inside a field
    invalid_length,      // a negative length other than -1 (null), or null where not allowed
    too_many_elements,   // an array count larger than the bytes left could hold
    invalid_varint,      // an unsigned varint longer than 5 bytes
    unsupported_version, // no such version of this message
    unknown_api,         // no such API key
};

struct decode_error {
    decode_errc code = decode_errc::truncated;
    size_t position = 0; // byte offset in the input where the failing read started
};
[[nodiscard]] std::string describe(const decode_error& e);

class wire_reader {
public:
    // Reads `data`. When `backing` is given, `data` must be the bytes of *backing starting at
    // backing_offset, and `records` fields become shares of it (zero-copy); otherwise they are
    // copied into a new iobuf.
    explicit wire_reader(std::span<const std::byte> data, const iobuf* backing = nullptr,
                         size_t backing_offset = 0) noexcept
      : _data(data), _backing(backing), _backing_offset(backing_offset) {}

    [[nodiscard]] bool ok() const noexcept { return !_error.has_value(); }
    [[nodiscard]] const std::optional<decode_error>& error() const noexcept { return _error; }
    [[nodiscard]] result<void, decode_error> status() const {
        if (_error) {
            return unexpected(*_error);
        }
        return {};
    }
    [[nodiscard]] size_t position() const noexcept { return _pos; }
    [[nodiscard]] size_t remaining() const noexcept { return _data.size() - _pos; }
    void fail(decode_errc code) noexcept;
    // Fails unless every byte was consumed.
    void expect_end() noexcept;

    int8_t read_int8() noexcept { return read_be<int8_t>(); }
    int16_t read_int16() noexcept { return read_be<int16_t>(); }
    int32_t read_int32() noexcept { return read_be<int32_t>(); }
    int64_t read_int64() noexcept { return read_be<int64_t>(); }
    uint16_t read_uint16() noexcept { return read_be<uint16_t>(); }
    uint32_t read_uint32() noexcept { return read_be<uint32_t>(); }
    bool read_bool() noexcept { return read_be<int8_t>() != 0; }
    double read_float64() noexcept;
    uuid read_uuid() noexcept;
    uint32_t read_unsigned_varint() noexcept;

    std::string read_string(bool compact);
    std::optional<std::string> read_nullable_string(bool compact);
    std::vector<std::byte> read_bytes(bool compact);
    std::optional<std::vector<std::byte>> read_nullable_bytes(bool compact);
    std::optional<iobuf> read_records(bool compact);
    // An array count: -1 for null (only when nullable), else 0..N where N * min_element_size fits
    // in the bytes left (min_element_size 0 is treated as 1).
    int32_t read_array_length(bool compact, bool nullable, size_t min_element_size) noexcept;

    // A reader over the next n bytes (a tagged field's value); this reader skips past them.
    wire_reader sub_reader(size_t n) noexcept;
    // Folds a sub-reader's failure into this reader.
    void merge(const wire_reader& sub) noexcept;
    std::vector<std::byte> read_raw(size_t n);

private:
    template<typename T>
    T read_be() noexcept;
    // Length of a string/bytes field; -1 = null; fails on other negatives and on lengths past the end.
    int64_t read_length(bool compact, bool int32_length) noexcept;

    std::span<const std::byte> _data;
    const iobuf* _backing;
    size_t _backing_offset;
    size_t _pos = 0;
    std::optional<decode_error> _error;
};

// Appends to an iobuf, writing small fields straight into its tail fragment and `records` as
// shares of the caller's buffers. flush() (or destruction) commits the bytes written.
class wire_writer {
public:
    explicit wire_writer(iobuf& out) noexcept : _out(out) {}
    ~wire_writer() { flush(); }
    wire_writer(const wire_writer&) = delete;
    wire_writer& operator=(const wire_writer&) = delete;

    void write_int8(int8_t v) { write_be(v); }
    void write_int16(int16_t v) { write_be(v); }
    void write_int32(int32_t v) { write_be(v); }
    void write_int64(int64_t v) { write_be(v); }
    void write_uint16(uint16_t v) { write_be(v); }
    void write_uint32(uint32_t v) { write_be(v); }
    void write_bool(bool v) { write_be<int8_t>(v ? 1 : 0); }
    void write_float64(double v);
    void write_uuid(const uuid& v) { write_raw(v.bytes); }
    void write_unsigned_varint(uint32_t v);

    void write_string(std::string_view s, bool compact);
    void write_nullable_string(const std::optional<std::string>& s, bool compact);
    void write_bytes(std::span<const std::byte> b, bool compact);
    void write_nullable_bytes(const std::optional<std::vector<std::byte>>& b, bool compact);
    void write_records(const std::optional<iobuf>& records, bool compact);
    // nullopt writes a null array.
    void write_array_length(std::optional<size_t> count, bool compact);
    void write_raw(std::span<const std::byte> bytes);
    // Appends a buffer (e.g. an encoded tagged field), taking its fragments.
    void write_iobuf(iobuf&& bytes);

    // Commits what was written so far to the output iobuf.
    void flush();
    // Bytes written through this writer so far.
    [[nodiscard]] size_t written() const noexcept { return _written; }

private:
    template<typename T>
    void write_be(T v);
    // The fast path is inline: most fields are a few bytes written into the current window.
    std::byte* reserve(size_t n) {
        if (_window.size() - _used < n) {
            grow(n);
        }
        std::byte* p = _window.data() + _used;
        _used += n;
        _written += n;
        return p;
    }
    void grow(size_t n);

    iobuf& _out;
    std::span<std::byte> _window; // reserved, not yet committed space in _out
    size_t _used = 0;             // bytes of _window written
    size_t _written = 0;
};

// Writes a tagged-field section: known fields (already encoded, in tag order, merged with the
// unknown ones by tag) then nothing else. `known` holds (tag, encoded value) pairs.
void write_tagged_fields(wire_writer& w, std::vector<std::pair<uint32_t, iobuf>>& known,
                         const unknown_tagged_fields& unknown);

template<typename T>
T wire_reader::read_be() noexcept {
    if (remaining() < sizeof(T)) {
        fail(decode_errc::truncated);
        return T{};
    }
    const T v = load_be<T>(_data.data() + _pos);
    _pos += sizeof(T);
    return v;
}

template<typename T>
void wire_writer::write_be(T v) {
    store_be<T>(reserve(sizeof(T)), v);
}

} // namespace ms::protocol
