#include "admin/http_request.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace ms::admin {

namespace {

// RFC 9110 tchar: the characters of a method or header name.
bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) {
        return true;
    }
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return extra.find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// Visible characters and spaces/tabs are allowed in a header value; other controls are not.
bool is_field_value(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u == '\t' || u >= 0x20U) && u != 0x7fU;
    });
}

bool is_target(std::string_view s) {
    return !s.empty() && s.front() == '/' && std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20U && u < 0x7fU;
    });
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

http_parse_result refuse(int status, std::string reason) {
    http_parse_result r;
    r.outcome = http_parse_result::state::refused;
    r.status = status;
    r.reason = std::move(reason);
    return r;
}

} // namespace

const std::string* http_request::header(std::string_view lower_name) const noexcept {
    for (const auto& [name, value] : headers) {
        if (name == lower_name) {
            return &value;
        }
    }
    return nullptr;
}

http_parse_result parse_http_request(std::string_view bytes, const http_limits& limits) {
    const size_t end = bytes.find("\r\n\r\n");
    if (end == std::string_view::npos || end + 4 > limits.max_head_bytes) {
        if (bytes.size() >= limits.max_head_bytes || (end != std::string_view::npos)) {
            return refuse(431, fmt::format("request head longer than {} bytes", limits.max_head_bytes));
        }
        return {};
    }
    http_parse_result r;
    r.head_bytes = end + 4;
    std::string_view head = bytes.substr(0, end + 2); // every line ends in CRLF
    auto next_line = [&head]() {
        const size_t eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol + 2);
        return line;
    };

    const std::string_view request_line = next_line();
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || request_line.find(' ', sp2 + 1) != std::string_view::npos) {
        return refuse(400, "malformed request line");
    }
    const std::string_view method = request_line.substr(0, sp1);
    const std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = request_line.substr(sp2 + 1);
    if (!is_token(method)) {
        return refuse(400, "malformed method");
    }
    if (!is_target(target)) {
        return refuse(400, "the request target must be an absolute path");
    }
    if (version == "HTTP/1.1") {
        r.request.minor_version = 1;
    } else if (version == "HTTP/1.0") {
        r.request.minor_version = 0;
    } else if (version.starts_with("HTTP/")) {
        return refuse(505, "only HTTP/1.0 and HTTP/1.1 are served");
    } else {
        return refuse(400, "malformed HTTP version");
    }
    r.request.method = method;
    const size_t question = target.find('?');
    r.request.path = target.substr(0, question);
    if (question != std::string_view::npos) {
        r.request.query = target.substr(question + 1);
    }

    while (!head.empty()) {
        const std::string_view line = next_line();
        if (line.front() == ' ' || line.front() == '\t') {
            return refuse(400, "obsolete header line folding");
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
            return refuse(400, "malformed header line");
        }
        const std::string_view value = trim_ows(line.substr(colon + 1));
        if (!is_field_value(value)) {
            return refuse(400, "control character in a header value");
        }
        if (r.request.headers.size() == limits.max_headers) {
            return refuse(431, fmt::format("more than {} header lines", limits.max_headers));
        }
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
        r.request.headers.emplace_back(std::move(name), std::string(value));
    }
    if (r.request.header("transfer-encoding") != nullptr) {
        return refuse(501, "Transfer-Encoding is not supported: the admin API takes no request body");
    }
    if (const std::string* length = r.request.header("content-length"); length != nullptr && *length != "0") {
        return refuse(413, "the admin API takes no request body");
    }
    r.outcome = http_parse_result::state::complete;
    return r;
}

} // namespace ms::admin
