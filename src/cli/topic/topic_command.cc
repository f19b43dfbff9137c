#include "cli/topic/topic_command.h"

namespace ms::cli {

result<std::pair<std::string, std::string>, std::string> split_key_value(const std::string& text,
                                                                         const std::string& flag) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
        return unexpected(flag + ": expected KEY=VALUE, got '" + text + "'");
    }
    return std::pair{text.substr(0, eq), text.substr(eq + 1)};
}

CLI::App* add_topic_command(CLI::App& app, topic_command& c) {
    CLI::App* topic = app.add_subcommand("topic", "Create, list, describe, configure and delete topics");
    topic->require_subcommand(1);
    add_examples(*topic, "  memorystreamer topic create orders -p 6\n"
                         "  memorystreamer topic list --format json\n"
                         "  memorystreamer topic describe orders");

    auto* create = topic->add_subcommand("create", "Create topics (CreateTopics)");
    add_client_options(*create, c.client);
    create->add_option("topics", c.topics, "Topics to create")->required();
    create->add_option("-p,--partitions", c.partitions, "Partitions (-1: the broker's default)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 1'000'000));
    create->add_option("-r,--replicas", c.replicas, "Replication factor (-1: the broker's default)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 1000));
    create->add_option("-c,--config", c.configs, "Topic config KEY=VALUE (repeatable)");
    create->add_flag("--dry-run", c.dry_run, "Validate only (CreateTopics validate_only)");
    add_examples(*create,
                 "  memorystreamer topic create orders -p 6\n"
                 "  memorystreamer topic create a b c -c cleanup.policy=compact -c retention.ms=86400000");
    create->callback([&c] { c.action = [&c] { return run_topic_create(c); }; });

    auto* list = topic->add_subcommand("list", "List topics with their partition counts (Metadata)");
    list->alias("ls");
    add_client_options(*list, c.client);
    add_examples(*list,
                 "  memorystreamer topic list\n  memorystreamer topic list --format json | jq '.[].name'");
    list->callback([&c] { c.action = [&c] { return run_topic_list(c); }; });

    auto* describe = topic->add_subcommand(
      "describe", "A topic's partitions (leader, replicas, offsets) and configs (Metadata, ListOffsets, "
                  "DescribeConfigs)");
    add_client_options(*describe, c.client);
    describe->add_option("topics", c.topics, "Topics to describe")->required();
    describe->add_flag("-c,--print-configs", c.configs_only,
                       "Only the configs (fails when the broker does not support DescribeConfigs)");
    add_examples(*describe, "  memorystreamer topic describe orders\n"
                            "  memorystreamer topic describe orders -c --format json");
    describe->callback([&c] { c.action = [&c] { return run_topic_describe(c); }; });

    auto* alter = topic->add_subcommand(
      "alter-config",
      "Set or delete topic configs (IncrementalAlterConfigs, or AlterConfigs when the broker lacks it)");
    add_client_options(*alter, c.client);
    alter->add_option("topics", c.topics, "Topics to change")->required();
    alter->add_option("-s,--set", c.set, "KEY=VALUE to set (repeatable)");
    alter->add_option("-d,--delete", c.removed, "KEY to delete, back to its default (repeatable)");
    add_examples(*alter, "  memorystreamer topic alter-config orders --set retention.ms=3600000\n"
                         "  memorystreamer topic alter-config orders --delete retention.ms");
    alter->callback([&c] { c.action = [&c] { return run_topic_alter_config(c); }; });

    auto* grow = topic->add_subcommand("add-partitions", "Add partitions to topics (CreatePartitions)");
    add_client_options(*grow, c.client);
    grow->add_option("topics", c.topics, "Topics to grow")->required();
    auto* num = grow->add_option("-n,--num", c.add, "Partitions to add")->check(CLI::Range(1, 1'000'000));
    auto* total = grow->add_option("-t,--total", c.total, "Partitions the topic should have in total")
                    ->check(CLI::Range(1, 1'000'000));
    num->excludes(total);
    grow->add_flag("--dry-run", c.dry_run, "Validate only (CreatePartitions validate_only)");
    add_examples(*grow, "  memorystreamer topic add-partitions orders --num 2\n"
                        "  memorystreamer topic add-partitions orders --total 12");
    grow->callback([&c] { c.action = [&c] { return run_topic_add_partitions(c); }; });

    auto* del = topic->add_subcommand("delete", "Delete topics and their data (DeleteTopics)");
    del->alias("rm");
    add_client_options(*del, c.client);
    del->add_option("topics", c.topics, "Topics to delete")->required();
    add_examples(*del,
                 "  memorystreamer topic delete orders\n  memorystreamer topic delete a b --format json");
    del->callback([&c] { c.action = [&c] { return run_topic_delete(c); }; });
    return topic;
}

} // namespace ms::cli
