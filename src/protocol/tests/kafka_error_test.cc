// The Kafka wire error table: codes, names and retriability as Kafka defines them, and lookups
// that survive codes this broker does not know.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/kafka_error.h"

namespace ms::protocol {
namespace {

TEST(kafka_error, spot_checks_against_kafka) {
    EXPECT_EQ(code(kafka_error::unknown_server_error), -1);
    EXPECT_EQ(name(kafka_error::unknown_server_error), "UNKNOWN_SERVER_ERROR");
    EXPECT_FALSE(retriable(kafka_error::unknown_server_error));

    EXPECT_EQ(code(kafka_error::none), 0);
    EXPECT_EQ(name(kafka_error::none), "NONE");
    EXPECT_FALSE(retriable(kafka_error::none));

    EXPECT_EQ(name(kafka_error::offset_out_of_range), "OFFSET_OUT_OF_RANGE");
    EXPECT_FALSE(retriable(kafka_error::offset_out_of_range));

    // CorruptRecordException extends RetriableException: a producer resends the batch.
    EXPECT_EQ(code(kafka_error::corrupt_message), 2);
    EXPECT_EQ(name(kafka_error::corrupt_message), "CORRUPT_MESSAGE");
    EXPECT_TRUE(retriable(kafka_error::corrupt_message));

    EXPECT_EQ(code(kafka_error::unknown_topic_or_partition), 3);
    EXPECT_TRUE(retriable(kafka_error::unknown_topic_or_partition));

    EXPECT_EQ(code(kafka_error::not_leader_or_follower), 6);
    EXPECT_EQ(name(kafka_error::not_leader_or_follower), "NOT_LEADER_OR_FOLLOWER");
    EXPECT_TRUE(retriable(kafka_error::not_leader_or_follower));

    EXPECT_EQ(code(kafka_error::message_too_large), 10);
    EXPECT_FALSE(retriable(kafka_error::message_too_large));

    EXPECT_EQ(code(kafka_error::unsupported_version), 35);
    EXPECT_EQ(name(kafka_error::unsupported_version), "UNSUPPORTED_VERSION");
    EXPECT_FALSE(retriable(kafka_error::unsupported_version));

    // Idempotence and transactions (docs/KAFKA-PROTOCOL.md names these codes).
    EXPECT_EQ(code(kafka_error::out_of_order_sequence_number), 45);
    EXPECT_EQ(code(kafka_error::duplicate_sequence_number), 46);
    EXPECT_EQ(code(kafka_error::invalid_producer_epoch), 47);
    EXPECT_FALSE(retriable(kafka_error::invalid_producer_epoch));
    EXPECT_EQ(code(kafka_error::invalid_transaction_timeout), 50);
    EXPECT_TRUE(retriable(kafka_error::concurrent_transactions));
    EXPECT_EQ(code(kafka_error::unknown_producer_id), 59);
    EXPECT_EQ(code(kafka_error::member_id_required), 79);
    EXPECT_EQ(code(kafka_error::invalid_record), 87);

    EXPECT_EQ(code(kafka_error::share_session_limit_reached), max_kafka_error_code);
    EXPECT_EQ(name(kafka_error::share_session_limit_reached), "SHARE_SESSION_LIMIT_REACHED");
}

// The whole retriable set, so that a change to any row is a deliberate one. Each of these has an
// exception class in Kafka that extends RetriableException (or InvalidMetadataException).
TEST(kafka_error, retriable_set_is_kafkas) {
    const std::set<int16_t> expected{2,  3,  5,  6,  7,  9,  13, 14, 15, 16, 19,  20,  41,  51,  56,  70,
                                     71, 72, 74, 75, 78, 80, 83, 84, 88, 89, 100, 103, 106, 122, 123, 133};
    std::set<int16_t> actual;
    for (const kafka_error_info& e : all_kafka_errors()) {
        if (e.retriable) {
            actual.insert(code(e.code));
        }
        EXPECT_EQ(retriable(e.code), e.retriable) << e.name;
    }
    EXPECT_EQ(actual, expected);
}

TEST(kafka_error, every_code_from_minus_one_to_max_is_present_once) {
    const auto all = all_kafka_errors();
    ASSERT_EQ(all.size(), static_cast<size_t>(max_kafka_error_code - min_kafka_error_code + 1));
    std::set<int16_t> codes;
    for (int c = min_kafka_error_code; c <= max_kafka_error_code; ++c) {
        const kafka_error_info* info = find_kafka_error(static_cast<int16_t>(c));
        ASSERT_NE(info, nullptr) << "code " << c << " is missing; every code up to the max is assigned";
        EXPECT_EQ(code(info->code), c);
        EXPECT_EQ(to_kafka_error(static_cast<int16_t>(c)), info->code);
        codes.insert(code(info->code));
    }
    EXPECT_EQ(codes.size(), all.size());
}

TEST(kafka_error, names_are_unique_upper_snake_case_and_descriptions_present) {
    std::set<std::string> names;
    for (const kafka_error_info& e : all_kafka_errors()) {
        EXPECT_TRUE(names.insert(std::string(e.name)).second) << "duplicate name " << e.name;
        EXPECT_FALSE(e.name.empty());
        EXPECT_TRUE(
          std::all_of(e.name.begin(), e.name.end(),
                      [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }))
          << e.name;
        EXPECT_EQ(name(e.code), e.name);
        EXPECT_FALSE(e.description.empty()) << e.name;
        EXPECT_EQ(description(e.code), e.description);
    }
}

TEST(kafka_error, unknown_codes_are_handled) {
    // Codes past the table (newer Kafka, or garbage) and below -1.
    for (const int16_t c :
         std::vector<int16_t>{-2, -100, max_kafka_error_code + 1, 1000, std::numeric_limits<int16_t>::min(),
                              std::numeric_limits<int16_t>::max()}) {
        EXPECT_EQ(find_kafka_error(c), nullptr) << c;
        EXPECT_EQ(to_kafka_error(c), kafka_error::unknown_server_error) << c;
        const auto e = static_cast<kafka_error>(c);
        EXPECT_EQ(name(e), "UNKNOWN_ERROR_CODE") << c;
        EXPECT_FALSE(retriable(e)) << c;
        EXPECT_FALSE(description(e).empty()) << c;
    }
}

} // namespace
} // namespace ms::protocol
