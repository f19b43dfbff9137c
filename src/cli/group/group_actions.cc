// The group subcommands.
#include <fmt/format.h>

#include "cli/common/output.h"
#include "cli/consume/consume_command.h"
#include "cli/group/group_command.h"
#include "client/fetcher.h"
#include "client/group_admin.h"
#include "client/topic_admin.h"

namespace ms::cli {

namespace {

std::string assignment_text(const client::topic_partitions& a) {
    std::string s;
    for (const auto& [topic, partitions] : a) {
        s += (s.empty() ? "" : " ") + topic + ":" + join_ints(partitions);
    }
    return s.empty() ? "-" : s;
}

struct offset_row {
    std::string topic;
    int32_t partition = 0;
    int64_t committed = -1;
    int64_t log_end = -1;
    std::string member;
};

} // namespace

int run_group_list(const group_command& c) {
    auto pool = connect(c.client);
    if (!pool) {
        return fail("group list", pool.error().message, pool.error().exit_code);
    }
    auto groups = client::list_groups(*pool);
    if (!groups) {
        return fail("group list", groups.error());
    }
    if (c.client.format == output_format::json) {
        json_writer j;
        j.begin_array();
        for (const auto& g : *groups) {
            j.begin_object()
              .field("group", g.group_id)
              .field("protocol_type", g.protocol_type)
              .field("state", g.state)
              .end_object();
        }
        j.end_array();
        j.print();
    } else {
        text_table t({"GROUP", "PROTOCOL-TYPE", "STATE"});
        for (const auto& g : *groups) {
            t.add({g.group_id, g.protocol_type, g.state.empty() ? "-" : g.state});
        }
        t.print();
    }
    return exit_ok;
}

int run_group_describe(const group_command& c) {
    const std::string cmd = "group describe";
    auto pool = connect(c.client);
    if (!pool) {
        return fail(cmd, pool.error().message, pool.error().exit_code);
    }
    auto md_all = client::fetch_metadata(pool->bootstrap(), std::vector<std::string>{}, pool->timeout());
    if (!md_all) {
        return fail(cmd, md_all.error());
    }
    pool->learn(md_all->addresses());
    json_writer j;
    j.begin_array();
    for (const auto& group : c.groups) {
        auto d = client::describe_group(*pool, group);
        if (!d) {
            return fail(cmd, d.error());
        }
        if (d->error_code != 0) {
            return fail(cmd, fmt::format("group '{}': {}", group, d->error));
        }
        auto coordinator = client::find_coordinator(*pool, group);
        if (!coordinator) {
            return fail(cmd, coordinator.error());
        }
        auto committed = client::fetch_committed(**coordinator, group, std::nullopt, {}, pool->timeout());
        if (!committed) {
            return fail(cmd, committed.error());
        }
        if ((d->state == "Dead" || d->state.empty()) && d->members.empty() && committed->empty()) {
            return fail(cmd, fmt::format("group '{}' does not exist", group));
        }
        // Rows: every committed partition and every assigned one.
        std::map<std::pair<std::string, int32_t>, offset_row> rows;
        for (const auto& [topic, offsets] : *committed) {
            for (const auto& [p, offset] : offsets) {
                auto& row = rows[{topic, p}];
                row.topic = topic;
                row.partition = p;
                row.committed = offset;
            }
        }
        for (const auto& m : d->members) {
            for (const auto& [topic, partitions] : m.assignment) {
                for (const int32_t p : partitions) {
                    auto& row = rows[{topic, p}];
                    row.topic = topic;
                    row.partition = p;
                    row.member = m.member_id;
                }
            }
        }
        std::map<std::string, std::vector<int32_t>> by_topic;
        for (const auto& [key, row] : rows) {
            by_topic[key.first].push_back(key.second);
        }
        for (const auto& [topic, partitions] : by_topic) {
            auto md =
              client::fetch_metadata(pool->bootstrap(), std::vector<std::string>{topic}, pool->timeout());
            if (!md) {
                return fail(cmd, md.error());
            }
            const auto* t = md->find(topic);
            if (t == nullptr || t->error_code != 0) {
                continue; // a deleted topic: no log end to compare with
            }
            std::vector<int32_t> existing;
            for (const int32_t p : partitions) {
                if (static_cast<size_t>(p) < t->partitions.size()) {
                    existing.push_back(p);
                }
            }
            auto ends = client::list_offsets(*pool, *t, existing, client::latest_timestamp);
            if (!ends) {
                return fail(cmd, ends.error());
            }
            for (const auto& [p, end] : *ends) {
                rows[{topic, p}].log_end = end;
            }
        }
        const auto lag = [](const offset_row& r) -> int64_t {
            return r.log_end < 0 ? -1 : r.log_end - (r.committed < 0 ? 0 : r.committed);
        };
        if (c.client.format == output_format::json) {
            j.begin_object()
              .field("group", d->group_id)
              .field("state", d->state)
              .field("protocol_type", d->protocol_type)
              .field("protocol", d->protocol)
              .key("members")
              .begin_array();
            for (const auto& m : d->members) {
                j.begin_object()
                  .field("member_id", m.member_id)
                  .field("instance_id", m.instance_id)
                  .field("client_id", m.client_id)
                  .field("client_host", m.client_host)
                  .key("assignment")
                  .begin_object();
                for (const auto& [topic, partitions] : m.assignment) {
                    j.key(topic).begin_array();
                    for (const int32_t p : partitions) {
                        j.value(p);
                    }
                    j.end_array();
                }
                j.end_object().end_object();
            }
            j.end_array().key("offsets").begin_array();
            for (const auto& [key, r] : rows) {
                j.begin_object().field("topic", r.topic).field("partition", r.partition);
                j.key("committed");
                r.committed >= 0 ? j.value(r.committed) : j.null();
                j.key("log_end");
                r.log_end >= 0 ? j.value(r.log_end) : j.null();
                j.key("lag");
                lag(r) >= 0 ? j.value(lag(r)) : j.null();
                j.key("member_id");
                r.member.empty() ? j.null() : j.value(r.member);
                j.end_object();
            }
            j.end_array().end_object();
            continue;
        }
        (void)std::printf("GROUP        %s\nSTATE        %s\nPROTOCOL     %s/%s\nMEMBERS      %zu\n\n",
                          d->group_id.c_str(), d->state.c_str(), d->protocol_type.c_str(),
                          d->protocol.c_str(), d->members.size());
        if (!d->members.empty()) {
            text_table mt({"MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"});
            for (const auto& m : d->members) {
                mt.add({m.member_id, m.client_id, m.client_host, assignment_text(m.assignment)});
            }
            mt.print();
            (void)std::printf("\n");
        }
        text_table ot({"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID"});
        const auto num = [](int64_t v) { return v >= 0 ? std::to_string(v) : std::string("-"); };
        for (const auto& [key, r] : rows) {
            ot.add({r.topic, std::to_string(r.partition), num(r.committed), num(r.log_end), num(lag(r)),
                    r.member.empty() ? "-" : r.member});
        }
        ot.print();
    }
    j.end_array();
    if (c.client.format == output_format::json) {
        j.print();
    }
    return exit_ok;
}

int run_group_delete(const group_command& c) {
    auto pool = connect(c.client);
    if (!pool) {
        return fail("group delete", pool.error().message, pool.error().exit_code);
    }
    auto outcomes = client::delete_groups(*pool, c.groups);
    if (!outcomes) {
        return fail("group delete", outcomes.error());
    }
    bool failed = false;
    json_writer j;
    j.begin_array();
    text_table t({"GROUP", "STATUS"});
    for (const auto& o : *outcomes) {
        failed = failed || o.error_code != 0;
        j.begin_object().field("group", o.group_id).key("error");
        o.error.empty() ? j.null() : j.value(o.error);
        j.end_object();
        t.add({o.group_id, o.error.empty() ? "DELETED" : o.error});
    }
    j.end_array();
    if (c.client.format == output_format::json) {
        j.print();
    } else {
        t.print();
    }
    return failed ? exit_failed : exit_ok;
}

int run_group_seek(const group_command& c) {
    const std::string cmd = "group seek";
    auto to = parse_start_offset(c.to);
    if (!to) {
        return fail(cmd, "--to" + to.error().substr(to.error().find(':')), exit_usage);
    }
    const std::string& group = c.groups.front();
    auto pool = connect(c.client);
    if (!pool) {
        return fail(cmd, pool.error().message, pool.error().exit_code);
    }
    auto topic_found = find_topic(*pool, c.topic, c.partitions);
    if (!topic_found) {
        return fail(cmd, topic_found.error());
    }
    const client::topic_metadata* t = &topic_found->topic;
    const std::vector<int32_t>& partitions = topic_found->partitions;
    auto d = client::describe_group(*pool, group);
    if (!d) {
        return fail(cmd, d.error());
    }
    if (d->error_code != 0) {
        return fail(cmd, fmt::format("group '{}': {}", group, d->error));
    }
    if (!d->members.empty() || !(d->state == "Empty" || d->state == "Dead")) {
        return fail(
          cmd, fmt::format("group '{}' is {} with {} member(s); offsets can only be reset while the group "
                           "is empty: stop its consumers first",
                           group, d->state, d->members.size()));
    }
    auto coordinator = client::find_coordinator(*pool, group);
    if (!coordinator) {
        return fail(cmd, coordinator.error());
    }
    auto current = client::fetch_committed(**coordinator, group, c.topic, partitions, pool->timeout());
    if (!current) {
        return fail(cmd, current.error());
    }
    auto resolved = resolve_start_offsets(*pool, *t, partitions, *to);
    if (!resolved) {
        return fail(cmd, resolved.error());
    }
    std::map<int32_t, int64_t> target = std::move(*resolved);
    if (to->what == start_offset::kind::exact) {
        // A committed offset outside the log would only be moved by the consumer's reset policy.
        auto earliest = client::list_offsets(*pool, *t, partitions, client::earliest_timestamp);
        auto latest =
          earliest ? client::list_offsets(*pool, *t, partitions, client::latest_timestamp) : earliest;
        if (!latest) {
            return fail(cmd, latest.error());
        }
        for (auto& [p, offset] : target) {
            offset = std::clamp(offset, (*earliest)[p], (*latest)[p]);
        }
    }
    if (!c.dry_run) {
        auto done = client::commit_offsets(**coordinator, group, -1, "", c.topic, target, pool->timeout());
        if (!done) {
            return fail(cmd, done.error().message);
        }
    }
    const auto& before = (*current)[c.topic];
    if (c.client.format == output_format::json) {
        json_writer j;
        j.begin_object()
          .field("group", group)
          .field("topic", c.topic)
          .field("dry_run", c.dry_run)
          .key("partitions")
          .begin_array();
        for (const auto& [p, offset] : target) {
            j.begin_object().field("partition", p).key("current");
            const auto found = before.find(p);
            found == before.end() ? j.null() : j.value(found->second);
            j.field("new", offset).end_object();
        }
        j.end_array().end_object();
        j.print();
        return exit_ok;
    }
    text_table tt({"TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"});
    for (const auto& [p, offset] : target) {
        const auto found = before.find(p);
        tt.add({c.topic, std::to_string(p), found == before.end() ? "-" : std::to_string(found->second),
                std::to_string(offset)});
    }
    tt.print();
    (void)std::printf(c.dry_run ? "Dry run: nothing committed.\n" : "Committed.\n");
    return exit_ok;
}

} // namespace ms::cli
