#include "admin/api_names.h"

#include <array>
#include <string_view>

#include <fmt/format.h>

namespace ms::admin {

namespace {
constexpr std::array<std::string_view, 69> names{
  "Produce",
  "Fetch",
  "ListOffsets",
  "Metadata",
  "LeaderAndIsr",
  "StopReplica",
  "UpdateMetadata",
  "ControlledShutdown",
  "OffsetCommit",
  "OffsetFetch",
  "FindCoordinator",
  "JoinGroup",
  "Heartbeat",
  "LeaveGroup",
  "SyncGroup",
  "DescribeGroups",
  "ListGroups",
  "SaslHandshake",
  "ApiVersions",
  "CreateTopics",
  "DeleteTopics",
  "DeleteRecords",
  "InitProducerId",
  "OffsetForLeaderEpoch",
  "AddPartitionsToTxn",
  "AddOffsetsToTxn",
  "EndTxn",
  "WriteTxnMarkers",
  "TxnOffsetCommit",
  "DescribeAcls",
  "CreateAcls",
  "DeleteAcls",
  "DescribeConfigs",
  "AlterConfigs",
  "AlterReplicaLogDirs",
  "DescribeLogDirs",
  "SaslAuthenticate",
  "CreatePartitions",
  "CreateDelegationToken",
  "RenewDelegationToken",
  "ExpireDelegationToken",
  "DescribeDelegationToken",
  "DeleteGroups",
  "ElectLeaders",
  "IncrementalAlterConfigs",
  "AlterPartitionReassignments",
  "ListPartitionReassignments",
  "OffsetDelete",
  "DescribeClientQuotas",
  "AlterClientQuotas",
  "DescribeUserScramCredentials",
  "AlterUserScramCredentials",
  "Vote",
  "BeginQuorumEpoch",
  "EndQuorumEpoch",
  "DescribeQuorum",
  "AlterPartition",
  "UpdateFeatures",
  "Envelope",
  "FetchSnapshot",
  "DescribeCluster",
  "DescribeProducers",
  "BrokerRegistration",
  "BrokerHeartbeat",
  "UnregisterBroker",
  "DescribeTransactions",
  "ListTransactions",
  "AllocateProducerIds",
  "ConsumerGroupHeartbeat",
};
} // namespace

std::string api_name(int16_t key) {
    if (key < 0) {
        return "Unknown";
    }
    if (static_cast<size_t>(key) < names.size()) {
        return std::string(names[static_cast<size_t>(key)]);
    }
    return fmt::format("ApiKey{}", key);
}

} // namespace ms::admin
