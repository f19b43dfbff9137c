#include "cli/consume/consume_command.h"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <thread>

#include <fmt/format.h>

#include "cli/consume/record_format.h"
#include "client/fetcher.h"
#include "client/group_member.h"
#include "client/topic_admin.h"

namespace ms::cli {

namespace {

std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int /*signal*/) {
    stop_requested.store(true);
}

void install_stop_handlers() {
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal; // NOLINT(*-union-access)
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: a blocking wait returns and the loop sees the flag
    (void)sigaction(SIGINT, &sa, nullptr);
    (void)sigaction(SIGTERM, &sa, nullptr);
    (void)std::signal(SIGPIPE, SIG_IGN); // a closed pipe (| head) is seen as a failed write
}

result<int64_t, std::string> parse_int(std::string_view text) {
    int64_t v = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || ptr != end || text.empty()) {
        return unexpected(std::string("not a number"));
    }
    return v;
}

} // namespace

result<std::map<int32_t, int64_t>, std::string> resolve_start_offsets(client::broker_pool& pool,
                                                                      const client::topic_metadata& t,
                                                                      const std::vector<int32_t>& partitions,
                                                                      const start_offset& from) {
    if (partitions.empty()) {
        return std::map<int32_t, int64_t>{};
    }
    switch (from.what) {
    case start_offset::kind::start:
        return client::list_offsets(pool, t, partitions, client::earliest_timestamp);
    case start_offset::kind::end: return client::list_offsets(pool, t, partitions, client::latest_timestamp);
    case start_offset::kind::exact: {
        std::map<int32_t, int64_t> out;
        for (const int32_t p : partitions) {
            out[p] = from.value; // out of range: the fetcher moves to the log start or end
        }
        return out;
    }
    case start_offset::kind::timestamp: {
        auto at = client::list_offsets(pool, t, partitions, from.value);
        if (!at) {
            return at;
        }
        auto latest = client::list_offsets(pool, t, partitions, client::latest_timestamp);
        if (!latest) {
            return latest;
        }
        for (auto& [p, offset] : *at) {
            if (offset < 0) {
                offset = (*latest)[p]; // nothing at or after the timestamp: the end
            }
        }
        return at;
    }
    }
    return unexpected(std::string("unknown --offset"));
}

namespace {

bool write_out(const std::string& text) {
    if (text.empty()) {
        return true;
    }
    const size_t n = std::fwrite(text.data(), 1, text.size(), stdout);
    return n == text.size() && std::fflush(stdout) == 0;
}

} // namespace

result<start_offset, std::string> parse_start_offset(const std::string& text) {
    if (text == "start" || text == "beginning" || text == "oldest") {
        return start_offset{start_offset::kind::start, 0};
    }
    if (text == "end" || text == "newest") {
        return start_offset{start_offset::kind::end, 0};
    }
    const bool at = !text.empty() && text[0] == '@';
    auto v = parse_int(at ? std::string_view(text).substr(1) : std::string_view(text));
    if (!v || *v < 0) {
        return unexpected(
          fmt::format("--offset: '{}' is not start, end, an offset (N >= 0) or @timestamp_ms", text));
    }
    return start_offset{at ? start_offset::kind::timestamp : start_offset::kind::exact, *v};
}

CLI::App* add_consume_command(CLI::App& app, consume_command& c) {
    auto* sub =
      app.add_subcommand("consume", "Print records of a topic (from the start, following new ones)");
    add_client_options(*sub, c.client, false);
    sub->add_option("topic", c.topic, "Topic to read")->required();
    sub
      ->add_option(
        "-f,--format", c.format,
        "json (one object per line), text (the value per line) or a template: %t topic, %p "
        "partition, %o offset, %k key, %K key length, %v/%s value, %V/%S value length, %h headers, "
        "%T timestamp ms, %% percent; \\n \\t \\r \\\\ \\0")
      ->capture_default_str();
    sub
      ->add_option("-o,--offset", c.offset,
                   "Where to start: start, end, an offset N, or @TIMESTAMP_MS (with --group: only for "
                   "partitions the group has no committed offset for)")
      ->capture_default_str();
    sub
      ->add_option("-p,--partitions", c.partitions,
                   "Only these partitions (comma-separated; not with --group)")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
    sub->add_option("-g,--group", c.group,
                    "Consume as a member of this consumer group (commits what it prints)");
    sub->add_option("-n,--num", c.num, "Stop after printing this many records (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
    sub->add_flag("-e,--exit-at-end", c.exit_at_end,
                  "Stop once every partition is read up to its end instead of waiting for new records");
    sub->add_option("--fetch-max-wait-ms", c.fetch_max_wait_ms, "Fetch max_wait_ms")
      ->capture_default_str()
      ->check(CLI::Range(0, 60'000));
    sub->add_option("--session-timeout-ms", c.session_timeout_ms, "Group session timeout")
      ->capture_default_str()
      ->check(CLI::Range(1'000, 3'600'000));
    add_examples(*sub,
                 "  memorystreamer consume orders                    # everything, then follow\n"
                 "  memorystreamer consume orders -e -f '%p/%o %k=%v\\n'\n"
                 "  memorystreamer consume orders --offset @1700000000000 --num 10 --format json\n"
                 "  memorystreamer consume orders --group billing -e  # resume where the group stopped\n"
                 "Follows the topic (as rpk does) until Ctrl-C; --exit-at-end stops at the end and\n"
                 "--num after N records.");
    sub->callback([&c] { c.action = [&c] { return run_consume(c); }; });
    return sub;
}

int run_consume(const consume_command& c) {
    const std::string cmd = "consume";
    auto format = record_format::parse(c.format);
    if (!format) {
        return fail(cmd, format.error(), exit_usage);
    }
    auto from = parse_start_offset(c.offset);
    if (!from) {
        return fail(cmd, from.error(), exit_usage);
    }
    if (!c.group.empty() && !c.partitions.empty()) {
        return fail(cmd, "--partitions and --group exclude each other (the group assigns partitions)",
                    exit_usage);
    }
    auto pool = connect(c.client);
    if (!pool) {
        return fail(cmd, pool.error().message, pool.error().exit_code);
    }
    auto target = find_topic(*pool, c.topic, c.partitions, c.group.empty());
    if (!target) {
        return fail(cmd, target.error());
    }
    const client::topic_metadata* topic = &target->topic;
    std::vector<int32_t> partitions = std::move(target->partitions);
    install_stop_handlers();
    client::fetch_settings fs;
    fs.max_wait_ms = c.fetch_max_wait_ms;
    client::fetcher fetcher(*pool, *topic, fs);
    std::optional<client::group_member> member;
    std::map<int32_t, int64_t> printed_next; // partition -> offset after the last record printed
    std::map<int32_t, int64_t> committed_next;

    // Joins the group and positions the fetcher on its assignment.
    const auto join = [&]() -> result<void, std::string> {
        auto assignment = member->join();
        if (!assignment) {
            return unexpected(std::move(assignment.error()));
        }
        std::vector<int32_t> mine = (*assignment)[c.topic];
        auto committed = member->committed(c.topic, mine);
        if (!committed) {
            return unexpected(std::move(committed.error()));
        }
        std::vector<int32_t> without;
        for (const int32_t p : mine) {
            if (!committed->contains(p)) {
                without.push_back(p);
            }
        }
        auto fresh = resolve_start_offsets(*pool, *topic, without, *from);
        if (!fresh) {
            return unexpected(std::move(fresh.error()));
        }
        std::map<int32_t, int64_t> positions = *committed;
        positions.insert(fresh->begin(), fresh->end());
        fetcher.assign(positions);
        printed_next.clear();
        committed_next = *committed;
        return {};
    };
    // Commits what was printed since the last commit. rejoin_needed when the group moved on (the
    // partitions' next owner then reads from the previous commit: at-least-once, as Kafka's consumers).
    const auto commit = [&]() -> result<client::membership, std::string> {
        std::map<int32_t, int64_t> changed;
        for (const auto& [p, next] : printed_next) {
            if (committed_next[p] != next) {
                changed[p] = next;
            }
        }
        if (changed.empty()) {
            return client::membership::stable;
        }
        auto done = member->commit(c.topic, changed);
        if (done && *done == client::membership::stable) {
            for (const auto& [p, next] : changed) {
                committed_next[p] = next;
            }
        }
        return done;
    };

    if (!c.group.empty()) {
        client::group_member_settings gs;
        gs.session_timeout_ms = c.session_timeout_ms;
        gs.heartbeat_interval = client::milliseconds(c.session_timeout_ms / 3);
        member.emplace(*pool, c.group, std::vector<std::string>{c.topic}, gs);
        if (auto joined = join(); !joined) {
            return fail(cmd, joined.error());
        }
    } else {
        auto positions = resolve_start_offsets(*pool, *topic, partitions, *from);
        if (!positions) {
            return fail(cmd, positions.error());
        }
        fetcher.assign(std::move(*positions));
    }

    std::string failure;
    int64_t printed = 0;
    std::string out;
    while (!stop_requested.load()) {
        if (member) {
            auto state = member->heartbeat();
            if (!state) {
                failure = state.error();
                break;
            }
            if (*state == client::membership::rejoin_needed) {
                (void)commit(); // may fail when the generation moved on; the next owner re-reads
                if (auto joined = join(); !joined) {
                    failure = joined.error();
                    break;
                }
            }
        }
        if (fetcher.positions().empty()) {
            if (c.exit_at_end) {
                break;
            }
            std::this_thread::sleep_for(
              std::chrono::milliseconds(200)); // nothing assigned: wait for a rebalance
            continue;
        }
        auto records = fetcher.poll();
        if (!records) {
            if (stop_requested.load()) {
                break;
            }
            failure = records.error();
            break;
        }
        out.clear();
        bool limit_reached = false;
        for (const auto& r : *records) {
            if (c.num > 0 && printed >= c.num) {
                limit_reached = true;
                break;
            }
            format->render(c.topic, r, out);
            printed_next[r.partition] = r.offset + 1;
            ++printed;
        }
        if (!write_out(out)) {
            break; // stdout closed (e.g. | head): stop quietly
        }
        if (member) {
            auto done = commit();
            if (!done) {
                failure = done.error();
                break;
            }
            if (*done == client::membership::rejoin_needed) {
                if (auto joined = join(); !joined) {
                    failure = joined.error();
                    break;
                }
            }
        }
        if (limit_reached || (c.num > 0 && printed >= c.num) || (c.exit_at_end && fetcher.at_end())) {
            break;
        }
    }
    if (member) {
        if (auto done = commit(); !done && failure.empty()) {
            failure = done.error();
        }
        member->leave();
    }
    if (!failure.empty()) {
        return fail(cmd, failure);
    }
    return exit_ok;
}

} // namespace ms::cli
