#include "cli/produce/record_parser.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace ms::cli {

result<client::record_header_value, std::string> parse_header(std::string_view text) {
    const auto eq = text.find('=');
    const auto key = text.substr(0, eq);
    if (key.empty()) {
        return unexpected(fmt::format("-H/--header: empty header key in '{}' (use KEY=VALUE)", text));
    }
    client::record_header_value h{std::string(key), std::nullopt};
    if (eq != std::string_view::npos) {
        h.value = std::string(text.substr(eq + 1));
    }
    return h;
}

result<client::client_record, std::string> parse_line(std::string_view line,
                                                      const record_parser_settings& s) {
    client::client_record r;
    std::string_view value = line;
    if (s.key_delim) {
        const auto at = line.find(*s.key_delim);
        if (at == std::string_view::npos) {
            return unexpected(
              fmt::format("line without the key delimiter '{}': '{}'", *s.key_delim, line.substr(0, 80)));
        }
        r.key = std::string(line.substr(0, at));
        value = line.substr(at + s.key_delim->size());
    } else if (s.key) {
        r.key = *s.key;
    }
    if (!(s.tombstone && value.empty())) {
        r.value = std::string(value);
    }
    r.headers = s.headers;
    return r;
}

std::optional<std::string> line_source::take_line() {
    const auto at = _buffer.find(_delimiter, _scanned);
    if (at == std::string::npos) {
        _scanned = _buffer.size();
        return std::nullopt;
    }
    std::string line = _buffer.substr(_begin, at - _begin);
    _begin = at + 1;
    _scanned = _begin;
    if (_begin > _buffer.size() / 2) {
        _buffer.erase(0, _begin);
        _scanned -= _begin;
        _begin = 0;
    }
    return line;
}

result<void, std::string> line_source::fill() {
    if (_buffer.size() - _begin > _max) {
        return unexpected(
          fmt::format("an input record is longer than {} bytes (see --max-record-bytes)", _max));
    }
    char chunk[65536];
    for (;;) {
        const ssize_t n = ::read(_fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return unexpected(fmt::format("reading the input failed: {}", std::strerror(errno)));
        }
        if (n == 0) {
            _eof = true;
        } else {
            _buffer.append(chunk, static_cast<size_t>(n));
        }
        return {};
    }
}

} // namespace ms::cli
