#pragma once
// The records of the internal topic __consumer_offsets, in Kafka's own formats (so tools that
// decode Kafka's offsets topic read ours too). Every field is big-endian; strings are an int16
// length then UTF-8 bytes (-1 = null); bytes are an int32 length then the bytes.
//
//   key   = version i16 | ...
//     version 0 or 1: an offset commit        group string | topic string | partition i32
//     version 2:      a group's metadata      group string
//   value = version i16 | ...   (a null value is a tombstone: the key was deleted)
//     offset commit v0: offset i64 | metadata string | commit timestamp i64
//                   v1: offset i64 | metadata string | commit timestamp i64 | expire timestamp i64
//                   v2: offset i64 | metadata string | commit timestamp i64
//                   v3: offset i64 | leader epoch i32 | metadata string | commit timestamp i64
//     group metadata v0..v3:
//       protocol type string | generation i32 | protocol string? | leader string?
//       | state timestamp i64 (v2+) | member count i32 | members...
//       member: member id string | instance id string? (v3+) | client id string | client host
//       string | rebalance timeout i32 (v1+) | session timeout i32 | subscription bytes
//       | assignment bytes
//
// MemoryStreamer writes offset values v3 (v1 when a commit carries a retention time) and group
// values v3, and reads every version above. Decoding is a boundary: any bytes give a value or an
// error, never a read outside them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"

namespace ms::broker::groups {

using bytes = std::vector<std::byte>;

struct offset_key {
    std::string group;
    std::string topic;
    int32_t partition = 0;
    bool operator==(const offset_key&) const = default;
};

struct group_key {
    std::string group;
    bool operator==(const group_key&) const = default;
};

using record_key = std::variant<offset_key, group_key>;

struct offset_value {
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::string metadata;
    int64_t commit_timestamp = -1;
    int64_t expire_timestamp = -1; // -1: the broker's offsets retention applies
    bool operator==(const offset_value&) const = default;
};

struct stored_member {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    int32_t rebalance_timeout_ms = 0;
    int32_t session_timeout_ms = 0;
    bytes subscription;
    bytes assignment;
    bool operator==(const stored_member&) const = default;
};

struct group_value {
    std::string protocol_type;
    int32_t generation = 0;
    std::optional<std::string> protocol;
    std::optional<std::string> leader;
    int64_t state_timestamp = -1;
    std::vector<stored_member> members;
    bool operator==(const group_value&) const = default;
};

[[nodiscard]] bytes encode_key(const record_key& key);
[[nodiscard]] bytes encode_offset_value(const offset_value& value);
[[nodiscard]] bytes encode_group_value(const group_value& value);

// Errors name what was wrong ("offset key: truncated", "group value: unknown version 9").
[[nodiscard]] result<record_key, std::string> decode_key(std::span<const std::byte> bytes);
[[nodiscard]] result<offset_value, std::string> decode_offset_value(std::span<const std::byte> bytes);
[[nodiscard]] result<group_value, std::string> decode_group_value(std::span<const std::byte> bytes);

} // namespace ms::broker::groups
