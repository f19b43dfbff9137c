// The pure parts of the client commands: record templates, JSON strings, input line parsing.
#include <gtest/gtest.h>

#include "cli/common/output.h"
#include "cli/consume/consume_command.h"
#include "cli/consume/record_format.h"
#include "cli/produce/record_parser.h"

namespace ms::cli {
namespace {

client::client_record sample() {
    client::client_record r;
    r.partition = 3;
    r.offset = 42;
    r.timestamp_ms = 1700000000123;
    r.key = "k1";
    r.value = "hello";
    r.headers = {{"a", "1"}, {"b", std::nullopt}};
    return r;
}

TEST(record_format, template_directives_and_escapes) {
    auto f = record_format::parse("%t/%p/%o %k=%v (%K,%V,%S) [%h] @%T 100%%\\n");
    ASSERT_TRUE(f) << f.error();
    std::string out;
    f->render("orders", sample(), out);
    EXPECT_EQ(out, "orders/3/42 k1=hello (2,5,5) [a=1,b] @1700000000123 100%\n");
}

TEST(record_format, null_key_prints_nothing_and_length_minus_one) {
    auto f = record_format::parse("[%k|%K|%s]");
    ASSERT_TRUE(f);
    auto r = sample();
    r.key.reset();
    std::string out;
    f->render("t", r, out);
    EXPECT_EQ(out, "[|-1|hello]");
}

TEST(record_format, text_is_the_value_per_line_and_unknown_directives_are_refused) {
    auto f = record_format::parse("text");
    ASSERT_TRUE(f);
    std::string out;
    f->render("t", sample(), out);
    EXPECT_EQ(out, "hello\n");
    EXPECT_FALSE(record_format::parse("%q"));
    EXPECT_FALSE(record_format::parse("abc%"));
}

TEST(record_format, json_is_one_object_per_line) {
    auto f = record_format::parse("json");
    ASSERT_TRUE(f);
    std::string out;
    f->render("t", sample(), out);
    EXPECT_EQ(
      out, R"({"topic":"t","partition":3,"offset":42,"timestamp":1700000000123,"key":"k1","value":"hello",)"
           R"("headers":[{"key":"a","value":"1"},{"key":"b","value":null}]})"
           "\n");
}

TEST(json_string, escapes_controls_and_keeps_utf8_and_escapes_invalid_bytes) {
    EXPECT_EQ(json_string("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
    EXPECT_EQ(json_string("h\xc3\xa9"), "\"h\xc3\xa9\"");
    EXPECT_EQ(json_string(std::string_view("\xff\xc3", 2)), R"("\u00ff\u00c3")");
    EXPECT_EQ(json_string("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")"); // a UTF-16 surrogate is not UTF-8
}

TEST(record_parser, key_delimiter_fixed_key_headers_and_tombstones) {
    record_parser_settings s;
    s.key_delim = ":";
    auto h = parse_header("source=cli");
    ASSERT_TRUE(h);
    s.headers.push_back(*h);
    auto r = parse_line("k1:v:1", s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->key, "k1");
    EXPECT_EQ(r->value, "v:1");
    ASSERT_EQ(r->headers.size(), 1U);
    EXPECT_EQ(r->headers[0].value, "cli");
    EXPECT_FALSE(parse_line("no delimiter", s));

    record_parser_settings t;
    t.key = "fixed";
    t.tombstone = true;
    auto tomb = parse_line("", t);
    ASSERT_TRUE(tomb);
    EXPECT_EQ(tomb->key, "fixed");
    EXPECT_FALSE(tomb->value.has_value());

    auto null_header = parse_header("flag");
    ASSERT_TRUE(null_header);
    EXPECT_FALSE(null_header->value.has_value());
    EXPECT_FALSE(parse_header("=v"));
}

TEST(start_offset, parses_every_form_and_refuses_the_rest) {
    EXPECT_EQ(parse_start_offset("start")->what, start_offset::kind::start);
    EXPECT_EQ(parse_start_offset("end")->what, start_offset::kind::end);
    auto exact = parse_start_offset("17");
    ASSERT_TRUE(exact);
    EXPECT_EQ(exact->what, start_offset::kind::exact);
    EXPECT_EQ(exact->value, 17);
    auto at = parse_start_offset("@1700000000000");
    ASSERT_TRUE(at);
    EXPECT_EQ(at->what, start_offset::kind::timestamp);
    EXPECT_EQ(at->value, 1700000000000);
    EXPECT_FALSE(parse_start_offset("-3"));
    EXPECT_FALSE(parse_start_offset("@"));
    EXPECT_FALSE(parse_start_offset("12x"));
}

} // namespace
} // namespace ms::cli
