#include "protocol/kafka_error.h"

#include <array>
#include <cstddef>

namespace ms::protocol {

namespace {

// One row per code, in code order, so a code is its own index (code - min_kafka_error_code).
// Retriable: Kafka's exception class for the code extends RetriableException, directly or through
// InvalidMetadataException (checked class by class against apache/kafka clients/.../errors/).
// Descriptions are this project's own words.
constexpr std::array<kafka_error_info, 135> table{{
  {kafka_error::unknown_server_error, "UNKNOWN_SERVER_ERROR", false,
   "the broker hit an unexpected error while handling the request"},
  {kafka_error::none, "NONE", false, "no error"},
  {kafka_error::offset_out_of_range, "OFFSET_OUT_OF_RANGE", false,
   "the requested offset is outside the range the partition's log holds"},
  {kafka_error::corrupt_message, "CORRUPT_MESSAGE", true,
   "a record batch failed its CRC or size checks or is otherwise malformed"},
  {kafka_error::unknown_topic_or_partition, "UNKNOWN_TOPIC_OR_PARTITION", true,
   "this broker does not host the topic-partition"},
  {kafka_error::invalid_fetch_size, "INVALID_FETCH_SIZE", false,
   "the fetch size in the request is not valid"},
  {kafka_error::leader_not_available, "LEADER_NOT_AVAILABLE", true,
   "the partition has no leader at the moment (an election is under way)"},
  {kafka_error::not_leader_or_follower, "NOT_LEADER_OR_FOLLOWER", true,
   "this broker is not the partition's leader, or not a replica of it"},
  {kafka_error::request_timed_out, "REQUEST_TIMED_OUT", true, "the request did not complete in time"},
  {kafka_error::broker_not_available, "BROKER_NOT_AVAILABLE", false, "the broker is not available"},
  {kafka_error::replica_not_available, "REPLICA_NOT_AVAILABLE", true,
   "the replica of the topic-partition is not available"},
  {kafka_error::message_too_large, "MESSAGE_TOO_LARGE", false, "a message is larger than the broker accepts"},
  {kafka_error::stale_controller_epoch, "STALE_CONTROLLER_EPOCH", false,
   "the request came from a controller that is no longer the active one"},
  {kafka_error::offset_metadata_too_large, "OFFSET_METADATA_TOO_LARGE", false,
   "the metadata string of an offset commit is too long"},
  {kafka_error::network_exception, "NETWORK_EXCEPTION", true,
   "the connection closed before a response arrived"},
  {kafka_error::coordinator_load_in_progress, "COORDINATOR_LOAD_IN_PROGRESS", true,
   "the coordinator is still loading its state"},
  {kafka_error::coordinator_not_available, "COORDINATOR_NOT_AVAILABLE", true,
   "the coordinator is not available"},
  {kafka_error::not_coordinator, "NOT_COORDINATOR", true,
   "this broker is not the coordinator for the group or transactional id"},
  {kafka_error::invalid_topic_exception, "INVALID_TOPIC_EXCEPTION", false,
   "the topic name is invalid, or the operation is not allowed on this topic"},
  {kafka_error::record_list_too_large, "RECORD_LIST_TOO_LARGE", false,
   "a record batch is larger than the broker's segment size"},
  {kafka_error::not_enough_replicas, "NOT_ENOUGH_REPLICAS", true,
   "fewer in-sync replicas than required; the records were not written"},
  {kafka_error::not_enough_replicas_after_append, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true,
   "the records were written, but to fewer in-sync replicas than required"},
  {kafka_error::invalid_required_acks, "INVALID_REQUIRED_ACKS", false,
   "the produce request's acks value is not valid"},
  {kafka_error::illegal_generation, "ILLEGAL_GENERATION", false,
   "the group generation id is not the current one"},
  {kafka_error::inconsistent_group_protocol, "INCONSISTENT_GROUP_PROTOCOL", false,
   "the member's protocol type or protocols do not match the group's"},
  {kafka_error::invalid_group_id, "INVALID_GROUP_ID", false, "the group id is not valid"},
  {kafka_error::unknown_member_id, "UNKNOWN_MEMBER_ID", false,
   "the coordinator does not know this member id"},
  {kafka_error::invalid_session_timeout, "INVALID_SESSION_TIMEOUT", false,
   "the session timeout is outside the range the broker allows"},
  {kafka_error::rebalance_in_progress, "REBALANCE_IN_PROGRESS", false,
   "the group is rebalancing; the member must join again"},
  {kafka_error::invalid_commit_offset_size, "INVALID_COMMIT_OFFSET_SIZE", false,
   "the committed offset data has an invalid size"},
  {kafka_error::topic_authorization_failed, "TOPIC_AUTHORIZATION_FAILED", false,
   "not authorized to access the topic"},
  {kafka_error::group_authorization_failed, "GROUP_AUTHORIZATION_FAILED", false,
   "not authorized to access the group"},
  {kafka_error::cluster_authorization_failed, "CLUSTER_AUTHORIZATION_FAILED", false,
   "not authorized for this cluster operation"},
  {kafka_error::invalid_timestamp, "INVALID_TIMESTAMP", false,
   "a record timestamp is outside the accepted range"},
  {kafka_error::unsupported_sasl_mechanism, "UNSUPPORTED_SASL_MECHANISM", false,
   "the broker does not offer this SASL mechanism"},
  {kafka_error::illegal_sasl_state, "ILLEGAL_SASL_STATE", false,
   "the request is not valid in the connection's current SASL state"},
  {kafka_error::unsupported_version, "UNSUPPORTED_VERSION", false,
   "the broker does not support this API version"},
  {kafka_error::topic_already_exists, "TOPIC_ALREADY_EXISTS", false, "a topic with this name exists already"},
  {kafka_error::invalid_partitions, "INVALID_PARTITIONS", false, "the partition count is not valid"},
  {kafka_error::invalid_replication_factor, "INVALID_REPLICATION_FACTOR", false,
   "the replication factor is not valid"},
  {kafka_error::invalid_replica_assignment, "INVALID_REPLICA_ASSIGNMENT", false,
   "the replica assignment is not valid"},
  {kafka_error::invalid_config, "INVALID_CONFIG", false, "the configuration is not valid"},
  {kafka_error::not_controller, "NOT_CONTROLLER", true, "this broker is not the active controller"},
  {kafka_error::invalid_request, "INVALID_REQUEST", false,
   "the request is malformed or not valid for this broker"},
  {kafka_error::unsupported_for_message_format, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false,
   "the message format version does not support the request"},
  {kafka_error::policy_violation, "POLICY_VIOLATION", false,
   "the request breaks a policy configured on the broker"},
  {kafka_error::out_of_order_sequence_number, "OUT_OF_ORDER_SEQUENCE_NUMBER", false,
   "the producer's sequence number is not the next one expected"},
  {kafka_error::duplicate_sequence_number, "DUPLICATE_SEQUENCE_NUMBER", false,
   "the producer's sequence number was seen before"},
  {kafka_error::invalid_producer_epoch, "INVALID_PRODUCER_EPOCH", false,
   "the producer epoch is older than the current one"},
  {kafka_error::invalid_txn_state, "INVALID_TXN_STATE", false,
   "the transactional operation is not valid in the transaction's current state"},
  {kafka_error::invalid_producer_id_mapping, "INVALID_PRODUCER_ID_MAPPING", false,
   "the producer id is not the one assigned to this transactional id"},
  {kafka_error::invalid_transaction_timeout, "INVALID_TRANSACTION_TIMEOUT", false,
   "the transaction timeout is above the broker's maximum"},
  {kafka_error::concurrent_transactions, "CONCURRENT_TRANSACTIONS", true,
   "another operation on the same transaction is still in progress"},
  {kafka_error::transaction_coordinator_fenced, "TRANSACTION_COORDINATOR_FENCED", false,
   "the coordinator writing transaction markers is no longer the current one"},
  {kafka_error::transactional_id_authorization_failed, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false,
   "not authorized for the transactional id"},
  {kafka_error::security_disabled, "SECURITY_DISABLED", false, "security features are turned off"},
  {kafka_error::operation_not_attempted, "OPERATION_NOT_ATTEMPTED", false,
   "the broker skipped this operation because another one in the batch failed"},
  {kafka_error::kafka_storage_error, "KAFKA_STORAGE_ERROR", true,
   "a disk error occurred while accessing the log"},
  {kafka_error::log_dir_not_found, "LOG_DIR_NOT_FOUND", false,
   "the log directory is not in the broker's configuration"},
  {kafka_error::sasl_authentication_failed, "SASL_AUTHENTICATION_FAILED", false,
   "SASL authentication failed"},
  {kafka_error::unknown_producer_id, "UNKNOWN_PRODUCER_ID", false,
   "the broker holds no state for this producer id (e.g. its records have expired)"},
  {kafka_error::reassignment_in_progress, "REASSIGNMENT_IN_PROGRESS", false,
   "a partition reassignment is in progress"},
  {kafka_error::delegation_token_auth_disabled, "DELEGATION_TOKEN_AUTH_DISABLED", false,
   "delegation tokens are not enabled"},
  {kafka_error::delegation_token_not_found, "DELEGATION_TOKEN_NOT_FOUND", false,
   "the delegation token does not exist"},
  {kafka_error::delegation_token_owner_mismatch, "DELEGATION_TOKEN_OWNER_MISMATCH", false,
   "the principal is neither the token's owner nor a renewer"},
  {kafka_error::delegation_token_request_not_allowed, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false,
   "delegation token requests are not allowed on this kind of connection"},
  {kafka_error::delegation_token_authorization_failed, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", false,
   "not authorized for the delegation token"},
  {kafka_error::delegation_token_expired, "DELEGATION_TOKEN_EXPIRED", false,
   "the delegation token has expired"},
  {kafka_error::invalid_principal_type, "INVALID_PRINCIPAL_TYPE", false,
   "the principal type is not supported"},
  {kafka_error::non_empty_group, "NON_EMPTY_GROUP", false, "the group still has members"},
  {kafka_error::group_id_not_found, "GROUP_ID_NOT_FOUND", false, "the group does not exist"},
  {kafka_error::fetch_session_id_not_found, "FETCH_SESSION_ID_NOT_FOUND", true,
   "the fetch session id is not known"},
  {kafka_error::invalid_fetch_session_epoch, "INVALID_FETCH_SESSION_EPOCH", true,
   "the fetch session epoch is not the expected one"},
  {kafka_error::listener_not_found, "LISTENER_NOT_FOUND", true,
   "the leader has no listener matching the one the request arrived on"},
  {kafka_error::topic_deletion_disabled, "TOPIC_DELETION_DISABLED", false, "topic deletion is turned off"},
  {kafka_error::fenced_leader_epoch, "FENCED_LEADER_EPOCH", true,
   "the request's leader epoch is older than the broker's"},
  {kafka_error::unknown_leader_epoch, "UNKNOWN_LEADER_EPOCH", true,
   "the request's leader epoch is newer than the broker's"},
  {kafka_error::unsupported_compression_type, "UNSUPPORTED_COMPRESSION_TYPE", false,
   "the client does not support the partition's compression type"},
  {kafka_error::stale_broker_epoch, "STALE_BROKER_EPOCH", false, "the broker epoch has changed"},
  {kafka_error::offset_not_available, "OFFSET_NOT_AVAILABLE", true,
   "offsets are not available until the new leader's high watermark catches up"},
  {kafka_error::member_id_required, "MEMBER_ID_REQUIRED", false,
   "the member must join again with the member id it was given"},
  {kafka_error::preferred_leader_not_available, "PREFERRED_LEADER_NOT_AVAILABLE", true,
   "the preferred leader is not available"},
  {kafka_error::group_max_size_reached, "GROUP_MAX_SIZE_REACHED", false,
   "the group has reached its maximum number of members"},
  {kafka_error::fenced_instance_id, "FENCED_INSTANCE_ID", false,
   "another member has registered with the same group.instance.id"},
  {kafka_error::eligible_leaders_not_available, "ELIGIBLE_LEADERS_NOT_AVAILABLE", true,
   "no eligible leader is available for the partition"},
  {kafka_error::election_not_needed, "ELECTION_NOT_NEEDED", true,
   "the partition does not need a leader election"},
  {kafka_error::no_reassignment_in_progress, "NO_REASSIGNMENT_IN_PROGRESS", false,
   "no partition reassignment is in progress"},
  {kafka_error::group_subscribed_to_topic, "GROUP_SUBSCRIBED_TO_TOPIC", false,
   "offsets of a topic cannot be deleted while the group is subscribed to it"},
  {kafka_error::invalid_record, "INVALID_RECORD", false, "a record failed the broker's validation"},
  {kafka_error::unstable_offset_commit, "UNSTABLE_OFFSET_COMMIT", true,
   "pending transactional offsets must be resolved first"},
  {kafka_error::throttling_quota_exceeded, "THROTTLING_QUOTA_EXCEEDED", true,
   "the throttling quota is exhausted"},
  {kafka_error::producer_fenced, "PRODUCER_FENCED", false,
   "a newer producer with the same transactional id has fenced this one"},
  {kafka_error::resource_not_found, "RESOURCE_NOT_FOUND", false,
   "the request refers to a resource that does not exist"},
  {kafka_error::duplicate_resource, "DUPLICATE_RESOURCE", false, "the request names the same resource twice"},
  {kafka_error::unacceptable_credential, "UNACCEPTABLE_CREDENTIAL", false,
   "the credential does not meet the acceptance criteria"},
  {kafka_error::inconsistent_voter_set, "INCONSISTENT_VOTER_SET", false,
   "the sender or receiver is not in the expected voter set"},
  {kafka_error::invalid_update_version, "INVALID_UPDATE_VERSION", false, "the update version is not valid"},
  {kafka_error::feature_update_failed, "FEATURE_UPDATE_FAILED", false,
   "the finalized features could not be updated"},
  {kafka_error::principal_deserialization_failure, "PRINCIPAL_DESERIALIZATION_FAILURE", false,
   "the principal of a forwarded request could not be deserialized"},
  {kafka_error::snapshot_not_found, "SNAPSHOT_NOT_FOUND", false, "the requested snapshot does not exist"},
  {kafka_error::position_out_of_range, "POSITION_OUT_OF_RANGE", false,
   "the requested position lies outside the snapshot"},
  {kafka_error::unknown_topic_id, "UNKNOWN_TOPIC_ID", true, "this broker does not host a topic with this id"},
  {kafka_error::duplicate_broker_registration, "DUPLICATE_BROKER_REGISTRATION", false,
   "this broker id is registered already"},
  {kafka_error::broker_id_not_registered, "BROKER_ID_NOT_REGISTERED", false,
   "the broker id is not registered"},
  {kafka_error::inconsistent_topic_id, "INCONSISTENT_TOPIC_ID", true,
   "the topic id in the request differs from the log's"},
  {kafka_error::inconsistent_cluster_id, "INCONSISTENT_CLUSTER_ID", false,
   "the cluster id in the request differs from the server's"},
  {kafka_error::transactional_id_not_found, "TRANSACTIONAL_ID_NOT_FOUND", false,
   "the transactional id does not exist"},
  {kafka_error::fetch_session_topic_id_error, "FETCH_SESSION_TOPIC_ID_ERROR", true,
   "the fetch session used topic ids inconsistently"},
  {kafka_error::ineligible_replica, "INELIGIBLE_REPLICA", false,
   "the new ISR contains a replica that is not eligible"},
  {kafka_error::new_leader_elected, "NEW_LEADER_ELECTED", false,
   "the partition state was updated, but the leader has changed"},
  {kafka_error::offset_moved_to_tiered_storage, "OFFSET_MOVED_TO_TIERED_STORAGE", false,
   "the requested offset has moved to tiered storage"},
  {kafka_error::fenced_member_epoch, "FENCED_MEMBER_EPOCH", false,
   "the member epoch is fenced; the member must give up its partitions and join again"},
  {kafka_error::unreleased_instance_id, "UNRELEASED_INSTANCE_ID", false,
   "the instance id is still held by another member"},
  {kafka_error::unsupported_assignor, "UNSUPPORTED_ASSIGNOR", false,
   "the group does not support the assignor or its version"},
  {kafka_error::stale_member_epoch, "STALE_MEMBER_EPOCH", false, "the member epoch is stale"},
  {kafka_error::mismatched_endpoint_type, "MISMATCHED_ENDPOINT_TYPE", false,
   "the request went to an endpoint of the wrong type"},
  {kafka_error::unsupported_endpoint_type, "UNSUPPORTED_ENDPOINT_TYPE", false,
   "the endpoint type is not supported"},
  {kafka_error::unknown_controller_id, "UNKNOWN_CONTROLLER_ID", false, "the controller id is not known"},
  {kafka_error::unknown_subscription_id, "UNKNOWN_SUBSCRIPTION_ID", false,
   "the telemetry subscription id is unknown or outdated"},
  {kafka_error::telemetry_too_large, "TELEMETRY_TOO_LARGE", false,
   "the telemetry push is larger than the broker accepts"},
  {kafka_error::invalid_registration, "INVALID_REGISTRATION", false,
   "the controller considers the broker registration invalid"},
  {kafka_error::transaction_abortable, "TRANSACTION_ABORTABLE", false,
   "the transaction hit an error; aborting it lets the transactional id be used again"},
  {kafka_error::invalid_record_state, "INVALID_RECORD_STATE", false,
   "the record's delivery state does not allow this acknowledgement"},
  {kafka_error::share_session_not_found, "SHARE_SESSION_NOT_FOUND", true, "the share session does not exist"},
  {kafka_error::invalid_share_session_epoch, "INVALID_SHARE_SESSION_EPOCH", true,
   "the share session epoch is not the expected one"},
  {kafka_error::fenced_state_epoch, "FENCED_STATE_EPOCH", false,
   "the share-group state epoch does not match the coordinator's"},
  {kafka_error::invalid_voter_key, "INVALID_VOTER_KEY", false,
   "the voter key does not match the receiving replica's"},
  {kafka_error::duplicate_voter, "DUPLICATE_VOTER", false, "the voter is in the voter set already"},
  {kafka_error::voter_not_found, "VOTER_NOT_FOUND", false, "the voter is not in the voter set"},
  {kafka_error::invalid_regular_expression, "INVALID_REGULAR_EXPRESSION", false,
   "the regular expression is not valid"},
  {kafka_error::rebootstrap_required, "REBOOTSTRAP_REQUIRED", false,
   "the client's metadata is stale; it must bootstrap again"},
  {kafka_error::streams_invalid_topology, "STREAMS_INVALID_TOPOLOGY", false,
   "the streams topology is not valid"},
  {kafka_error::streams_invalid_topology_epoch, "STREAMS_INVALID_TOPOLOGY_EPOCH", false,
   "the streams topology epoch is not valid"},
  {kafka_error::streams_topology_fenced, "STREAMS_TOPOLOGY_FENCED", false,
   "the streams topology epoch is outdated"},
  {kafka_error::share_session_limit_reached, "SHARE_SESSION_LIMIT_REACHED", true,
   "the broker's limit of share sessions has been reached"},
}};

constexpr bool codes_are_dense() {
    for (size_t i = 0; i < table.size(); ++i) {
        if (code(table[i].code) != static_cast<int>(i) + min_kafka_error_code) {
            return false;
        }
    }
    return code(table.back().code) == max_kafka_error_code;
}
static_assert(codes_are_dense(), "the table must list every code from -1 up, in order, once");

constexpr std::string_view unknown_name = "UNKNOWN_ERROR_CODE";
constexpr std::string_view unknown_description = "error code not known to this broker";

} // namespace

std::span<const kafka_error_info> all_kafka_errors() noexcept {
    return table;
}

const kafka_error_info* find_kafka_error(int16_t wire_code) noexcept {
    if (wire_code < min_kafka_error_code || wire_code > max_kafka_error_code) {
        return nullptr;
    }
    return &table[static_cast<size_t>(wire_code - min_kafka_error_code)];
}

kafka_error to_kafka_error(int16_t wire_code) noexcept {
    const kafka_error_info* info = find_kafka_error(wire_code);
    return info != nullptr ? info->code : kafka_error::unknown_server_error;
}

std::string_view name(kafka_error e) noexcept {
    const kafka_error_info* info = find_kafka_error(code(e));
    return info != nullptr ? info->name : unknown_name;
}

bool retriable(kafka_error e) noexcept {
    const kafka_error_info* info = find_kafka_error(code(e));
    return info != nullptr && info->retriable;
}

std::string_view description(kafka_error e) noexcept {
    const kafka_error_info* info = find_kafka_error(code(e));
    return info != nullptr ? info->description : unknown_description;
}

} // namespace ms::protocol
