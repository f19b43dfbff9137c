#pragma once

// How `memorystreamer produce` turns input lines into records: an optional key split off at the
// first --key-delim, a fixed --key otherwise, the -H headers on every record, and --tombstone
// turning empty values into null ones.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/records.h"

namespace ms::cli {

struct record_parser_settings {
    std::optional<std::string> key;       // --key: the same key on every record
    std::optional<std::string> key_delim; // --key-delim: KEY<delim>VALUE on every line
    std::vector<client::record_header_value> headers;
    bool tombstone = false; // empty value -> null value
};

// "k=v" -> header k with value v; "k" (no '=') -> header k with a null value.
[[nodiscard]] result<client::record_header_value, std::string> parse_header(std::string_view text);

// The record of one input line (without its line terminator). A line without the key delimiter
// is an error naming it, when --key-delim is set.
[[nodiscard]] result<client::client_record, std::string> parse_line(std::string_view line,
                                                                    const record_parser_settings& s);

// Reads records separated by a delimiter byte from a file descriptor, with a bounded buffer.
class line_source {
public:
    line_source(int fd, char delimiter, size_t max_line_bytes) noexcept
      : _fd(fd), _delimiter(delimiter), _max(max_line_bytes) {}
    // The next line, nullopt at end of input. Calls `before_block` before a read that may block
    // (so a producer can send what it holds while waiting for more input). An error when a line
    // is longer than the limit or the read fails.
    template<typename BeforeBlock>
    [[nodiscard]] result<std::optional<std::string>, std::string> next(BeforeBlock&& before_block) {
        for (;;) {
            if (auto line = take_line()) {
                return line;
            }
            if (_eof) {
                if (_buffer.size() > _begin) {
                    std::string last = _buffer.substr(_begin);
                    _begin = _buffer.size();
                    return std::optional<std::string>(std::move(last));
                }
                return std::optional<std::string>();
            }
            if (auto ok = before_block(); !ok) {
                return unexpected(std::move(ok.error()));
            }
            if (auto read = fill(); !read) {
                return unexpected(std::move(read.error()));
            }
        }
    }

private:
    std::optional<std::string> take_line();
    [[nodiscard]] result<void, std::string> fill();

    int _fd;
    char _delimiter;
    size_t _max;
    std::string _buffer;
    size_t _begin = 0;
    size_t _scanned = 0;
    bool _eof = false;
};

} // namespace ms::cli
