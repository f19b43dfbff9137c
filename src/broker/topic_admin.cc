// The controller's topic changes after creation: dynamic configs (AlterConfigs and
// IncrementalAlterConfigs) and more partitions (CreatePartitions). Like creation and deletion they
// run on shard 0, change the table, save it, and publish it to every shard.
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "base/logging.h"
#include "broker/broker.h"
#include "broker/groups/partition_offsets_log.h"
#include "protocol/kafka_error.h"

namespace ms::broker {

namespace asio = boost::asio;
using protocol::code;
using protocol::kafka_error;

asio::awaitable<std::vector<admin_outcome>>
broker::alter_topic_configs(std::vector<topic_config_update> updates, bool validate_only) {
    co_return co_await asio::co_spawn(
      _shards.at(0).context(), controller_alter(std::move(updates), validate_only), asio::use_awaitable);
}

asio::awaitable<std::vector<admin_outcome>>
broker::create_partitions(std::vector<partition_addition> additions, bool validate_only) {
    co_return co_await asio::co_spawn(_shards.at(0).context(),
                                      controller_add_partitions(std::move(additions), validate_only),
                                      asio::use_awaitable);
}

asio::awaitable<std::string> broker::open_partitions(const topic_metadata& topic, int32_t from) {
    const std::string name = topic.name;
    const int32_t count = topic.partitions;
    const topic_config config = topic.config;
    // Every shard opens its partitions at the same time. A named lambda, not a temporary in the
    // co_await: GCC 12 destroys such temporaries twice.
    auto open_here = [this, name, from, count, config](net::shard_id s, auto reply) {
        std::vector<int32_t> here;
        for (int32_t p = from; p < count; ++p) {
            if (shard_of(name, p) == s) {
                here.push_back(p);
            }
        }
        reply(_managers[s]->open_many(name, here, config));
    };
    std::vector<net::shard_id> every_shard;
    for (net::shard_id s = 0; s < _shards.size(); ++s) {
        every_shard.push_back(s);
    }
    const std::vector<std::string> errors =
      co_await net::call_on_each<std::string>(_shards, every_shard, open_here);
    for (const auto& e : errors) {
        if (!e.empty()) {
            co_return e;
        }
    }
    co_return std::string();
}

asio::awaitable<std::vector<admin_outcome>> broker::controller_alter(std::vector<topic_config_update> updates,
                                                                     bool validate_only) {
    std::vector<admin_outcome> outcomes(updates.size());
    std::vector<std::pair<std::string, topic_metadata>> before; // to restore if saving fails
    std::set<std::string, std::less<>> seen;
    for (size_t i = 0; i < updates.size(); ++i) {
        const topic_config_update& u = updates[i];
        admin_outcome& out = outcomes[i];
        auto fail = [&](kafka_error e, std::string message) {
            out.error_code = code(e);
            out.error_message = std::move(message);
        };
        if (!seen.insert(u.name).second) {
            fail(kafka_error::invalid_request,
                 fmt::format("topic '{}' appears twice in the request", u.name));
            continue;
        }
        auto it = _topics.find(u.name);
        if (it == _topics.end()) {
            fail(kafka_error::unknown_topic_or_partition, fmt::format("topic '{}' does not exist", u.name));
            continue;
        }
        std::set<std::string, std::less<>> names;
        bool repeated = false;
        for (const config_change& c : u.changes) {
            repeated |= !names.insert(c.name).second;
        }
        if (repeated) {
            fail(kafka_error::invalid_request, "a config appears twice for the same topic");
            continue;
        }
        result<config_overrides, std::string> overrides = config_overrides{};
        if (u.incremental) {
            overrides = apply_config_changes(it->second.overrides, it->second.config, u.changes);
        } else {
            // AlterConfigs replaces every override; entries without a value are left unset.
            for (const config_change& c : u.changes) {
                if (c.value) {
                    (*overrides)[c.name] = *c.value;
                }
            }
        }
        if (!overrides) {
            fail(kafka_error::invalid_config, overrides.error());
            continue;
        }
        auto config = make_topic_config(*overrides, _config.topics);
        if (!config) {
            fail(kafka_error::invalid_config, config.error());
            continue;
        }
        if (validate_only) {
            continue;
        }
        before.emplace_back(u.name, it->second);
        it->second.overrides = std::move(*overrides);
        it->second.config = *config;
    }
    if (before.empty()) {
        co_return outcomes;
    }
    if (auto saved = save_topics(_config.data_dir, _topics); !saved) {
        for (auto& [name, old] : before) {
            for (size_t i = 0; i < updates.size(); ++i) {
                if (updates[i].name == name && outcomes[i].error_code == 0) {
                    outcomes[i] = {code(kafka_error::kafka_storage_error), saved.error()};
                }
            }
            _topics[name] = std::move(old);
        }
        co_return outcomes;
    }
    publish_topics();
    for (const auto& [name, old] : before) {
        const topic_config config = _topics.at(name).config;
        const std::string topic = name;
        auto apply_here = [this, topic, config](net::shard_id s, auto reply) {
            _managers[s]->reconfigure(topic, config);
            reply(true);
        };
        std::vector<net::shard_id> every_shard;
        for (net::shard_id s = 0; s < _shards.size(); ++s) {
            every_shard.push_back(s);
        }
        (void)co_await net::call_on_each<bool>(_shards, every_shard, apply_here);
        logging::get("broker")->info("topic {}: configs changed", name);
    }
    co_return outcomes;
}

asio::awaitable<std::vector<admin_outcome>>
broker::controller_add_partitions(std::vector<partition_addition> additions, bool validate_only) {
    std::vector<admin_outcome> outcomes(additions.size());
    std::vector<std::pair<std::string, int32_t>> grown; // topic, old count
    std::set<std::string, std::less<>> seen;
    for (size_t i = 0; i < additions.size(); ++i) {
        const partition_addition& a = additions[i];
        admin_outcome& out = outcomes[i];
        auto fail = [&](kafka_error e, std::string message) {
            out.error_code = code(e);
            out.error_message = std::move(message);
        };
        if (!seen.insert(a.name).second) {
            fail(kafka_error::invalid_request,
                 fmt::format("topic '{}' appears twice in the request", a.name));
            continue;
        }
        auto it = _topics.find(a.name);
        if (it == _topics.end()) {
            fail(kafka_error::unknown_topic_or_partition, fmt::format("topic '{}' does not exist", a.name));
            continue;
        }
        const int32_t current = it->second.partitions;
        if (a.name == groups::offsets_topic) {
            fail(kafka_error::invalid_partitions,
                 fmt::format("{} is internal: groups are mapped to its partitions by their count", a.name));
            continue;
        }
        if (a.count == current) {
            fail(kafka_error::invalid_partitions, fmt::format("topic already has {} partitions", current));
            continue;
        }
        if (a.count < current) {
            fail(kafka_error::invalid_partitions,
                 fmt::format("topic currently has {} partitions, which is higher than the requested {}; "
                             "partitions cannot be removed",
                             current, a.count));
            continue;
        }
        if (a.count > max_partitions_per_topic) {
            fail(kafka_error::invalid_partitions, fmt::format("partition count {} is above the limit of {}",
                                                              a.count, max_partitions_per_topic));
            continue;
        }
        if (!a.assignment_size_ok) {
            fail(kafka_error::invalid_replica_assignment,
                 fmt::format("the assignment must list exactly {} new partitions", a.count - current));
            continue;
        }
        if (!a.assignment_ok) {
            fail(kafka_error::invalid_replica_assignment,
                 fmt::format("replica assignments may only name this broker (node {}), once per partition",
                             _config.node_id));
            continue;
        }
        if (validate_only) {
            continue;
        }
        grown.emplace_back(a.name, current);
        it->second.partitions = a.count;
    }
    if (grown.empty()) {
        co_return outcomes;
    }
    // The table first, as for creation: after a crash in between, start-up opens the missing logs.
    if (auto saved = save_topics(_config.data_dir, _topics); !saved) {
        for (const auto& [name, old_count] : grown) {
            _topics.at(name).partitions = old_count;
            for (size_t i = 0; i < additions.size(); ++i) {
                if (additions[i].name == name && outcomes[i].error_code == 0) {
                    outcomes[i] = {code(kafka_error::kafka_storage_error), saved.error()};
                }
            }
        }
        co_return outcomes;
    }
    for (const auto& [name, old_count] : grown) {
        const topic_metadata topic = _topics.at(name); // a copy: the table may change meanwhile
        const std::string failure = co_await open_partitions(topic, old_count);
        if (!failure.empty()) {
            logging::get("broker")->error("adding partitions to {}: {}", name, failure);
            for (size_t i = 0; i < additions.size(); ++i) {
                if (additions[i].name == name) {
                    outcomes[i] = {code(kafka_error::kafka_storage_error), failure};
                }
            }
        } else {
            logging::get("broker")->info("topic {}: {} -> {} partitions", name, old_count, topic.partitions);
        }
    }
    publish_topics();
    co_return outcomes;
}

} // namespace ms::broker
