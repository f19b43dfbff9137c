#pragma once
// Minimal JSON output for the admin API's /v1 pages: strings escaped per RFC 8259 section 7
// (quotes, backslashes, control characters; other bytes pass through, names are UTF-8).
#include <string>
#include <string_view>

namespace ms::admin {

// `s` as a JSON string literal, quotes included.
[[nodiscard]] std::string json_string(std::string_view s);

} // namespace ms::admin
