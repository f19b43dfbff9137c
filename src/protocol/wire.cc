#include "protocol/wire.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "base/endian.h"

namespace ms::protocol {

std::string describe(const decode_error& e) {
    std::string_view what;
    switch (e.code) {
    case decode_errc::truncated: what = "the input ends inside a field"; break;
    case decode_errc::invalid_length: what = "invalid length (negative, or null where not allowed)"; break;
    case decode_errc::too_many_elements: what = "array count larger than the bytes left could hold"; break;
    case decode_errc::invalid_varint: what = "unsigned varint longer than 5 bytes"; break;
    case decode_errc::unsupported_version: what = "unsupported version"; break;
    case decode_errc::unknown_api: what = "unknown API key"; break;
    }
    return fmt::format("{} at byte {}", what, e.position);
}

// ---------------------------------------------------------------------------------------------
// wire_reader

void wire_reader::fail(decode_errc code) noexcept {
    if (!_error) {
        _error = decode_error{code, _pos};
    }
    _pos = _data.size(); // every later read sees no bytes
}

void wire_reader::expect_end() noexcept {
    if (ok() && _pos != _data.size()) {
        _error = decode_error{decode_errc::invalid_length, _pos};
    }
}

double wire_reader::read_float64() noexcept {
    return std::bit_cast<double>(read_be<uint64_t>());
}

uuid wire_reader::read_uuid() noexcept {
    uuid u;
    if (remaining() < u.bytes.size()) {
        fail(decode_errc::truncated);
        return u;
    }
    std::memcpy(u.bytes.data(), _data.data() + _pos, u.bytes.size());
    _pos += u.bytes.size();
    return u;
}

uint32_t wire_reader::read_unsigned_varint() noexcept {
    // A failure is reported at the varint's first byte, like every other read's.
    const size_t start = _pos;
    uint32_t value = 0;
    for (int i = 0; i < 5; ++i) {
        if (remaining() == 0) {
            _pos = start;
            fail(decode_errc::truncated);
            return 0;
        }
        const auto b = static_cast<uint8_t>(_data[_pos++]);
        if (i == 4 && (b & 0xf0U) != 0) { // bits beyond 32
            _pos = start;
            fail(decode_errc::invalid_varint);
            return 0;
        }
        value |= static_cast<uint32_t>(b & 0x7fU) << (7 * i);
        if ((b & 0x80U) == 0) {
            return value;
        }
    }
    _pos = start; // not reached: the fifth byte either ends the varint or fails above
    fail(decode_errc::invalid_varint);
    return 0;
}

int64_t wire_reader::read_length(bool compact, bool int32_length) noexcept {
    const size_t start = _pos;
    int64_t len = 0;
    if (compact) {
        len = static_cast<int64_t>(read_unsigned_varint()) - 1;
    } else if (int32_length) {
        len = read_int32();
    } else {
        len = read_int16();
    }
    if (!ok()) {
        return 0;
    }
    if (len < -1) {
        _pos = start;
        fail(decode_errc::invalid_length);
        return 0;
    }
    if (len > static_cast<int64_t>(remaining())) {
        _pos = start;
        fail(decode_errc::truncated);
        return 0;
    }
    return len;
}

std::optional<std::string> wire_reader::read_nullable_string(bool compact) {
    const int64_t len = read_length(compact, false);
    if (len < 0) {
        return std::nullopt;
    }
    std::string s(reinterpret_cast<const char*>(_data.data() + _pos), static_cast<size_t>(len));
    _pos += static_cast<size_t>(len);
    return s;
}

std::string wire_reader::read_string(bool compact) {
    const size_t start = _pos;
    auto s = read_nullable_string(compact);
    if (!s) {
        if (ok()) {
            _pos = start;
            fail(decode_errc::invalid_length);
        }
        return {};
    }
    return std::move(*s);
}

std::optional<std::vector<std::byte>> wire_reader::read_nullable_bytes(bool compact) {
    const int64_t len = read_length(compact, true);
    if (len < 0) {
        return std::nullopt;
    }
    return read_raw(static_cast<size_t>(len));
}

std::vector<std::byte> wire_reader::read_bytes(bool compact) {
    const size_t start = _pos;
    auto b = read_nullable_bytes(compact);
    if (!b) {
        if (ok()) {
            _pos = start;
            fail(decode_errc::invalid_length);
        }
        return {};
    }
    return std::move(*b);
}

std::vector<std::byte> wire_reader::read_raw(size_t n) {
    if (n > remaining()) {
        fail(decode_errc::truncated);
        return {};
    }
    std::vector<std::byte> out(_data.begin() + static_cast<std::ptrdiff_t>(_pos),
                               _data.begin() + static_cast<std::ptrdiff_t>(_pos + n));
    _pos += n;
    return out;
}

std::optional<iobuf> wire_reader::read_records(bool compact) {
    const int64_t len = read_length(compact, true);
    if (len < 0 || !ok()) {
        return std::nullopt;
    }
    const auto n = static_cast<size_t>(len);
    iobuf out = _backing != nullptr ? _backing->share(_backing_offset + _pos, n)
                                    : iobuf::copy_of(_data.subspan(_pos, n));
    _pos += n;
    return out;
}

int32_t wire_reader::read_array_length(bool compact, bool nullable, size_t min_element_size) noexcept {
    const size_t start = _pos;
    int64_t count = compact ? static_cast<int64_t>(read_unsigned_varint()) - 1 : read_int32();
    if (!ok()) {
        return 0;
    }
    if (count == -1 && nullable) {
        return -1;
    }
    if (count < 0) {
        _pos = start;
        fail(decode_errc::invalid_length);
        return 0;
    }
    if (static_cast<uint64_t>(count) > remaining() / std::max<size_t>(min_element_size, 1)) {
        _pos = start;
        fail(decode_errc::too_many_elements);
        return 0;
    }
    return static_cast<int32_t>(count);
}

wire_reader wire_reader::sub_reader(size_t n) noexcept {
    if (n > remaining()) {
        fail(decode_errc::truncated);
        return wire_reader({}, nullptr, 0);
    }
    wire_reader sub(_data.subspan(_pos, n), _backing, _backing_offset + _pos);
    _pos += n;
    return sub;
}

void wire_reader::merge(const wire_reader& sub) noexcept {
    if (sub._error && !_error) {
        _error = sub._error;
        _pos = _data.size();
    }
}

// ---------------------------------------------------------------------------------------------
// wire_writer

void wire_writer::grow(size_t n) {
    flush();
    _window = _out.reserve(std::max<size_t>(n, 512));
    _used = 0;
}

void wire_writer::flush() {
    if (!_window.empty()) {
        _out.commit(_used);
    }
    _window = {};
    _used = 0;
}

void wire_writer::write_float64(double v) {
    write_be(std::bit_cast<uint64_t>(v));
}

void wire_writer::write_unsigned_varint(uint32_t v) {
    std::array<std::byte, 5> tmp{};
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = static_cast<std::byte>((v & 0x7fU) | 0x80U);
        v >>= 7;
    }
    tmp[n++] = static_cast<std::byte>(v);
    std::memcpy(reserve(n), tmp.data(), n);
}

void wire_writer::write_raw(std::span<const std::byte> bytes) {
    if (bytes.size() > 4096) { // large: straight into the iobuf, no window juggling
        flush();
        _out.append(bytes);
        _written += bytes.size();
        return;
    }
    if (!bytes.empty()) {
        std::memcpy(reserve(bytes.size()), bytes.data(), bytes.size());
    }
}

void wire_writer::write_string(std::string_view s, bool compact) {
    if (compact) {
        write_unsigned_varint(static_cast<uint32_t>(s.size() + 1));
    } else {
        write_int16(static_cast<int16_t>(s.size()));
    }
    write_raw(as_bytes(s));
}

void wire_writer::write_nullable_string(const std::optional<std::string>& s, bool compact) {
    if (!s) {
        if (compact) {
            write_unsigned_varint(0);
        } else {
            write_int16(-1);
        }
        return;
    }
    write_string(*s, compact);
}

void wire_writer::write_bytes(std::span<const std::byte> b, bool compact) {
    if (compact) {
        write_unsigned_varint(static_cast<uint32_t>(b.size() + 1));
    } else {
        write_int32(static_cast<int32_t>(b.size()));
    }
    write_raw(b);
}

void wire_writer::write_nullable_bytes(const std::optional<std::vector<std::byte>>& b, bool compact) {
    if (!b) {
        if (compact) {
            write_unsigned_varint(0);
        } else {
            write_int32(-1);
        }
        return;
    }
    write_bytes(*b, compact);
}

void wire_writer::write_records(const std::optional<iobuf>& records, bool compact) {
    if (!records) {
        if (compact) {
            write_unsigned_varint(0);
        } else {
            write_int32(-1);
        }
        return;
    }
    if (compact) {
        write_unsigned_varint(static_cast<uint32_t>(records->size() + 1));
    } else {
        write_int32(static_cast<int32_t>(records->size()));
    }
    flush();
    _out.append_share(*records); // zero-copy: the batch bytes are shared, not copied
    _written += records->size();
}

void wire_writer::write_array_length(std::optional<size_t> count, bool compact) {
    if (compact) {
        write_unsigned_varint(count ? static_cast<uint32_t>(*count + 1) : 0U);
    } else {
        write_int32(count ? static_cast<int32_t>(*count) : -1);
    }
}

void wire_writer::write_iobuf(iobuf&& bytes) {
    flush();
    _written += bytes.size();
    _out.append(std::move(bytes));
}

void write_tagged_fields(wire_writer& w, std::vector<std::pair<uint32_t, iobuf>>& known,
                         const unknown_tagged_fields& unknown) {
    w.write_unsigned_varint(static_cast<uint32_t>(known.size() + unknown.size()));
    // Tags go out in increasing order, known and unknown interleaved.
    size_t k = 0;
    size_t u = 0;
    while (k < known.size() || u < unknown.size()) {
        if (u == unknown.size() || (k < known.size() && known[k].first <= unknown[u].tag)) {
            w.write_unsigned_varint(known[k].first);
            w.write_unsigned_varint(static_cast<uint32_t>(known[k].second.size()));
            w.write_iobuf(std::move(known[k].second));
            ++k;
        } else {
            w.write_unsigned_varint(unknown[u].tag);
            w.write_unsigned_varint(static_cast<uint32_t>(unknown[u].data.size()));
            w.write_raw(unknown[u].data);
            ++u;
        }
    }
}

} // namespace ms::protocol
