#include "broker/groups/group_records.h"

#include <fmt/format.h>

#include "base/iobuf.h"
#include "protocol/wire.h"

namespace ms::broker::groups {

namespace {

constexpr int16_t offset_key_version = 1;
constexpr int16_t group_key_version = 2;
constexpr int16_t group_value_version = 3;

template<typename Fill>
bytes write(Fill fill) {
    iobuf buf;
    {
        protocol::wire_writer w(buf);
        fill(w);
    }
    return buf.to_bytes();
}

// Reads one whole value; any error or leftover byte fails with `what` named.
template<typename T, typename Read>
result<T, std::string> read_all(std::span<const std::byte> in, std::string_view what, Read read) {
    protocol::wire_reader r(in);
    T out{};
    const int16_t version = r.read_int16();
    if (!r.ok()) {
        return unexpected(fmt::format("{}: truncated before its version", what));
    }
    if (auto bad = read(r, version, out)) {
        return unexpected(fmt::format("{}: {}", what, *bad));
    }
    r.expect_end();
    if (!r.ok()) {
        return unexpected(fmt::format("{}: {}", what, protocol::describe(*r.error())));
    }
    return out;
}

} // namespace

bytes encode_key(const record_key& key) {
    return write([&](protocol::wire_writer& w) {
        if (const auto* o = std::get_if<offset_key>(&key)) {
            w.write_int16(offset_key_version);
            w.write_string(o->group, false);
            w.write_string(o->topic, false);
            w.write_int32(o->partition);
        } else {
            w.write_int16(group_key_version);
            w.write_string(std::get<group_key>(key).group, false);
        }
    });
}

bytes encode_offset_value(const offset_value& v) {
    return write([&](protocol::wire_writer& w) {
        if (v.expire_timestamp >= 0) {
            w.write_int16(1);
            w.write_int64(v.offset);
            w.write_string(v.metadata, false);
            w.write_int64(v.commit_timestamp);
            w.write_int64(v.expire_timestamp);
            return;
        }
        w.write_int16(3);
        w.write_int64(v.offset);
        w.write_int32(v.leader_epoch);
        w.write_string(v.metadata, false);
        w.write_int64(v.commit_timestamp);
    });
}

bytes encode_group_value(const group_value& v) {
    return write([&](protocol::wire_writer& w) {
        w.write_int16(group_value_version);
        w.write_string(v.protocol_type, false);
        w.write_int32(v.generation);
        w.write_nullable_string(v.protocol, false);
        w.write_nullable_string(v.leader, false);
        w.write_int64(v.state_timestamp);
        w.write_int32(static_cast<int32_t>(v.members.size()));
        for (const auto& m : v.members) {
            w.write_string(m.member_id, false);
            w.write_nullable_string(m.instance_id, false);
            w.write_string(m.client_id, false);
            w.write_string(m.client_host, false);
            w.write_int32(m.rebalance_timeout_ms);
            w.write_int32(m.session_timeout_ms);
            w.write_bytes(m.subscription, false);
            w.write_bytes(m.assignment, false);
        }
    });
}

result<record_key, std::string> decode_key(std::span<const std::byte> in) {
    return read_all<record_key>(
      in, "offsets topic key",
      [](protocol::wire_reader& r, int16_t version, record_key& out) -> std::optional<std::string> {
          if (version == 0 || version == 1) {
              offset_key k;
              k.group = r.read_string(false);
              k.topic = r.read_string(false);
              k.partition = r.read_int32();
              out = std::move(k);
              return std::nullopt;
          }
          if (version == 2) {
              out = group_key{r.read_string(false)};
              return std::nullopt;
          }
          return fmt::format("unknown version {}", version);
      });
}

result<offset_value, std::string> decode_offset_value(std::span<const std::byte> in) {
    return read_all<offset_value>(
      in, "offset commit value",
      [](protocol::wire_reader& r, int16_t version, offset_value& out) -> std::optional<std::string> {
          if (version < 0 || version > 3) {
              return fmt::format("unknown version {}", version);
          }
          out.offset = r.read_int64();
          if (version == 3) {
              out.leader_epoch = r.read_int32();
          }
          out.metadata = r.read_string(false);
          out.commit_timestamp = r.read_int64();
          if (version == 1) {
              out.expire_timestamp = r.read_int64();
          }
          return std::nullopt;
      });
}

result<group_value, std::string> decode_group_value(std::span<const std::byte> in) {
    return read_all<group_value>(
      in, "group metadata value",
      [](protocol::wire_reader& r, int16_t version, group_value& out) -> std::optional<std::string> {
          if (version < 0 || version > 3) {
              return fmt::format("unknown version {}", version);
          }
          out.protocol_type = r.read_string(false);
          out.generation = r.read_int32();
          out.protocol = r.read_nullable_string(false);
          out.leader = r.read_nullable_string(false);
          if (version >= 2) {
              out.state_timestamp = r.read_int64();
          }
          // Each member takes at least 2+2+2+4+4+4+4 bytes (plus 2 for the instance id from v3).
          const size_t min_member = version >= 3 ? 24 : (version >= 1 ? 22 : 18);
          const int32_t count = r.read_array_length(false, false, min_member);
          for (int32_t i = 0; r.ok() && i < count; ++i) {
              stored_member m;
              m.member_id = r.read_string(false);
              if (version >= 3) {
                  m.instance_id = r.read_nullable_string(false);
              }
              m.client_id = r.read_string(false);
              m.client_host = r.read_string(false);
              m.rebalance_timeout_ms = version >= 1 ? r.read_int32() : 0;
              m.session_timeout_ms = r.read_int32();
              m.subscription = r.read_bytes(false);
              m.assignment = r.read_bytes(false);
              out.members.push_back(std::move(m));
          }
          if (version == 0) {
              for (auto& m : out.members) {
                  m.rebalance_timeout_ms = m.session_timeout_ms;
              }
          }
          return std::nullopt;
      });
}

} // namespace ms::broker::groups
