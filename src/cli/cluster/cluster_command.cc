#include "cli/cluster/cluster_command.h"

#include "cli/common/output.h"
#include "client/topic_admin.h"

namespace ms::cli {

CLI::App* add_cluster_command(CLI::App& app, cluster_command& c) {
    auto* cluster = app.add_subcommand("cluster", "Questions about the cluster");
    cluster->require_subcommand(1);
    add_examples(*cluster, "  memorystreamer cluster info");
    auto* info = cluster->add_subcommand(
      "info", "Brokers, controller, cluster id and topic count (DescribeCluster, or Metadata without it)");
    info->alias("metadata");
    add_client_options(*info, c.client);
    add_examples(*info, "  memorystreamer cluster info\n  memorystreamer cluster info --format json");
    info->callback([&c] { c.action = [&c] { return run_cluster_info(c); }; });
    return cluster;
}

int run_cluster_info(const cluster_command& c) {
    const std::string cmd = "cluster info";
    auto pool = connect(c.client);
    if (!pool) {
        return fail(cmd, pool.error().message, pool.error().exit_code);
    }
    auto cluster = client::describe_cluster(pool->bootstrap(), pool->timeout());
    if (!cluster) {
        return fail(cmd, cluster.error());
    }
    auto md = client::fetch_metadata(pool->bootstrap(), std::nullopt, pool->timeout());
    if (!md) {
        return fail(cmd, md.error());
    }
    const auto topics = static_cast<int64_t>(md->topics.size());
    if (c.client.format == output_format::json) {
        json_writer j;
        j.begin_object()
          .field("cluster_id", cluster->cluster_id)
          .field("controller", cluster->controller)
          .field("topics", topics)
          .field("source", cluster->source)
          .key("brokers")
          .begin_array();
        for (const auto& b : cluster->brokers) {
            j.begin_object()
              .field("id", b.id)
              .field("host", b.address.host)
              .field("port", static_cast<int64_t>(b.address.port))
              .field("rack", b.rack)
              .end_object();
        }
        j.end_array().end_object();
        j.print();
        return exit_ok;
    }
    (void)std::printf(
      "CLUSTER\n=======\nID          %s\nCONTROLLER  %d\nTOPICS      %lld\n\nBROKERS\n=======\n",
      cluster->cluster_id.value_or("-").c_str(), cluster->controller, static_cast<long long>(topics));
    text_table t({"ID", "HOST", "PORT", "RACK"});
    for (const auto& b : cluster->brokers) {
        t.add({std::to_string(b.id) + (b.id == cluster->controller ? "*" : ""), b.address.host,
               std::to_string(b.address.port), b.rack.value_or("-")});
    }
    t.print();
    return exit_ok;
}

} // namespace ms::cli
