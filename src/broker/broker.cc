#include "broker/broker.h"

#include <sys/file.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <set>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "base/logging.h"
#include "broker/dispatcher.h"
#include "protocol/kafka_error.h"
#include "storage/file.h"

namespace ms::broker {

namespace asio = boost::asio;
using protocol::code;
using protocol::kafka_error;

namespace {
size_t shard_count(size_t requested) {
    if (requested > 0) {
        return requested;
    }
    return std::max<size_t>(1, std::thread::hardware_concurrency());
}
} // namespace

broker::broker(broker_config config)
  : _config(std::move(config)), _shards(shard_count(_config.smp), _config.pin_shards, _config.idle_spin),
    _flusher(_config.flush_threads),
    _preallocator(_config.preallocate_bytes > 0
                    ? std::make_unique<storage::preallocator>(_config.preallocate_bytes)
                    : nullptr) {
    for (net::shard_id i = 0; i < _shards.size(); ++i) {
        _managers.push_back(std::make_unique<partition_manager>(_shards.at(i), _flusher, _compactor,
                                                                _config.data_dir, _preallocator.get()));
    }
    _snapshots.resize(_shards.size());
    for (net::shard_id i = 0; i < _shards.size(); ++i) {
        _group_logs.push_back(std::make_unique<groups::partition_offsets_log>(*_managers[i]));
        _group_managers.push_back(std::make_unique<groups::group_manager>(_config.groups, *_group_logs[i]));
        _metrics.push_back(std::make_unique<shard_metrics>());
    }
}

broker::~broker() {
    try {
        stop();
    } catch (const std::exception& e) { // logging can throw; a destructor must not
        (void)std::fprintf(stderr, "stopping the broker: %s\n", e.what());
    } catch (...) {
        (void)std::fprintf(stderr, "stopping the broker: unknown exception\n");
    }
}

net::shard_id broker::shard_of(std::string_view topic, int32_t partition) const noexcept {
    const size_t h = std::hash<std::string_view>{}(topic) + static_cast<size_t>(partition);
    return static_cast<net::shard_id>(h % _shards.size());
}

partition_manager& broker::partitions_here() noexcept {
    return *_managers[net::shard::current()->id()];
}

net::shard_id broker::group_shard(std::string_view group_id) const noexcept {
    return shard_of(groups::offsets_topic, groups::partition_for(group_id, _offsets_partitions));
}

groups::group_manager& broker::groups_here() noexcept {
    return *_group_managers[net::shard::current()->id()];
}

const topic_map& broker::topics_here() const noexcept {
    return *_snapshots[net::shard::current()->id()];
}

topic_snapshot broker::topics_snapshot_here() const noexcept {
    return _snapshots[net::shard::current()->id()];
}

shard_metrics& broker::metrics_here() noexcept {
    return *_metrics[net::shard::current()->id()];
}

void broker::run_on_every_shard(const std::function<void(net::shard_id)>& fn) {
    std::vector<std::future<void>> done;
    for (net::shard_id i = 0; i < _shards.size(); ++i) {
        auto task = std::make_shared<std::packaged_task<void()>>([&fn, i] { fn(i); });
        done.push_back(task->get_future());
        _shards.at(i).post([task] { (*task)(); });
    }
    for (auto& f : done) {
        f.get();
    }
}

result<void, std::string> broker::load_cluster_id() {
    const auto path = _config.data_dir / "cluster_id";
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        auto text = storage::read_small_file(path);
        if (!text) {
            return unexpected(text.error().message);
        }
        _cluster_id = *text;
        while (!_cluster_id.empty() && _cluster_id.back() == '\n') {
            _cluster_id.pop_back();
        }
        return {};
    }
    const protocol::uuid id = random_topic_id();
    _cluster_id = "ms-";
    for (size_t i = 0; i < 8; ++i) {
        _cluster_id += fmt::format("{:02x}", static_cast<unsigned>(id.bytes[i]));
    }
    const std::string text = _cluster_id + "\n";
    if (auto written = storage::write_file_atomic(path, std::as_bytes(std::span(text))); !written) {
        return unexpected(written.error().message);
    }
    return {};
}

result<void, std::string> broker::lock_data_dir() {
    const auto path = _config.data_dir / ".lock";
    auto lock = storage::file::open(path, storage::open_mode::read_write_create);
    if (!lock) {
        return unexpected(lock.error().message);
    }
    if (::flock(lock->fd(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            return unexpected(fmt::format("data directory {} is in use by another running broker; stop it or "
                                          "choose another --data-dir",
                                          _config.data_dir.string()));
        }
        return unexpected(fmt::format("cannot lock {}: {}", path.string(), std::strerror(errno)));
    }
    // Held (and the lock with it) until the broker is destroyed. Opened before any log, it is
    // also the descriptor whose syncfs at shutdown reports every writeback error since.
    _data_dir_lock = std::move(*lock);
    return {};
}

result<void, std::string> broker::start() {
    auto log = logging::get("broker");
    std::error_code ec;
    std::filesystem::create_directories(_config.data_dir, ec);
    if (ec) {
        return unexpected(fmt::format("cannot create data directory {}: {} (choose another with --data-dir)",
                                      _config.data_dir.string(), ec.message()));
    }
    if (auto locked = lock_data_dir(); !locked) {
        return unexpected(locked.error());
    }
    const auto& host = _config.listen.host;
    if (!_config.advertise && (host == "0.0.0.0" || host == "::")) {
        return unexpected(
          fmt::format("listening on {} (every interface) needs --advertise HOST:PORT: the address "
                      "clients are told to connect to",
                      host));
    }
    if (auto id = load_cluster_id(); !id) {
        return unexpected(id.error());
    }
    auto loaded = load_topics(_config.data_dir, _config.topics);
    if (!loaded) {
        return unexpected(loaded.error());
    }
    _topics = std::move(*loaded);
    if (auto internal = ensure_offsets_topic(); !internal) {
        return unexpected(internal.error());
    }
    const auto snapshot = std::make_shared<const topic_map>(_topics);
    for (auto& s : _snapshots) {
        s = snapshot;
    }
    _shards.start();
    _shards_running = true;

    const auto started = std::chrono::steady_clock::now();
    size_t partitions = 0;
    std::vector<std::string> errors(_shards.size());
    run_on_every_shard([&](net::shard_id shard) {
        for (const auto& [name, t] : _topics) {
            std::vector<int32_t> here;
            for (int32_t p = 0; p < t.partitions; ++p) {
                if (shard_of(name, p) == shard) {
                    here.push_back(p);
                }
            }
            if (auto e = _managers[shard]->open_many(name, here, t.config);
                !e.empty() && errors[shard].empty()) {
                errors[shard] = std::move(e);
            }
        }
    });
    for (const auto& e : errors) {
        if (!e.empty()) {
            return unexpected(e);
        }
    }
    for (const auto& m : _managers) {
        partitions += m->size();
    }
    log->info(
      "opened {} topics, {} partitions in {} ms ({} shards)", _topics.size(), partitions,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
        .count(),
      _shards.size());

    if (auto groups_loaded = load_groups(); !groups_loaded) {
        return unexpected(groups_loaded.error());
    }

    _dispatcher = std::make_unique<dispatcher>(*this);
    _server = std::make_unique<net::server>(_shards, *_dispatcher, _config.limits);
    if (auto listening = _server->listen(_config.listen); !listening) {
        return unexpected(listening.error());
    }
    // Every timer exists before any loop starts: the loops run at once on their shards, and must
    // not read the vector while this thread is still growing it.
    for (net::shard_id i = 0; i < _shards.size(); ++i) {
        auto& ctx = _shards.at(i).context();
        _timers.push_back({std::make_unique<asio::steady_timer>(ctx),
                           std::make_unique<asio::steady_timer>(ctx),
                           std::make_unique<asio::steady_timer>(ctx)});
    }
    for (net::shard_id i = 0; i < _shards.size(); ++i) {
        auto& ctx = _shards.at(i).context();
        std::function<void()> retention = [this, i] { _managers[i]->apply_retention(); };
        std::function<void()> compaction = [this, i] { _managers[i]->run_compaction(); };
        // Session timeouts, rebalance deadlines and offset retention; 100 ms is well below the
        // smallest session timeout a client may ask for.
        std::function<void()> group_timeouts = [this, i] {
            const auto report = _group_managers[i]->tick();
            if (report.offsets_expired > 0 || report.groups_removed > 0) {
                logging::get("groups")->info(
                  "offset retention: {} committed offsets expired, {} empty groups removed",
                  report.offsets_expired, report.groups_removed);
            }
        };
        asio::co_spawn(
          ctx, periodic(*_timers[i].retention, _config.retention_check_interval, std::move(retention)),
          asio::detached);
        asio::co_spawn(ctx, periodic(*_timers[i].compaction, _config.cleaner_backoff, std::move(compaction)),
                       asio::detached);
        asio::co_spawn(
          ctx, periodic(*_timers[i].groups, std::chrono::milliseconds(100), std::move(group_timeouts)),
          asio::detached);
    }
    log->info("Kafka API on {}:{} (advertised as {}:{}), data in {}", _config.listen.host,
              _server->bound_port(), _config.advertised().host,
              _config.advertise ? _config.advertise->port : _server->bound_port(), _config.data_dir.string());
    _serving = true;
    return {};
}

void broker::stop() {
    if (_stopping) {
        return;
    }
    _stopping = true;
    _serving = false;
    if (!_shards_running) { // start() failed before anything ran: nothing to drain or close
        return;
    }
    auto log = logging::get("broker");
    // Members waiting in JoinGroup/SyncGroup are answered NOT_COORDINATOR at once rather than
    // holding the drain for the whole grace period; they find the coordinator again after restart.
    run_on_every_shard([this](net::shard_id shard) {
        if (shard < _timers.size()) {
            _timers[shard].groups->cancel();
        }
        _group_managers[shard]->shutdown();
    });
    if (_server) {
        log->info("shutting down: finishing requests in flight");
        _server->drain(_config.shutdown_grace);
    }
    run_on_every_shard([this](net::shard_id shard) {
        if (shard < _timers.size()) {
            _timers[shard].retention->cancel();
            _timers[shard].compaction->cancel();
        }
        _managers[shard]->close_all(_data_dir_lock.is_open() ? &_data_dir_lock : nullptr);
    });
    _shards.stop();
    log->info("shutdown complete: every log synced and closed cleanly");
}

asio::awaitable<void> broker::periodic(asio::steady_timer& timer, std::chrono::milliseconds interval,
                                       std::function<void()> work) {
    while (!_stopping) {
        timer.expires_after(interval);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || _stopping) {
            co_return;
        }
        work();
    }
}

result<void, std::string> broker::ensure_offsets_topic() {
    const std::string name(groups::offsets_topic);
    if (auto it = _topics.find(name); it != _topics.end()) {
        _offsets_partitions = it->second.partitions;
        if (_offsets_partitions != _config.groups.offsets_partitions) {
            logging::get("groups")->warn(
              "{} has {} partitions; offsets.topic.num.partitions={} applies only when "
              "it is created",
              name, _offsets_partitions, _config.groups.offsets_partitions);
        }
        return {};
    }
    // Compacted: only the newest record per group and partition matters. Big batches: a group
    // record holds every member's subscription and assignment.
    const config_overrides overrides{{"cleanup.policy", "compact"},
                                     {"segment.bytes", std::to_string(_config.groups.offsets_segment_bytes)},
                                     {"max.message.bytes", "16777216"}};
    auto config = make_topic_config(overrides, _config.topics);
    if (!config) {
        return unexpected(fmt::format("{}: {}", name, config.error()));
    }
    topic_metadata meta;
    meta.name = name;
    meta.partitions = _config.groups.offsets_partitions;
    meta.id = random_topic_id();
    meta.overrides = overrides;
    meta.config = *config;
    _topics.emplace(name, std::move(meta));
    if (auto saved = save_topics(_config.data_dir, _topics); !saved) {
        return unexpected(saved.error());
    }
    _offsets_partitions = _config.groups.offsets_partitions;
    return {};
}

result<void, std::string> broker::load_groups() {
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::string> errors(_shards.size());
    std::vector<groups::load_report> reports(_shards.size());
    run_on_every_shard([&](net::shard_id shard) {
        auto loaded = groups::load_groups(*_managers[shard], _offsets_partitions, *_group_managers[shard]);
        if (loaded) {
            reports[shard] = *loaded;
        } else {
            errors[shard] = loaded.error();
        }
    });
    groups::load_report total;
    size_t group_count = 0;
    for (net::shard_id i = 0; i < _shards.size(); ++i) {
        if (!errors[i].empty()) {
            return unexpected(fmt::format("loading consumer groups: {}", errors[i]));
        }
        total.records += reports[i].records;
        total.skipped += reports[i].skipped;
        group_count += _group_managers[i]->group_count();
    }
    logging::get("groups")->info(
      "loaded {} consumer groups from {} records of {} in {} ms{}", group_count, total.records,
      groups::offsets_topic,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
        .count(),
      total.skipped > 0 ? fmt::format(" ({} records skipped)", total.skipped) : std::string());
    return {};
}

void broker::publish_topics() {
    const auto snapshot = std::make_shared<const topic_map>(_topics);
    // Shard 0 (this thread) takes it now, so a request on shard 0 that awaited the change sees it.
    _snapshots[0] = snapshot;
    for (net::shard_id i = 1; i < _shards.size(); ++i) {
        _shards.at(i).post([this, i, snapshot] { _snapshots[i] = snapshot; });
    }
}

asio::awaitable<std::vector<topic_outcome>> broker::create_topics(std::vector<topic_creation> topics,
                                                                  bool validate_only) {
    co_return co_await asio::co_spawn(
      _shards.at(0).context(), controller_create(std::move(topics), validate_only), asio::use_awaitable);
}

asio::awaitable<std::vector<topic_outcome>> broker::delete_topics(std::vector<std::string> names) {
    co_return co_await asio::co_spawn(_shards.at(0).context(), controller_delete(std::move(names)),
                                      asio::use_awaitable);
}

asio::awaitable<std::vector<topic_outcome>> broker::controller_create(std::vector<topic_creation> topics,
                                                                      bool validate_only) {
    std::vector<topic_outcome> outcomes;
    std::vector<topic_metadata> created; // copies: the table may change while this coroutine waits
    std::set<std::string, std::less<>> seen;
    for (auto& t : topics) {
        topic_outcome& out = outcomes.emplace_back();
        out.name = t.name;
        auto fail = [&](kafka_error e, std::string message) {
            out.error_code = code(e);
            out.error_message = std::move(message);
        };
        if (auto why = invalid_topic_name(t.name)) {
            fail(kafka_error::invalid_topic_exception, *why);
            continue;
        }
        if (!seen.insert(t.name).second) {
            fail(kafka_error::invalid_request,
                 fmt::format("topic '{}' appears twice in the request", t.name));
            continue;
        }
        if (_topics.contains(t.name)) {
            fail(kafka_error::topic_already_exists, fmt::format("topic '{}' already exists", t.name));
            continue;
        }
        const int32_t count = t.partitions == -1 ? _config.num_partitions : t.partitions;
        if (count < 1 || count > max_partitions_per_topic) {
            fail(kafka_error::invalid_partitions,
                 fmt::format("partition count {} is outside 1..{}", t.partitions, max_partitions_per_topic));
            continue;
        }
        if (t.replication_factor != -1 && t.replication_factor != 1) {
            fail(kafka_error::invalid_replication_factor,
                 fmt::format("replication factor {} is larger than the number of brokers (1)",
                             t.replication_factor));
            continue;
        }
        if (!t.manual_assignment_ok) {
            fail(kafka_error::invalid_replica_assignment,
                 "replica assignments may only name this broker (node 0)");
            continue;
        }
        auto config = make_topic_config(t.configs, _config.topics);
        if (!config) {
            fail(kafka_error::invalid_config, config.error());
            continue;
        }
        topic_metadata meta;
        meta.name = t.name;
        meta.partitions = count;
        meta.id = random_topic_id();
        meta.overrides = t.configs;
        meta.config = *config;
        out.topic = meta;
        if (!validate_only) {
            created.push_back(meta);
            _topics.emplace(t.name, std::move(meta));
        }
    }
    if (created.empty()) {
        co_return outcomes;
    }
    // The table is written before the logs exist: after a crash in between, start-up creates the
    // missing logs; the other order could leave directories no table knows about.
    if (auto saved = save_topics(_config.data_dir, _topics); !saved) {
        for (const topic_metadata& t : created) {
            for (auto& out : outcomes) {
                if (out.name == t.name) {
                    out.error_code = code(kafka_error::kafka_storage_error);
                    out.error_message = saved.error();
                    out.topic.reset();
                }
            }
        }
        for (const topic_metadata& t : created) {
            _topics.erase(t.name);
        }
        co_return outcomes;
    }
    for (const topic_metadata& created_topic : created) {
        const topic_metadata* t = &created_topic;
        const std::string failure = co_await open_partitions(*t, 0);
        if (!failure.empty()) {
            logging::get("broker")->error("creating topic {}: {}", t->name, failure);
            for (auto& out : outcomes) {
                if (out.name == t->name) {
                    out.error_code = code(kafka_error::kafka_storage_error);
                    out.error_message = failure;
                }
            }
        } else {
            logging::get("broker")->info("created topic {} with {} partitions", t->name, t->partitions);
        }
    }
    publish_topics();
    co_return outcomes;
}

asio::awaitable<std::vector<topic_outcome>> broker::controller_delete(std::vector<std::string> names) {
    std::vector<topic_outcome> outcomes;
    std::vector<topic_metadata> removed;
    for (auto& name : names) {
        topic_outcome& out = outcomes.emplace_back();
        out.name = name;
        auto it = _topics.find(name);
        if (it == _topics.end()) {
            out.error_code = code(kafka_error::unknown_topic_or_partition);
            out.error_message = fmt::format("topic '{}' does not exist", name);
            continue;
        }
        if (name == groups::offsets_topic) {
            out.error_code = code(kafka_error::invalid_topic_exception);
            out.error_message = fmt::format("{} is internal: it holds every group's committed offsets", name);
            continue;
        }
        out.topic = it->second;
        removed.push_back(std::move(it->second));
        _topics.erase(it);
    }
    if (removed.empty()) {
        co_return outcomes;
    }
    if (auto saved = save_topics(_config.data_dir, _topics); !saved) {
        for (auto& t : removed) {
            for (auto& out : outcomes) {
                if (out.name == t.name) {
                    out.error_code = code(kafka_error::kafka_storage_error);
                    out.error_message = saved.error();
                }
            }
            _topics.emplace(t.name, std::move(t));
        }
        co_return outcomes;
    }
    publish_topics();
    for (const auto& t : removed) {
        for (net::shard_id s = 0; s < _shards.size(); ++s) {
            const std::string name = t.name;
            const int32_t count = t.partitions;
            auto remove_here = [this, s, name, count](auto reply) {
                std::string error;
                for (int32_t p = 0; p < count; ++p) {
                    if (shard_of(name, p) == s) {
                        if (auto gone = _managers[s]->remove(name, p); !gone && error.empty()) {
                            error = gone.error();
                        }
                    }
                }
                reply(std::move(error));
            };
            std::string e = co_await net::call_on<std::string>(_shards.at(s), remove_here);
            if (!e.empty()) {
                logging::get("broker")->warn("deleting topic {}: {}", name, e);
            }
        }
        logging::get("broker")->info("deleted topic {}", t.name);
    }
    co_return outcomes;
}

} // namespace ms::broker
