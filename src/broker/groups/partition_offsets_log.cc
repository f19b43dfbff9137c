#include "broker/groups/partition_offsets_log.h"

#include <chrono>

#include <fmt/format.h>

#include "base/clock.h"
#include "base/logging.h"
#include "model/record_batch_builder.h"
#include "model/record_reader.h"
#include "model/record_set.h"

namespace ms::broker::groups {

namespace {

std::string_view as_text(const bytes& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()}; // NOLINT: bytes viewed as chars
}

} // namespace

void partition_offsets_log::append(int32_t index, std::vector<log_record> records,
                                   std::function<void(store_errc)> done) {
    partition* p = _partitions.find(offsets_topic, index);
    if (p == nullptr || records.empty()) {
        done(p == nullptr ? store_errc::unavailable : store_errc::none);
        return;
    }
    const model::timestamp ts(wall_clock_ms());
    model::record_batch_builder builder(ts);
    for (const auto& r : records) {
        std::optional<std::string_view> value;
        if (r.value) {
            value = as_text(*r.value);
        }
        builder.add(as_text(r.key), value, ts);
    }
    const iobuf batch = builder.build();
    if (batch.size() > p->log->config().max_batch_bytes) {
        done(store_errc::too_large);
        return;
    }
    auto appended = p->log->append(batch);
    if (!appended) {
        const bool too_large = appended.error().code == storage::errc::invalid_batch &&
                               appended.error().batch_error == model::batch_errc::too_large;
        logging::get("groups")->warn("{}-{}: cannot store group records: {}", offsets_topic, index,
                                     appended.error().message);
        done(too_large ? store_errc::too_large : store_errc::unavailable);
        return;
    }
    p->wake_fetches();
    p->log->sync([done = std::move(done)](const storage::result<model::offset>& synced) {
        done(synced ? store_errc::none : store_errc::unavailable);
    });
}

result<load_report, std::string> load_groups(partition_manager& partitions, int32_t partition_count,
                                             group_manager& groups) {
    load_report report;
    auto log = logging::get("groups");
    std::vector<std::byte> buffer;
    model::record_reader reader;
    for (int32_t index = 0; index < partition_count; ++index) {
        partition* p = partitions.find(offsets_topic, index);
        if (p == nullptr) {
            continue; // another shard's
        }
        ++report.partitions;
        model::offset next = p->log->log_start_offset();
        while (next < p->log->log_end_offset()) {
            auto read = p->log->read(next, 4U << 20U);
            if (!read) {
                return unexpected(fmt::format("{}-{}: {}", offsets_topic, index, read.error().message));
            }
            if (read->empty()) {
                break;
            }
            for (const auto& slice : read->slices) {
                buffer.resize(slice.length);
                if (auto r = slice.source->read_exact(slice.position, buffer); !r) {
                    return unexpected(fmt::format("{}-{}: {}", offsets_topic, index, r.error().message));
                }
                // The log holds whole batches only: a partial or damaged one is damage.
                std::string failure;
                const auto end = model::for_each_whole_batch(
                  buffer, [&](const model::record_batch_header& header, std::span<const std::byte> batch) {
                      if (!reader.reset(batch)) {
                          failure = fmt::format("{}-{}: a batch that cannot be read at offset {}",
                                                offsets_topic, index, header.base_offset.value());
                          return false;
                      }
                      auto walked = reader.for_each([&](const model::record_view& rec) {
                          ++report.records;
                          if (!rec.key) {
                              ++report.skipped;
                              return;
                          }
                          auto applied = groups.replay(index, *rec.key, rec.value);
                          if (!applied) {
                              ++report.skipped;
                              log->warn("{}-{}: skipping a record at offset {}: {}", offsets_topic, index,
                                        header.base_offset.value() + rec.offset_delta, applied.error());
                          }
                      });
                      if (!walked) {
                          failure = fmt::format("{}-{}: records that cannot be read at offset {}",
                                                offsets_topic, index, header.base_offset.value());
                          return false;
                      }
                      return true;
                  });
                if (!failure.empty()) {
                    return unexpected(std::move(failure));
                }
                if (end != model::record_set_end::complete) {
                    return unexpected(fmt::format("{}-{}: a damaged batch in the log", offsets_topic, index));
                }
            }
            next = read->next_offset;
        }
    }
    groups.loaded();
    return report;
}

} // namespace ms::broker::groups
