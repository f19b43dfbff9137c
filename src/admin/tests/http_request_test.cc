#include <string>

#include <gtest/gtest.h>

#include "admin/http_request.h"
#include "admin/http_server.h"

namespace ms::admin {
namespace {

using state = http_parse_result::state;

TEST(http_request, parses_a_get_with_headers_and_query) {
    const std::string raw = "GET /metrics?name[]=x HTTP/1.1\r\nHost: localhost:9644\r\n"
                            "User-Agent:  Prometheus/2.42 \r\nAccept: text/plain\r\n\r\n";
    const auto r = parse_http_request(raw, {});
    ASSERT_EQ(r.outcome, state::complete) << r.reason;
    EXPECT_EQ(r.request.method, "GET");
    EXPECT_EQ(r.request.path, "/metrics");
    EXPECT_EQ(r.request.query, "name[]=x");
    EXPECT_EQ(r.request.minor_version, 1);
    EXPECT_EQ(r.head_bytes, raw.size());
    ASSERT_NE(r.request.header("user-agent"), nullptr);
    EXPECT_EQ(*r.request.header("user-agent"), "Prometheus/2.42");
    EXPECT_EQ(r.request.header("missing"), nullptr);
}

TEST(http_request, incomplete_until_the_blank_line) {
    const std::string raw = "GET /v1/health HTTP/1.0\r\nHost: x\r\n\r\n";
    for (size_t n = 0; n < raw.size(); ++n) {
        EXPECT_EQ(parse_http_request(std::string_view(raw).substr(0, n), {}).outcome, state::incomplete) << n;
    }
    EXPECT_EQ(parse_http_request(raw, {}).outcome, state::complete);
}

TEST(http_request, head_larger_than_the_limit_is_431_even_before_it_ends) {
    http_limits limits;
    limits.max_head_bytes = 64;
    const std::string big = "GET / HTTP/1.1\r\nX-Filler: " + std::string(100, 'a');
    const auto r = parse_http_request(big, limits);
    EXPECT_EQ(r.outcome, state::refused);
    EXPECT_EQ(r.status, 431);
    // A complete head just over the limit is refused too; one at the limit is accepted.
    std::string exact = "GET / HTTP/1.1\r\nX: ";
    exact += std::string(64 - exact.size() - 4, 'b') + "\r\n\r\n";
    ASSERT_EQ(exact.size(), 64U);
    EXPECT_EQ(parse_http_request(exact, limits).outcome, state::complete);
    std::string over = "GET / HTTP/1.1\r\nX: ";
    over += std::string(65 - over.size() - 4, 'b') + "\r\n\r\n";
    EXPECT_EQ(parse_http_request(over, limits).status, 431);
}

TEST(http_request, too_many_header_lines_is_431) {
    http_limits limits;
    limits.max_headers = 3;
    std::string raw = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 4; ++i) {
        raw += "X-" + std::to_string(i) + ": v\r\n";
    }
    raw += "\r\n";
    const auto r = parse_http_request(raw, limits);
    EXPECT_EQ(r.outcome, state::refused);
    EXPECT_EQ(r.status, 431);
}

TEST(http_request, refuses_malformed_heads) {
    struct sample {
        const char* raw;
        int status;
    };
    const sample samples[] = {
      {"GET\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1 extra\r\n\r\n", 400},
      {"G(T / HTTP/1.1\r\n\r\n", 400},
      {"GET http://x/ HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / FTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nBad Name: v\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413},
      {"POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
    };
    for (const sample& s : samples) {
        const auto r = parse_http_request(s.raw, {});
        EXPECT_EQ(r.outcome, state::refused) << s.raw;
        EXPECT_EQ(r.status, s.status) << s.raw;
        EXPECT_FALSE(r.reason.empty()) << s.raw;
    }
}

TEST(http_request, content_length_zero_is_fine) {
    const auto r = parse_http_request("DELETE /v1/topics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", {});
    EXPECT_EQ(r.outcome, state::complete);
    EXPECT_EQ(r.request.method, "DELETE");
}

TEST(http_response, serializes_status_length_and_close) {
    http_response r{405, "text/plain", "no\n", {{"Allow", "GET, HEAD"}}};
    EXPECT_EQ(serialize(r, false), "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 3\r\nConnection: close\r\nCache-Control: no-store\r\n"
                                   "Allow: GET, HEAD\r\n\r\nno\n");
    // HEAD: the same headers (Content-Length of the body it would get), no body.
    const std::string head = serialize(r, true);
    EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos);
    EXPECT_TRUE(head.ends_with("\r\n\r\n"));
}

} // namespace
} // namespace ms::admin
