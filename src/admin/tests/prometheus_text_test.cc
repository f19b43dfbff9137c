#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "admin/prometheus_text.h"

namespace ms::admin {
namespace {

using namespace std::chrono_literals;

TEST(prometheus_text, escapes_backslash_quote_and_newline_in_label_values) {
    EXPECT_EQ(escape_label_value(R"(a\b"c)"
                                 "\n"
                                 "d"),
              R"(a\\b\"c\nd)");
    EXPECT_EQ(escape_label_value("plain-topic.name_1"), "plain-topic.name_1");
}

TEST(prometheus_text, a_hostile_label_value_stays_on_one_line) {
    prometheus_text out;
    out.family("memorystreamer_x_total", metric_type::counter, "help with \\ and\nnewline");
    out.sample("memorystreamer_x_total", {{"topic", "evil\"} 1\nmemorystreamer_y 2"}}, uint64_t{7});
    EXPECT_EQ(out.text(), "# HELP memorystreamer_x_total help with \\\\ and\\nnewline\n"
                          "# TYPE memorystreamer_x_total counter\n"
                          "memorystreamer_x_total{topic=\"evil\\\"} 1\\nmemorystreamer_y 2\"} 7\n");
}

TEST(prometheus_text, samples_without_labels_and_with_several) {
    prometheus_text out;
    out.sample("m", {}, uint64_t{3});
    out.sample("m", {{"a", "1"}, {"b", "2"}}, 0.25);
    EXPECT_EQ(out.text(), "m 3\nm{a=\"1\",b=\"2\"} 0.25\n");
}

TEST(prometheus_text, histogram_buckets_are_cumulative_and_end_at_inf) {
    latency_histogram h;
    h.record(10us); // le 0.00005
    h.record(40us); // le 0.00005
    h.record(3ms);  // le 0.005
    h.record(60s);  // above every bound: only +Inf
    prometheus_text out;
    out.histogram("d_seconds", {{"api", "Produce"}}, h);
    const std::string& t = out.text();
    EXPECT_NE(t.find("d_seconds_bucket{api=\"Produce\",le=\"0.00005\"} 2\n"), std::string::npos) << t;
    EXPECT_NE(t.find("d_seconds_bucket{api=\"Produce\",le=\"0.0025\"} 2\n"), std::string::npos) << t;
    EXPECT_NE(t.find("d_seconds_bucket{api=\"Produce\",le=\"0.005\"} 3\n"), std::string::npos) << t;
    EXPECT_NE(t.find("d_seconds_bucket{api=\"Produce\",le=\"10\"} 3\n"), std::string::npos) << t;
    EXPECT_NE(t.find("d_seconds_bucket{api=\"Produce\",le=\"+Inf\"} 4\n"), std::string::npos) << t;
    EXPECT_NE(t.find("d_seconds_count{api=\"Produce\"} 4\n"), std::string::npos) << t;
    EXPECT_NE(t.find("d_seconds_sum{api=\"Produce\"} 60.00305\n"), std::string::npos) << t;
    // One _bucket line per bound plus +Inf, in increasing order of le.
    size_t buckets = 0;
    for (size_t at = t.find("_bucket"); at != std::string::npos; at = t.find("_bucket", at + 1)) {
        ++buckets;
    }
    EXPECT_EQ(buckets, latency_bucket_bounds_ns.size() + 1);
    EXPECT_LT(t.find("le=\"0.00005\""), t.find("le=\"0.0001\""));
    EXPECT_LT(t.find("le=\"10\""), t.find("le=\"+Inf\""));
}

TEST(prometheus_text, empty_histogram_has_zero_count_and_sum) {
    prometheus_text out;
    out.histogram("e_seconds", {}, latency_histogram{});
    EXPECT_NE(out.text().find("e_seconds_bucket{le=\"+Inf\"} 0\n"), std::string::npos);
    EXPECT_NE(out.text().find("e_seconds_sum 0\n"), std::string::npos);
    EXPECT_NE(out.text().find("e_seconds_count 0\n"), std::string::npos);
}

} // namespace
} // namespace ms::admin
