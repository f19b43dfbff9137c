#include "broker/partition_manager.h"

#include <cstdio>

#include <fmt/format.h>

#include "base/logging.h"
#include "base/parallel.h"

namespace ms::broker {

void partition::wake_fetches(bool with_data) {
    if (with_data) {
        publish_offsets();
    } else {
        published->gone.store(true, std::memory_order_release);
    }
    for (auto& weak : waiters) {
        if (auto waiter = weak.lock()) {
            waiter->wake(with_data);
        }
    }
    waiters.clear();
}

void partition::publish_offsets() noexcept {
    published->log_start.store(log->log_start_offset().value(), std::memory_order_relaxed);
    published->log_end.store(log->log_end_offset().value(), std::memory_order_relaxed);
}

std::filesystem::path partition_dir(const std::filesystem::path& data_dir, std::string_view topic,
                                    int32_t index) {
    return data_dir / fmt::format("{}-{}", topic, index);
}

partition_manager::partition_manager(net::shard& home, storage::flusher& flush, storage::compactor& compact,
                                     std::filesystem::path data_dir, storage::preallocator* space)
  : _home(home), _flush(flush), _compact(compact), _data_dir(std::move(data_dir)), _space(space) {}

partition_manager::~partition_manager() {
    try {
        close_all(nullptr);
    } catch (const std::exception& e) { // logging can throw; a destructor must not
        (void)std::fprintf(stderr, "closing partitions: %s\n", e.what());
    } catch (...) {
        (void)std::fprintf(stderr, "closing partitions: unknown exception\n");
    }
}

result<void, std::string> partition_manager::open(const std::string& topic, int32_t index,
                                                  const topic_config& config) {
    if (auto e = open_many(topic, {index}, config); !e.empty()) {
        return unexpected(std::move(e));
    }
    return {};
}

std::string partition_manager::open_many(const std::string& topic, const std::vector<int32_t>& indexes,
                                         const topic_config& config) {
    auto& slots = _topics[topic];
    std::vector<int32_t> missing;
    for (const int32_t index : indexes) {
        if (slots.size() <= static_cast<size_t>(index)) {
            slots.resize(static_cast<size_t>(index) + 1);
        }
        if (!slots[static_cast<size_t>(index)]) {
            missing.push_back(index);
        }
    }
    // Opening does file I/O only (no callbacks are posted until the log is used), so the logs of
    // different partitions can be opened on other threads and handed to this shard afterwards.
    std::vector<std::optional<storage::result<std::unique_ptr<storage::partition_log>>>> opened(
      missing.size());
    const storage::log_services services{&_home, &_flush, {}, _space};
    parallel_for(missing.size(), _flush.thread_count(), [&](size_t i) {
        opened[i].emplace(
          storage::partition_log::open(partition_dir(_data_dir, topic, missing[i]), config.log, services));
    });
    std::string first_error;
    for (size_t i = 0; i < missing.size(); ++i) {
        const int32_t index = missing[i];
        auto& log = *opened[i];
        if (!log) {
            if (first_error.empty()) {
                first_error = fmt::format("partition {}-{}: {}", topic, index, log.error().message);
            }
            continue;
        }
        const auto& rec = (*log)->recovery();
        if (!rec.clean && rec.segments_scanned > 0) {
            logging::get("broker")->info(
              "partition {}-{} recovered: {} segments and {} batches scanned, {} bytes of "
              "torn tail truncated, {} segments removed",
              topic, index, rec.segments_scanned, rec.batches_scanned, rec.bytes_truncated,
              rec.segments_removed);
        }
        auto p = std::make_unique<partition>();
        p->log = std::move(*log);
        p->config = config;
        p->publish_offsets();
        slots[static_cast<size_t>(index)] = std::move(p);
        ++_count;
    }
    return first_error;
}

result<void, std::string> partition_manager::remove(std::string_view topic, int32_t index) {
    auto it = _topics.find(topic);
    if (it == _topics.end() || it->second.size() <= static_cast<size_t>(index) ||
        !it->second[static_cast<size_t>(index)]) {
        return {};
    }
    auto& slot = it->second[static_cast<size_t>(index)];
    slot->wake_fetches(false);
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
                continue;
            }
            // A shortened retention takes effect now, not at the next periodic check.
            apply_retention_to(*p);
        }
    }
}

void partition_manager::apply_retention() {
    for (auto& [name, slots] : _topics) {
        for (auto& p : slots) {
            if (p) {
                apply_retention_to(*p);
            }
        }
    }
}

void partition_manager::apply_retention_to(partition& p) {
    auto removed = p.log->apply_retention();
    if (!removed) {
        logging::get("broker")->warn("retention of {}: {}", p.log->dir().string(), removed.error().message);
    } else if (removed->segments_removed > 0) {
        logging::get("broker")->info("retention of {}: removed {} segments ({} bytes)", p.log->dir().string(),
                                     removed->segments_removed, removed->bytes_removed);
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

void partition_manager::close_all(const storage::file* filesystem) {
    std::vector<std::unique_ptr<partition>> closing;
    for (auto& [name, slots] : _topics) {
        for (auto& p : slots) {
            if (p) {
                p->wake_fetches(false);
                closing.push_back(std::move(p));
            }
        }
    }
    _topics.clear();
    _count = 0;
    // The logs' final syncs and checkpoint writes run together (flusher::run_together): with
    // 10,000 loaded partitions, one log after the other took 13 s, file by file on 8 threads
    // 1.8 s, together 1.0-1.7 s. The steps before and after stay here.
    std::vector<std::variant<storage::flush_job, storage::result<void>>> steps;
    steps.reserve(closing.size());
    for (auto& p : closing) {
        steps.push_back(p->log->begin_close());
    }
    std::vector<const storage::flush_job*> jobs;
    for (const auto& step : steps) {
        if (const auto* job = std::get_if<storage::flush_job>(&step)) {
            jobs.push_back(job);
        }
    }
    auto synced = storage::flusher::run_together(jobs, filesystem, _flush.thread_count());
    size_t next_synced = 0;
    for (size_t i = 0; i < closing.size(); ++i) {
        // Without a job, begin_close() already had the outcome (closed before, or failed).
        auto closed = std::holds_alternative<storage::flush_job>(steps[i])
                        ? closing[i]->log->finish_close(std::move(synced[next_synced++]))
                        : std::get<storage::result<void>>(std::move(steps[i]));
        if (!closed) {
            logging::get("broker")->error("closing {}: {} (the next start may scan this log)",
                                          closing[i]->log->dir().string(), closed.error().message);
        }
    }
}

} // namespace ms::broker
