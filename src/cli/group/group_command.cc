#include "cli/group/group_command.h"

namespace ms::cli {

CLI::App* add_group_command(CLI::App& app, group_command& c) {
    auto* group =
      app.add_subcommand("group", "List, describe, delete consumer groups and reset their offsets");
    group->require_subcommand(1);
    add_examples(*group, "  memorystreamer group list\n"
                         "  memorystreamer group describe billing\n"
                         "  memorystreamer group seek billing --topic orders --to start --dry-run");

    auto* list = group->add_subcommand("list", "List the cluster's groups (ListGroups on every broker)");
    list->alias("ls");
    add_client_options(*list, c.client);
    add_examples(*list, "  memorystreamer group list --format json");
    list->callback([&c] { c.action = [&c] { return run_group_list(c); }; });

    auto* describe = group->add_subcommand(
      "describe", "A group's state, members and, per partition, committed offset, log end and lag");
    add_client_options(*describe, c.client);
    describe->add_option("groups", c.groups, "Groups to describe")->required();
    add_examples(*describe, "  memorystreamer group describe billing\n"
                            "  memorystreamer group describe billing --format json | jq '.[0].offsets'");
    describe->callback([&c] { c.action = [&c] { return run_group_describe(c); }; });

    auto* del =
      group->add_subcommand("delete", "Delete empty groups and their committed offsets (DeleteGroups)");
    del->alias("rm");
    add_client_options(*del, c.client);
    del->add_option("groups", c.groups, "Groups to delete")->required();
    add_examples(*del, "  memorystreamer group delete billing");
    del->callback([&c] { c.action = [&c] { return run_group_delete(c); }; });

    auto* seek = group->add_subcommand(
      "seek",
      "Reset an empty group's committed offsets for a topic (to start, end, an offset or a timestamp)");
    add_client_options(*seek, c.client);
    seek->add_option("group", c.groups, "The group")->required()->expected(1);
    seek->add_option("-t,--topic", c.topic, "Topic whose offsets to reset")->required();
    seek->add_option("--to", c.to, "start, end, an offset N (clamped to the log) or @TIMESTAMP_MS")
      ->required();
    seek->add_option("-p,--partitions", c.partitions, "Only these partitions (default: all)")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
    seek->add_flag("--dry-run", c.dry_run, "Print the plan without committing it");
    add_examples(*seek, "  memorystreamer group seek billing --topic orders --to start --dry-run\n"
                        "  memorystreamer group seek billing --topic orders --to @1700000000000\n"
                        "  memorystreamer group seek billing --topic orders --to 42 -p 0,1\n"
                        "Only an empty group (no member running) can be reset, as in Kafka.");
    seek->callback([&c] { c.action = [&c] { return run_group_seek(c); }; });
    return group;
}

} // namespace ms::cli
