// The topic subcommands: each connects, makes its requests and prints a table or one JSON document.
#include <fmt/format.h>

#include "cli/common/output.h"
#include "cli/topic/topic_command.h"
#include "client/fetcher.h"
#include "client/topic_admin.h"
#include "protocol/kafka_error.h"

namespace ms::cli {

namespace {

// Prints per-topic outcomes; exit 1 when any failed.
int print_outcomes(const topic_command& c, const std::vector<client::topic_outcome>& outcomes,
                   const std::string& done_word) {
    bool failed = false;
    if (c.client.format == output_format::json) {
        json_writer j;
        j.begin_array();
        for (const auto& o : outcomes) {
            j.begin_object().field("name", o.name);
            j.key("error");
            if (o.error.empty()) {
                j.null();
            } else {
                j.value(o.error);
            }
            j.end_object();
            failed = failed || !o.error.empty();
        }
        j.end_array();
        j.print();
    } else {
        text_table t({"TOPIC", "STATUS"});
        for (const auto& o : outcomes) {
            t.add({o.name, o.error.empty() ? done_word : o.error});
            failed = failed || !o.error.empty();
        }
        t.print();
    }
    return failed ? exit_failed : exit_ok;
}

} // namespace

int run_topic_create(const topic_command& c) {
    std::vector<std::pair<std::string, std::string>> configs;
    for (const auto& kv : c.configs) {
        auto parsed = split_key_value(kv, "--config");
        if (!parsed) {
            return fail("topic create", parsed.error(), exit_usage);
        }
        configs.push_back(std::move(*parsed));
    }
    auto pool = connect(c.client);
    if (!pool) {
        return fail("topic create", pool.error().message, pool.error().exit_code);
    }
    std::vector<client::new_topic> topics;
    for (const auto& name : c.topics) {
        topics.push_back({name, c.partitions, c.replicas, configs});
    }
    auto outcomes = client::create_topics(pool->bootstrap(), topics, c.dry_run, pool->timeout());
    if (!outcomes) {
        return fail("topic create", outcomes.error());
    }
    return print_outcomes(c, *outcomes, c.dry_run ? "OK (dry run)" : "OK");
}

int run_topic_list(const topic_command& c) {
    auto pool = connect(c.client);
    if (!pool) {
        return fail("topic list", pool.error().message, pool.error().exit_code);
    }
    auto md = client::fetch_metadata(pool->bootstrap(), std::nullopt, pool->timeout());
    if (!md) {
        return fail("topic list", md.error());
    }
    const auto replicas = [](const client::topic_metadata& t) {
        return t.partitions.empty() ? 0 : static_cast<int64_t>(t.partitions.front().replicas.size());
    };
    if (c.client.format == output_format::json) {
        json_writer j;
        j.begin_array();
        for (const auto& t : md->topics) {
            j.begin_object()
              .field("name", t.name)
              .field("partitions", static_cast<int64_t>(t.partitions.size()))
              .field("replicas", replicas(t))
              .field("internal", t.internal)
              .end_object();
        }
        j.end_array();
        j.print();
    } else {
        text_table t({"NAME", "PARTITIONS", "REPLICAS"});
        for (const auto& topic : md->topics) {
            t.add({topic.name, std::to_string(topic.partitions.size()), std::to_string(replicas(topic))});
        }
        t.print();
    }
    return exit_ok;
}

int run_topic_describe(const topic_command& c) {
    const std::string cmd = "topic describe";
    auto pool = connect(c.client);
    if (!pool) {
        return fail(cmd, pool.error().message, pool.error().exit_code);
    }
    auto md = client::fetch_metadata(pool->bootstrap(), c.topics, pool->timeout());
    if (!md) {
        return fail(cmd, md.error());
    }
    pool->learn(md->addresses());
    for (const auto& name : c.topics) {
        const auto* t = md->find(name);
        if (t == nullptr || t->error_code != 0) {
            return fail(
              cmd,
              fmt::format("topic '{}': {}", name,
                          client::kafka_error_text(
                            t == nullptr ? protocol::code(protocol::kafka_error::unknown_topic_or_partition)
                                         : t->error_code)));
        }
    }
    // Configs: required with -c; otherwise shown when the broker supports DescribeConfigs.
    std::optional<std::vector<client::topic_configs>> configs;
    auto described = client::describe_topic_configs(pool->bootstrap(), c.topics, pool->timeout());
    if (described) {
        configs = std::move(*described);
    } else if (c.configs_only) {
        return fail(cmd, described.error());
    } else if (c.client.format == output_format::text) {
        (void)std::fprintf(stderr, "memorystreamer %s: configs not shown: %s\n", cmd.c_str(),
                           described.error().c_str());
    }
    if (configs) {
        for (const auto& tc : *configs) {
            if (tc.error_code != 0) {
                return fail(cmd, fmt::format("configs of topic '{}': {}", tc.topic, tc.error));
            }
        }
    }
    const auto configs_of = [&configs](const std::string& name) -> const client::topic_configs* {
        if (configs) {
            for (const auto& tc : *configs) {
                if (tc.topic == name) {
                    return &tc;
                }
            }
        }
        return nullptr;
    };
    json_writer j;
    j.begin_array();
    for (const auto& name : c.topics) {
        const auto& t = *md->find(name);
        std::map<int32_t, int64_t> start;
        std::map<int32_t, int64_t> end;
        if (!c.configs_only) {
            std::vector<int32_t> ids;
            for (const auto& p : t.partitions) {
                if (p.leader >= 0) {
                    ids.push_back(p.id);
                }
            }
            auto s = client::list_offsets(*pool, t, ids, client::earliest_timestamp);
            auto e = s ? client::list_offsets(*pool, t, ids, client::latest_timestamp) : s;
            if (!e) {
                return fail(cmd, e.error());
            }
            start = std::move(*s);
            end = std::move(*e);
        }
        const auto offset_text = [](const std::map<int32_t, int64_t>& m, int32_t p) {
            const auto found = m.find(p);
            return found == m.end() ? std::string("-") : std::to_string(found->second);
        };
        const auto* tc = configs_of(name);
        if (c.client.format == output_format::json) {
            j.begin_object().field("name", t.name).field("internal", t.internal);
            if (!c.configs_only) {
                j.key("partitions").begin_array();
                for (const auto& p : t.partitions) {
                    j.begin_object().field("partition", p.id).field("leader", p.leader);
                    j.field("leader_epoch", p.leader_epoch);
                    j.key("replicas").begin_array();
                    for (const int32_t r : p.replicas) {
                        j.value(r);
                    }
                    j.end_array().key("isr").begin_array();
                    for (const int32_t r : p.isr) {
                        j.value(r);
                    }
                    j.end_array();
                    j.key("log_start_offset");
                    start.contains(p.id) ? j.value(start[p.id]) : j.null();
                    j.key("high_watermark");
                    end.contains(p.id) ? j.value(end[p.id]) : j.null();
                    j.end_object();
                }
                j.end_array();
            }
            j.key("configs");
            if (tc == nullptr) {
                j.null();
            } else {
                j.begin_array();
                for (const auto& e : tc->configs) {
                    j.begin_object()
                      .field("name", e.name)
                      .field("value", e.value)
                      .field("source", e.source)
                      .field("read_only", e.read_only)
                      .field("sensitive", e.sensitive)
                      .end_object();
                }
                j.end_array();
            }
            j.end_object();
            continue;
        }
        if (!c.configs_only) {
            (void)std::printf("SUMMARY\n=======\nNAME        %s\nPARTITIONS  %zu\nREPLICAS    %zu\n\n",
                              t.name.c_str(), t.partitions.size(),
                              t.partitions.empty() ? size_t{0} : t.partitions.front().replicas.size());
        }
        if (tc != nullptr) {
            (void)std::printf("CONFIGS\n=======\n");
            text_table ct({"KEY", "VALUE", "SOURCE"});
            for (const auto& e : tc->configs) {
                ct.add({e.name, e.sensitive ? "(sensitive)" : e.value.value_or("-"), e.source});
            }
            ct.print();
            (void)std::printf("\n");
        }
        if (!c.configs_only) {
            (void)std::printf("PARTITIONS\n==========\n");
            text_table pt({"PARTITION", "LEADER", "EPOCH", "REPLICAS", "LOG-START-OFFSET", "HIGH-WATERMARK"});
            for (const auto& p : t.partitions) {
                pt.add({std::to_string(p.id), std::to_string(p.leader), std::to_string(p.leader_epoch),
                        "[" + join_ints(p.replicas) + "]", offset_text(start, p.id), offset_text(end, p.id)});
            }
            pt.print();
        }
    }
    j.end_array();
    if (c.client.format == output_format::json) {
        j.print();
    }
    return exit_ok;
}

int run_topic_alter_config(const topic_command& c) {
    const std::string cmd = "topic alter-config";
    std::vector<client::config_change> changes;
    for (const auto& kv : c.set) {
        auto parsed = split_key_value(kv, "--set");
        if (!parsed) {
            return fail(cmd, parsed.error(), exit_usage);
        }
        changes.push_back({parsed->first, parsed->second});
    }
    for (const auto& k : c.removed) {
        if (k.empty()) {
            return fail(cmd, "--delete: empty config name", exit_usage);
        }
        changes.push_back({k, std::nullopt});
    }
    if (changes.empty()) {
        return fail(cmd, "nothing to change: give --set KEY=VALUE or --delete KEY", exit_usage);
    }
    auto pool = connect(c.client);
    if (!pool) {
        return fail(cmd, pool.error().message, pool.error().exit_code);
    }
    std::vector<client::topic_outcome> outcomes;
    for (const auto& name : c.topics) {
        auto o = client::alter_topic_configs(pool->bootstrap(), name, changes, pool->timeout());
        if (!o) {
            return fail(cmd, o.error());
        }
        outcomes.push_back(std::move(*o));
    }
    return print_outcomes(c, outcomes, "OK");
}

int run_topic_add_partitions(const topic_command& c) {
    const std::string cmd = "topic add-partitions";
    if (c.add <= 0 && c.total <= 0) {
        return fail(cmd, "give --num (partitions to add) or --total (partitions in all)", exit_usage);
    }
    auto pool = connect(c.client);
    if (!pool) {
        return fail(cmd, pool.error().message, pool.error().exit_code);
    }
    std::vector<std::pair<std::string, int32_t>> totals;
    if (c.add > 0) {
        auto md = client::fetch_metadata(pool->bootstrap(), c.topics, pool->timeout());
        if (!md) {
            return fail(cmd, md.error());
        }
        for (const auto& name : c.topics) {
            const auto* t = md->find(name);
            if (t == nullptr || t->error_code != 0) {
                return fail(cmd, fmt::format("topic '{}' does not exist", name));
            }
            totals.emplace_back(name, static_cast<int32_t>(t->partitions.size()) + c.add);
        }
    } else {
        for (const auto& name : c.topics) {
            totals.emplace_back(name, c.total);
        }
    }
    auto outcomes = client::create_partitions(pool->bootstrap(), totals, c.dry_run, pool->timeout());
    if (!outcomes) {
        return fail(cmd, outcomes.error());
    }
    return print_outcomes(c, *outcomes, c.dry_run ? "OK (dry run)" : "OK");
}

int run_topic_delete(const topic_command& c) {
    auto pool = connect(c.client);
    if (!pool) {
        return fail("topic delete", pool.error().message, pool.error().exit_code);
    }
    auto outcomes = client::delete_topics(pool->bootstrap(), c.topics, pool->timeout());
    if (!outcomes) {
        return fail("topic delete", outcomes.error());
    }
    return print_outcomes(c, *outcomes, "DELETED");
}

} // namespace ms::cli
