#pragma once
// http_request: a strict, bounded parser of HTTP/1.x request heads (RFC 9112), without I/O, so
// it can be tested and fuzzed alone. The admin API serves only GET and HEAD and never reads a
// request body, so a request announcing one is refused rather than read.
//
// Limits: the head (request line and headers, up to the blank line) may hold at most
// `max_head_bytes` (431 beyond), at most `max_headers` header lines (431), and a body is refused
// (413); `Transfer-Encoding` is refused (501). Obsolete line folding, a missing CRLF, a request
// target that is not an absolute path, and an HTTP version other than 1.0/1.1 are refused (400/505).
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ms::admin {

struct http_limits {
    size_t max_head_bytes = 8192;
    size_t max_headers = 64;
};

struct http_request {
    std::string method;
    std::string path;  // the target up to '?'
    std::string query; // after '?', without it
    int minor_version = 1;
    std::vector<std::pair<std::string, std::string>> headers; // names lower-cased

    // The value of the first header named `lower_name`, or nullptr.
    [[nodiscard]] const std::string* header(std::string_view lower_name) const noexcept;
};

struct http_parse_result {
    enum class state { incomplete, complete, refused };
    state outcome = state::incomplete;
    http_request request;  // when complete
    int status = 0;        // when refused: the HTTP status to answer with
    std::string reason;    // when refused: what was wrong, for the response body
    size_t head_bytes = 0; // when complete: bytes of the head, blank line included
};

// Parses the head at the start of `bytes` (everything the client sent so far).
[[nodiscard]] http_parse_result parse_http_request(std::string_view bytes, const http_limits& limits);

} // namespace ms::admin
