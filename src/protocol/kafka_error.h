#pragma once

// kafka_error: the error codes of the Kafka wire protocol (the int16 `ErrorCode` fields of
// responses), with Kafka's name for each, whether clients treat it as retriable, and a short
// description for logs.
//
// The codes and names are those of apache/kafka's `org.apache.kafka.common.protocol.Errors`
// (Kafka 3.x and 4.x; codes are never reused, so one table serves every version). A code is
// retriable when Kafka's exception class for it extends `RetriableException` (directly or through
// `InvalidMetadataException`), which is what Kafka's own protocol guide prints as "Retriable"
// and what the Java client uses to decide whether to retry on its own.
//
// Codes -1 ... 133 are all assigned (there are no holes). Codes 134 and up are being handed out
// on Kafka's development branches (cluster mirroring, partition deletion, ...) and different
// branches use the same numbers for different errors; until a release fixes them they are unknown
// here (find_kafka_error() returns nullptr). Codes below -1 are not protocol codes. Kafka's clients
// turn any code they do not know into UNKNOWN_SERVER_ERROR (not retriable); to_kafka_error() does
// the same.
//
// This is the *wire* error code. Each module keeps its own error enum (decode_errc, batch_errc,
// ...); the mapping from those to a kafka_error lives with the handler that answers the request.

#include <cstdint>
#include <span>
#include <string_view>

namespace ms::protocol {

enum class kafka_error : int16_t {
    unknown_server_error = -1,
    none = 0,
    offset_out_of_range = 1,
    corrupt_message = 2,
    unknown_topic_or_partition = 3,
    invalid_fetch_size = 4,
    leader_not_available = 5,
    not_leader_or_follower = 6,
    request_timed_out = 7,
    broker_not_available = 8,
    replica_not_available = 9,
    message_too_large = 10,
    stale_controller_epoch = 11,
    offset_metadata_too_large = 12,
    network_exception = 13,
    coordinator_load_in_progress = 14,
    coordinator_not_available = 15,
    not_coordinator = 16,
    invalid_topic_exception = 17,
    record_list_too_large = 18,
    not_enough_replicas = 19,
    not_enough_replicas_after_append = 20,
    invalid_required_acks = 21,
    illegal_generation = 22,
    inconsistent_group_protocol = 23,
    invalid_group_id = 24,
    unknown_member_id = 25,
    invalid_session_timeout = 26,
    rebalance_in_progress = 27,
    invalid_commit_offset_size = 28,
    topic_authorization_failed = 29,
    group_authorization_failed = 30,
    cluster_authorization_failed = 31,
    invalid_timestamp = 32,
    unsupported_sasl_mechanism = 33,
    illegal_sasl_state = 34,
    unsupported_version = 35,
    topic_already_exists = 36,
    invalid_partitions = 37,
    invalid_replication_factor = 38,
    invalid_replica_assignment = 39,
    invalid_config = 40,
    not_controller = 41,
    invalid_request = 42,
    unsupported_for_message_format = 43,
    policy_violation = 44,
    out_of_order_sequence_number = 45,
    duplicate_sequence_number = 46,
    invalid_producer_epoch = 47,
    invalid_txn_state = 48,
    invalid_producer_id_mapping = 49,
    invalid_transaction_timeout = 50,
    concurrent_transactions = 51,
    transaction_coordinator_fenced = 52,
    transactional_id_authorization_failed = 53,
    security_disabled = 54,
    operation_not_attempted = 55,
    kafka_storage_error = 56,
    log_dir_not_found = 57,
    sasl_authentication_failed = 58,
    unknown_producer_id = 59,
    reassignment_in_progress = 60,
    delegation_token_auth_disabled = 61,
    delegation_token_not_found = 62,
    delegation_token_owner_mismatch = 63,
    delegation_token_request_not_allowed = 64,
    delegation_token_authorization_failed = 65,
    delegation_token_expired = 66,
    invalid_principal_type = 67,
    non_empty_group = 68,
    group_id_not_found = 69,
    fetch_session_id_not_found = 70,
    invalid_fetch_session_epoch = 71,
    listener_not_found = 72,
    topic_deletion_disabled = 73,
    fenced_leader_epoch = 74,
    unknown_leader_epoch = 75,
    unsupported_compression_type = 76,
    stale_broker_epoch = 77,
    offset_not_available = 78,
    member_id_required = 79,
    preferred_leader_not_available = 80,
    group_max_size_reached = 81,
    fenced_instance_id = 82,
    eligible_leaders_not_available = 83,
    election_not_needed = 84,
    no_reassignment_in_progress = 85,
    group_subscribed_to_topic = 86,
    invalid_record = 87,
    unstable_offset_commit = 88,
    throttling_quota_exceeded = 89,
    producer_fenced = 90,
    resource_not_found = 91,
    duplicate_resource = 92,
    unacceptable_credential = 93,
    inconsistent_voter_set = 94,
    invalid_update_version = 95,
    feature_update_failed = 96,
    principal_deserialization_failure = 97,
    snapshot_not_found = 98,
    position_out_of_range = 99,
    unknown_topic_id = 100,
    duplicate_broker_registration = 101,
    broker_id_not_registered = 102,
    inconsistent_topic_id = 103,
    inconsistent_cluster_id = 104,
    transactional_id_not_found = 105,
    fetch_session_topic_id_error = 106,
    ineligible_replica = 107,
    new_leader_elected = 108,
    offset_moved_to_tiered_storage = 109,
    fenced_member_epoch = 110,
    unreleased_instance_id = 111,
    unsupported_assignor = 112,
    stale_member_epoch = 113,
    mismatched_endpoint_type = 114,
    unsupported_endpoint_type = 115,
    unknown_controller_id = 116,
    unknown_subscription_id = 117,
    telemetry_too_large = 118,
    invalid_registration = 119,
    transaction_abortable = 120,
    invalid_record_state = 121,
    share_session_not_found = 122,
    invalid_share_session_epoch = 123,
    fenced_state_epoch = 124,
    invalid_voter_key = 125,
    duplicate_voter = 126,
    voter_not_found = 127,
    invalid_regular_expression = 128,
    rebootstrap_required = 129,
    streams_invalid_topology = 130,
    streams_invalid_topology_epoch = 131,
    streams_topology_fenced = 132,
    share_session_limit_reached = 133,
};

// The lowest and highest codes this table knows; every code in between is assigned.
inline constexpr int16_t min_kafka_error_code = -1;
inline constexpr int16_t max_kafka_error_code = 133;

struct kafka_error_info {
    kafka_error code;
    std::string_view name;        // Kafka's name, e.g. "OFFSET_OUT_OF_RANGE"
    bool retriable;               // Kafka's exception class is a RetriableException
    std::string_view description; // one line, lower case, for logs and tools
};

// Every known code, in increasing order (index i holds code i + min_kafka_error_code).
[[nodiscard]] std::span<const kafka_error_info> all_kafka_errors() noexcept;

// The entry for a wire code, or nullptr for a code this table does not know. O(1).
[[nodiscard]] const kafka_error_info* find_kafka_error(int16_t wire_code) noexcept;

// A wire code as a kafka_error; a code this table does not know becomes unknown_server_error,
// which is what Kafka's clients do with codes newer than themselves.
[[nodiscard]] kafka_error to_kafka_error(int16_t wire_code) noexcept;

[[nodiscard]] constexpr int16_t code(kafka_error e) noexcept {
    return static_cast<int16_t>(e);
}

// Kafka's name ("NOT_LEADER_OR_FOLLOWER"); "UNKNOWN_ERROR_CODE" for a value outside the table.
[[nodiscard]] std::string_view name(kafka_error e) noexcept;
// Whether a client may retry the same request after this error (false for unknown values).
[[nodiscard]] bool retriable(kafka_error e) noexcept;
// A short description; "error code not known to this broker" for a value outside the table.
[[nodiscard]] std::string_view description(kafka_error e) noexcept;

} // namespace ms::protocol
