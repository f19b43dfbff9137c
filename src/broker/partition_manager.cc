#include "broker/partition_manager.h"

#include <cstdio>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "base/logging.h"

namespace ms::broker {

namespace asio = boost::asio;

void fetch_waiter::wake() {
    // Posting keeps the flag and the timer on the home thread.
    _home.post([self = shared_from_this()] {
        self->_woken = true;
        self->_timer.cancel();
    });
}

asio::awaitable<void> fetch_waiter::wait_until(std::chrono::steady_clock::time_point deadline) {
    if (_woken) {
        co_return;
    }
    _timer.expires_at(deadline);
    co_await _timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

void partition::wake_fetches() {
    for (auto& weak : waiters) {
        if (auto waiter = weak.lock()) {
            waiter->wake();
        }
    }
    waiters.clear();
}

std::filesystem::path partition_dir(const std::filesystem::path& data_dir, std::string_view topic,
                                    int32_t index) {
    return data_dir / fmt::format("{}-{}", topic, index);
}

partition_manager::partition_manager(net::shard& home, storage::flusher& flush, storage::compactor& compact,
                                     std::filesystem::path data_dir)
  : _home(home), _flush(flush), _compact(compact), _data_dir(std::move(data_dir)) {}

partition_manager::~partition_manager() {
    try {
        close_all();
    } catch (const std::exception& e) { // logging can throw; a destructor must not
        (void)std::fprintf(stderr, "closing partitions: %s\n", e.what());
    } catch (...) {
        (void)std::fprintf(stderr, "closing partitions: unknown exception\n");
    }
}

result<void, std::string> partition_manager::open(const std::string& topic, int32_t index,
                                                  const topic_config& config) {
    auto& slots = _topics[topic];
    if (slots.size() <= static_cast<size_t>(index)) {
        slots.resize(static_cast<size_t>(index) + 1);
    }
    if (slots[static_cast<size_t>(index)]) {
        return {};
    }
    storage::log_services services{&_home, &_flush, {}};
    auto log = storage::partition_log::open(partition_dir(_data_dir, topic, index), config.log, services);
    if (!log) {
        return unexpected(fmt::format("partition {}-{}: {}", topic, index, log.error().message));
    }
    const auto& rec = (*log)->recovery();
    if (!rec.clean && rec.segments_scanned > 0) {
        logging::get("broker")->info(
          "partition {}-{} recovered: {} segments and {} batches scanned, {} bytes of "
          "torn tail truncated, {} segments removed",
          topic, index, rec.segments_scanned, rec.batches_scanned, rec.bytes_truncated, rec.segments_removed);
    }
    auto p = std::make_unique<partition>();
    p->log = std::move(*log);
    p->config = config;
    slots[static_cast<size_t>(index)] = std::move(p);
    ++_count;
    return {};
}

result<void, std::string> partition_manager::remove(std::string_view topic, int32_t index) {
    auto it = _topics.find(topic);
    if (it == _topics.end() || it->second.size() <= static_cast<size_t>(index) ||
        !it->second[static_cast<size_t>(index)]) {
        return {};
    }
    auto& slot = it->second[static_cast<size_t>(index)];
    slot->wake_fetches();
    const auto dir = slot->log->dir();
    (void)slot->log->close(); // the data is being deleted: a failed final sync does not matter
    slot.reset();
    --_count;
    bool any = false;
    for (const auto& s : it->second) {
        any |= s != nullptr;
    }
    if (!any) {
        _topics.erase(it);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) {
        return unexpected(fmt::format("could not delete {}: {}", dir.string(), ec.message()));
    }
    return {};
}

partition* partition_manager::find(std::string_view topic, int32_t index) noexcept {
    auto it = _topics.find(topic);
    if (it == _topics.end() || index < 0 || it->second.size() <= static_cast<size_t>(index)) {
        return nullptr;
    }
    return it->second[static_cast<size_t>(index)].get();
}

void partition_manager::reconfigure(std::string_view topic, const topic_config& config) {
    auto it = _topics.find(topic);
    if (it == _topics.end()) {
        return;
    }
    for (auto& p : it->second) {
        if (p) {
            p->config = config;
            if (auto changed = p->log->set_config(config.log); !changed) {
                logging::get("broker")->warn("{}: config not applied: {}", p->log->dir().string(),
                                             changed.error().message);
            }
        }
    }
}

void partition_manager::apply_retention() {
    for (auto& [name, slots] : _topics) {
        for (auto& p : slots) {
            if (!p) {
                continue;
            }
            auto removed = p->log->apply_retention();
            if (!removed) {
                logging::get("broker")->warn("retention of {}: {}", p->log->dir().string(),
                                             removed.error().message);
            } else if (removed->segments_removed > 0) {
                logging::get("broker")->info("retention of {}: removed {} segments ({} bytes)",
                                             p->log->dir().string(), removed->segments_removed,
                                             removed->bytes_removed);
            }
        }
    }
}

void partition_manager::run_compaction() {
    for (auto& [name, slots] : _topics) {
        for (auto& p : slots) {
            if (p && p->log->config().compact) {
                // Logs its own outcome when the run finishes (partition_log::last_compaction()).
                (void)p->log->start_compaction(_compact);
            }
        }
    }
}

void partition_manager::close_all() {
    for (auto& [name, slots] : _topics) {
        for (auto& p : slots) {
            if (!p) {
                continue;
            }
            p->wake_fetches();
            if (auto closed = p->log->close(); !closed) {
                logging::get("broker")->error("closing {}: {} (the next start will scan this log)",
                                              p->log->dir().string(), closed.error().message);
            }
            p.reset();
        }
    }
    _topics.clear();
    _count = 0;
}

} // namespace ms::broker
