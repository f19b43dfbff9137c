#pragma once

// Output helpers for the client commands: a JSON writer (one document, or one object per line
// for consume) and aligned text tables.
//
// JSON strings: keys, values and headers are bytes; valid UTF-8 is written as is (escaped as
// JSON requires), any byte that is not part of valid UTF-8 is written as \u00XX (its Latin-1
// reading), so the output always parses.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ms::cli {

// `s` as a quoted JSON string.
[[nodiscard]] std::string json_string(std::string_view s);

class json_writer {
public:
    json_writer& begin_object();
    json_writer& end_object();
    json_writer& begin_array();
    json_writer& end_array();
    json_writer& key(std::string_view k);
    json_writer& value(std::string_view v);
    json_writer& value(const char* v) { return value(std::string_view(v)); }
    json_writer& value(const std::string& v) { return value(std::string_view(v)); }
    json_writer& value(const std::optional<std::string>& v);
    json_writer& value(int64_t v);
    json_writer& value(int32_t v) { return value(static_cast<int64_t>(v)); }
    json_writer& value(bool v);
    json_writer& null();
    template<typename T>
    json_writer& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }
    [[nodiscard]] const std::string& str() const noexcept { return _out; }
    // Writes the document and a newline to stdout.
    void print() const;

private:
    void separate();
    std::string _out;
    std::vector<bool> _first{true};
    bool _after_key = false;
};

class text_table {
public:
    explicit text_table(std::vector<std::string> header) : _header(std::move(header)) {}
    void add(std::vector<std::string> row) { _rows.push_back(std::move(row)); }
    [[nodiscard]] bool empty() const noexcept { return _rows.empty(); }
    void print(std::FILE* out = stdout) const;

private:
    std::vector<std::string> _header;
    std::vector<std::vector<std::string>> _rows;
};

// "1,2,3"
[[nodiscard]] std::string join_ints(const std::vector<int32_t>& v);

} // namespace ms::cli
