#pragma once
// The broker's settings. cli/ fills this from defaults, the config file, MEMORYSTREAMER_*
// environment variables and flags (cli/serve_options.cc has the table of keys).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "broker/groups/group_settings.h"
#include "broker/topic_table.h"
#include "net/server.h"

namespace ms::broker {

// One broker setting as resolved at start, for DescribeConfigs (broker resources) and the admin
// API's /v1/config.
struct resolved_setting {
    std::string key;           // as in the config file, e.g. "log.retention.ms"
    std::string value;         // the value in effect, as text
    std::string default_value; // the built-in default, as text
    std::string source;        // "default", "config_file", "environment" or "flag"
    std::string help;
};

struct broker_config {
    net::listen_address listen;                   // listen
    std::optional<net::listen_address> advertise; // advertise; the listen address when unset
    std::filesystem::path data_dir = "data";      // data.dir
    size_t smp = 0;                               // smp; 0 = one shard per available core
    bool pin_shards = false;                      // pin.shards (off: see cli/serve_options.cc)
    int32_t node_id = 0;                          // node.id
    int32_t num_partitions = 1;                   // num.partitions (auto-created topics)
    bool auto_create_topics = true;               // auto.create.topics.enable
    net::server_limits limits; // socket.request.max.bytes, connections.max.idle.ms, max.connections
    topic_defaults topics;     // log.segment.bytes, log.retention.ms, ...
    std::chrono::milliseconds retention_check_interval{300'000}; // log.retention.check.interval.ms
    std::chrono::milliseconds shutdown_grace{10'000};            // shutdown.grace.ms
    std::chrono::milliseconds cleaner_backoff{15'000};           // log.cleaner.backoff.ms
    size_t flush_threads = 8;                                    // log.flush.threads
    uint64_t preallocate_bytes = uint64_t{32} << 20;             // log.preallocate.bytes; 0 = off
    std::chrono::microseconds idle_spin{0};                      // shard.idle.spin.us
    groups::group_settings groups;                               // offsets.*, group.* (the group coordinator)
    std::vector<resolved_setting> settings; // every setting with its source (filled by cli/serve)
    // admin.listen: the admin HTTP API's address (started by cli/serve, served by admin/); unset = off
    std::optional<net::listen_address> admin_listen = net::listen_address{"127.0.0.1", 9644};

    [[nodiscard]] const net::listen_address& advertised() const noexcept {
        return advertise ? *advertise : listen;
    }
};

} // namespace ms::broker
