#pragma once

// How `memorystreamer consume` prints a record: a kcat-style template (-f/--format '%k=%v\n') or
// one JSON object per line (--format json).
//
// Template directives: %t topic, %p partition, %o offset, %k key, %K key length, %v or %s value,
// %V or %S value length, %h headers (k=v,k2=v2), %T timestamp (ms since the epoch), %% a percent
// sign; escapes \n \r \t \\ \0. A null key or value prints as nothing, its length as -1.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/records.h"

namespace ms::cli {

class record_format {
public:
    // "json", "text" (the value and a newline, the default) or a template. An error names the
    // directive it does not know.
    [[nodiscard]] static result<record_format, std::string> parse(std::string_view spec);

    // Appends the record's text (a JSON object and a newline in JSON mode) to `out`.
    void render(const std::string& topic, const client::client_record& r, std::string& out) const;
    [[nodiscard]] bool json() const noexcept { return _json; }

private:
    struct piece {
        char directive = 0; // 0: literal
        std::string literal;
    };
    bool _json = false;
    std::vector<piece> _pieces;
};

} // namespace ms::cli
