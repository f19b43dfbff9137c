#include "cli/common/output.h"

#include <algorithm>

#include <fmt/format.h>

namespace ms::cli {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when there is none.
size_t utf8_length(std::string_view s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
        return 1;
    }
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1fU;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0fU;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07U;
    } else {
        return 0;
    }
    if (i + n > s.size()) {
        return 0;
    }
    for (size_t k = 1; k < n; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (cc & 0x3fU);
    }
    const bool overlong = (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

} // namespace

std::string json_string(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c == '\n') {
            out += "\\n";
            ++i;
        } else if (c == '\t') {
            out += "\\t";
            ++i;
        } else if (c == '\r') {
            out += "\\r";
            ++i;
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
            ++i;
        } else if (const size_t n = c < 0x80 ? 0 : utf8_length(s, i); n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += fmt::format("\\u{:04x}", c); // a control character, DEL, or a byte outside UTF-8
            ++i;
        }
    }
    out += '"';
    return out;
}

void json_writer::separate() {
    if (_after_key) {
        _after_key = false;
        return;
    }
    if (!_first.back()) {
        _out += ',';
    }
    _first.back() = false;
}

json_writer& json_writer::begin_object() {
    separate();
    _out += '{';
    _first.push_back(true);
    return *this;
}

json_writer& json_writer::end_object() {
    _out += '}';
    _first.pop_back();
    return *this;
}

json_writer& json_writer::begin_array() {
    separate();
    _out += '[';
    _first.push_back(true);
    return *this;
}

json_writer& json_writer::end_array() {
    _out += ']';
    _first.pop_back();
    return *this;
}

json_writer& json_writer::key(std::string_view k) {
    separate();
    _out += json_string(k);
    _out += ':';
    _after_key = true;
    return *this;
}

json_writer& json_writer::value(std::string_view v) {
    separate();
    _out += json_string(v);
    return *this;
}

json_writer& json_writer::value(const std::optional<std::string>& v) {
    return v ? value(std::string_view(*v)) : null();
}

json_writer& json_writer::value(int64_t v) {
    separate();
    _out += std::to_string(v);
    return *this;
}

json_writer& json_writer::value(bool v) {
    separate();
    _out += v ? "true" : "false";
    return *this;
}

json_writer& json_writer::null() {
    separate();
    _out += "null";
    return *this;
}

void json_writer::print() const {
    (void)std::fwrite(_out.data(), 1, _out.size(), stdout);
    (void)std::fputc('\n', stdout);
}

void text_table::print(std::FILE* out) const {
    std::vector<size_t> widths(_header.size());
    for (size_t i = 0; i < _header.size(); ++i) {
        widths[i] = _header[i].size();
    }
    for (const auto& row : _rows) {
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    const auto line = [&](const std::vector<std::string>& cells) {
        std::string s;
        for (size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
            s += cells[i];
            if (i + 1 < cells.size()) {
                s.append(widths[i] - cells[i].size() + 2, ' ');
            }
        }
        s += '\n';
        (void)std::fwrite(s.data(), 1, s.size(), out);
    };
    line(_header);
    for (const auto& row : _rows) {
        line(row);
    }
}

std::string join_ints(const std::vector<int32_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
        s += (i == 0 ? "" : ",") + std::to_string(v[i]);
    }
    return s;
}

} // namespace ms::cli
