#pragma once

// `memorystreamer topic create|list|describe|alter-config|add-partitions|delete`.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common/client_options.h"

namespace ms::cli {

struct topic_command {
    client_options client;
    std::vector<std::string> topics;
    int32_t partitions = -1;
    int16_t replicas = -1;
    std::vector<std::string> configs; // create: -c k=v
    bool dry_run = false;
    bool configs_only = false;        // describe -c
    std::vector<std::string> set;     // alter-config --set k=v
    std::vector<std::string> removed; // alter-config --delete k
    int32_t total = 0;                // add-partitions --total
    int32_t add = 0;                  // add-partitions --num
    std::function<int()> action;
};

CLI::App* add_topic_command(CLI::App& app, topic_command& c);

int run_topic_create(const topic_command& c);
int run_topic_list(const topic_command& c);
int run_topic_describe(const topic_command& c);
int run_topic_alter_config(const topic_command& c);
int run_topic_add_partitions(const topic_command& c);
int run_topic_delete(const topic_command& c);

// "k=v" -> {k, v}; an error naming the flag when there is no '=' or the key is empty.
[[nodiscard]] result<std::pair<std::string, std::string>, std::string>
split_key_value(const std::string& text, const std::string& flag);

} // namespace ms::cli
