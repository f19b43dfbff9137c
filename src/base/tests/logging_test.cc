#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "base/logging.h"

namespace ms {
namespace {

// Whether `s` starts with an ISO-8601 UTC timestamp with microseconds. (Not std::regex: GCC 12
// reports false maybe-uninitialized warnings inside it under the asan preset.)
bool starts_with_utc_timestamp(std::string_view s) {
    constexpr std::string_view shape = "0000-00-00T00:00:00.000000Z";
    if (s.size() < shape.size()) {
        return false;
    }
    for (size_t i = 0; i < shape.size(); ++i) {
        const bool ok =
          shape[i] == '0' ? std::isdigit(static_cast<unsigned char>(s[i])) != 0 : s[i] == shape[i];
        if (!ok) {
            return false;
        }
    }
    return true;
}

constexpr size_t timestamp_size = 27;

std::optional<spdlog::level::level_enum> level_of(std::string_view name) {
    auto r = logging::parse_level(name);
    if (!r.has_value()) {
        return std::nullopt;
    }
    return *r;
}

TEST(logging_levels, every_documented_name_parses) {
    using spdlog::level::level_enum;
    EXPECT_EQ(level_of("trace"), level_enum::trace);
    EXPECT_EQ(level_of("debug"), level_enum::debug);
    EXPECT_EQ(level_of("info"), level_enum::info);
    EXPECT_EQ(level_of("warn"), level_enum::warn);
    EXPECT_EQ(level_of("warning"), level_enum::warn);
    EXPECT_EQ(level_of("error"), level_enum::err);
    EXPECT_EQ(level_of("critical"), level_enum::critical);
    EXPECT_EQ(level_of("off"), level_enum::off);
    EXPECT_EQ(level_of("DEBUG"), level_enum::debug);
}

TEST(logging_levels, unknown_name_error_lists_valid_names) {
    for (const auto* name : {"verbose", "", "err", "inf", "info "}) {
        const auto r = logging::parse_level(name);
        ASSERT_FALSE(r.has_value()) << name;
        EXPECT_NE(r.error().find("'" + std::string(name) + "'"), std::string::npos) << r.error();
        EXPECT_NE(r.error().find("trace, debug, info, warn, error, critical, off"), std::string::npos)
          << r.error();
    }
}

class logging_test : public testing::Test {
protected:
    void TearDown() override {
        // Back to the defaults, so that no later test writes into a dead stream.
        ASSERT_TRUE(logging::setup("info", logging::format::text).has_value());
    }

    std::ostringstream _out;
    std::shared_ptr<spdlog::sinks::sink> _sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(_out);
};

TEST_F(logging_test, text_format) {
    ASSERT_TRUE(logging::setup("info", logging::format::text, _sink).has_value());
    logging::get("text_test")->info("segment {} rolled", 42);
    const std::string out = _out.str();
    EXPECT_TRUE(starts_with_utc_timestamp(out)) << out;
    EXPECT_EQ(out.substr(timestamp_size), " info [text_test] segment 42 rolled\n");
}

TEST_F(logging_test, json_format_escapes_message) {
    ASSERT_TRUE(logging::setup("info", logging::format::json, _sink).has_value());
    const std::string message = "say \"hi\"\nC:\\dir\ttab\x01\x1f end \xc3\xa9";
    logging::get("json_test")->warn("{}", message);

    const std::string out = _out.str();
    const std::string expected_tail = R"(","level":"warning","logger":"json_test",)"
                                      R"("msg":"say \"hi\"\nC:\\dir\ttab\u0001\u001f end )"
                                      "\xc3\xa9\"}\n";
    const std::string_view head = R"({"ts":")";
    ASSERT_EQ(out.substr(0, head.size()), head) << out;
    EXPECT_TRUE(starts_with_utc_timestamp(out.substr(head.size()))) << out;
    // Exactly one line: the raw newline in the message must have become \n.
    EXPECT_EQ(out.substr(head.size() + timestamp_size), expected_tail);
}

TEST_F(logging_test, json_format_escapes_logger_name) {
    ASSERT_TRUE(logging::setup("info", logging::format::json, _sink).has_value());
    logging::get("odd\"name\\")->info("x");
    EXPECT_NE(_out.str().find(R"("logger":"odd\"name\\","msg":"x"})"), std::string::npos) << _out.str();
}

TEST_F(logging_test, timestamps_are_utc) {
    // A local zone 5:30 ahead of UTC, without needing tzdata: a local-time stamp would differ.
    const char* old_tz = std::getenv("TZ");
    const std::string saved = old_tz != nullptr ? old_tz : "";
    ::setenv("TZ", "IST-5:30", 1);
    ::tzset();

    ASSERT_TRUE(logging::setup("info", logging::format::text, _sink).has_value());
    const auto before = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    logging::get("utc_test")->info("now");
    const auto after = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());

    if (old_tz != nullptr) {
        ::setenv("TZ", saved.c_str(), 1);
    } else {
        ::unsetenv("TZ");
    }
    ::tzset();

    auto minute_utc = [](std::time_t t) {
        std::tm tm{};
        ::gmtime_r(&t, &tm);
        char buf[32];
        (void)std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M", &tm);
        return std::string(buf);
    };
    const std::string stamp = _out.str().substr(0, 16);
    EXPECT_TRUE(stamp == minute_utc(before) || stamp == minute_utc(after)) << _out.str();
}

TEST_F(logging_test, level_filters_messages) {
    ASSERT_TRUE(logging::setup("warn", logging::format::text, _sink).has_value());
    const auto log = logging::get("level_test");
    log->info("hidden");
    log->warn("shown");
    EXPECT_EQ(_out.str().find("hidden"), std::string::npos) << _out.str();
    EXPECT_NE(_out.str().find("shown"), std::string::npos) << _out.str();
}

TEST_F(logging_test, loggers_obtained_earlier_follow_setup) {
    const auto log = logging::get("early_test");
    ASSERT_TRUE(logging::setup("debug", logging::format::json, _sink).has_value());
    log->debug("after setup");
    EXPECT_NE(_out.str().find(R"("level":"debug","logger":"early_test","msg":"after setup")"),
              std::string::npos)
      << _out.str();
}

TEST_F(logging_test, failed_setup_changes_nothing) {
    ASSERT_TRUE(logging::setup("warn", logging::format::text, _sink).has_value());
    std::ostringstream other;
    const auto r =
      logging::setup("loud", logging::format::json, std::make_shared<spdlog::sinks::ostream_sink_mt>(other));
    ASSERT_FALSE(r.has_value());
    const auto log = logging::get("unchanged_test");
    log->info("still filtered");
    log->warn("still text");
    EXPECT_TRUE(other.str().empty());
    EXPECT_EQ(_out.str().find("still filtered"), std::string::npos) << _out.str();
    EXPECT_NE(_out.str().find(" warning [unchanged_test] still text\n"), std::string::npos) << _out.str();
}

TEST(logging_get, same_name_same_logger) {
    EXPECT_EQ(logging::get("storage"), logging::get("storage"));
    EXPECT_NE(logging::get("storage"), logging::get("net"));
    EXPECT_EQ(logging::get("net")->name(), "net");
}

} // namespace
} // namespace ms
