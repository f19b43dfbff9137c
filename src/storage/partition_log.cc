#include "storage/partition_log.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/clock.h"
#include "base/endian.h"
#include "base/logging.h"
#include "model/record_reader.h"
#include "storage/compaction.h"

namespace ms::storage {

namespace {

// Recovery accepts any batch size a segment can hold: the topic's limit may have shrunk since.
constexpr uint64_t recovery_max_batch_bytes = std::numeric_limits<int32_t>::max();

spdlog::logger& logger() {
    static const std::shared_ptr<spdlog::logger> storage = logging::get("storage");
    return *storage;
}

error closed_error(const std::filesystem::path& dir) {
    return error{errc::closed, fmt::format("partition log {} is closed", dir.string())};
}

// A compacted log keeps the newest record per key, so every record needs one (Kafka answers
// INVALID_RECORD; invalid_record_count maps to it).
result<void> check_keys(const iobuf& batch) {
    model::record_reader reader;
    bool keyless = false;
    auto walked = reader.reset(batch);
    if (walked) {
        walked = reader.for_each([&](const model::record_view& r) { keyless |= !r.key.has_value(); });
    }
    if (!walked) {
        return unexpected(
          error{errc::invalid_batch, std::string(model::describe(walked.error())), walked.error()});
    }
    if (keyless) {
        return unexpected(error{errc::invalid_batch,
                                "a compacted topic (cleanup.policy=compact) refuses records without a key",
                                model::batch_errc::invalid_record_count});
    }
    return {};
}

} // namespace

partition_log::partition_log(std::filesystem::path dir, log_config config, log_services services)
  : _dir(std::move(dir)), _config(config), _services(std::move(services)),
    _alive(std::make_shared<liveness>(liveness{this})) {}

partition_log::~partition_log() {
    abandon_compaction();
    if (_flight) {
        // The job may still write this directory's checkpoint: let it finish before anyone can
        // reopen the log. Its posted completion sees a dead log and does nothing.
        _flight->finished.wait();
    }
    _alive->log = nullptr;
}

result<std::unique_ptr<partition_log>> partition_log::open(std::filesystem::path dir, log_config config,
                                                           log_services services) {
    if (auto valid = config.validate(); !valid) {
        return unexpected(std::move(valid.error()));
    }
    if (services.owner == nullptr || services.flush == nullptr) {
        return unexpected(error{errc::invalid_config, "partition log needs an owner executor and a flusher"});
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return unexpected(
          error{errc::io_error, fmt::format("create directory {}: {}", dir.string(), ec.message())});
    }
    std::unique_ptr<partition_log> log(new partition_log(std::move(dir), config, std::move(services)));
    if (auto r = log->recover(); !r) {
        return unexpected(std::move(r.error()));
    }
    return log;
}

int64_t partition_log::now_ms() const {
    if (_services.now_ms) {
        return _services.now_ms();
    }
    return wall_clock_ms();
}

result<void> partition_log::recover() {
    std::set<int64_t> bases;
    auto listing = list_directory(_dir);
    if (!listing) {
        return unexpected(std::move(listing.error()));
    }
    for (const std::filesystem::path& p : *listing) {
        if (p.extension() == ".tmp" || p.extension() == cleaned_suffix) {
            // An atomic write that never finished, or a compaction run's copy never swapped in.
            if (auto removed = remove_file(p); !removed) {
                // Harmless: the next atomic write of that file starts by truncating it.
                logger().warn("{}", removed.error().message);
            }
            continue;
        }
        if (p.extension() == ".log") {
            if (auto base = segment::parse_stem(p.stem().string())) {
                bases.insert(base->value());
            }
        }
    }

    auto checkpoint = log_checkpoint::read(_dir);
    std::optional<log_checkpoint> ck;
    if (checkpoint) {
        ck = *checkpoint;
    } else {
        logger().warn("{}", checkpoint.error().message);
    }

    // Which segments to trust: all of them after a clean close whose last segment is unchanged,
    // else those below the recovery point.
    bool clean = false;
    if (ck && ck->clean && !bases.empty() && ck->active_base_offset.value() == *bases.rbegin()) {
        auto last = stat_file(_dir / (segment::file_stem(ck->active_base_offset) + ".log"));
        clean = last && last->size == ck->active_size;
    }
    const model::offset trusted_below = clean ? model::offset::max()
                                        : ck  ? ck->recovery_point
                                              : model::offset::min();
    _recovery.clean = clean;

    bool drop_rest = false;
    for (int64_t base_value : bases) {
        const model::offset base(base_value);
        // Offsets are dense across segments: one that does not start where the previous one ends
        // follows a segment that lost its tail (here, or at an earlier open whose removals did not
        // all happen or did not reach the disk), or overlaps it.
        if (drop_rest || (!_segments.empty() && base != _segments.back()->next_offset())) {
            logger().warn("{}: removing segment {} after a damaged or overlapping one", _dir.string(),
                          segment::file_stem(base));
            // Kept, its stale data would be served after a gap, or collide with a segment created
            // later: the log must not open without removing it.
            if (auto removed = segment::remove_files(_dir, base); !removed) {
                return unexpected(error{
                  removed.error().code,
                  fmt::format("{}; recovery must remove this segment, which follows a damaged or overlapping "
                              "one, before the log can open",
                              removed.error().message)});
            }
            ++_recovery.segments_removed;
            ++_directory_version; // the removal must be durable before a new segment takes its place
            drop_rest = true;
            continue;
        }
        auto opened = segment::open(_dir, base);
        if (!opened) {
            return unexpected(std::move(opened.error()));
        }
        std::unique_ptr<segment> seg = std::move(*opened);
        bool trusted = false;
        if (base < trusted_below) {
            auto loaded = seg->load_indexes();
            if (loaded) {
                auto tail = seg->restore_tail();
                trusted = tail.has_value();
                if (!tail) {
                    logger().warn("{}; scanning the segment instead", tail.error().message);
                }
            } else {
                logger().warn("{}", loaded.error().message);
            }
        }
        if (!trusted) {
            auto report = seg->recover(recovery_max_batch_bytes, _config.index_interval_bytes);
            if (!report) {
                return unexpected(std::move(report.error()));
            }
            ++_recovery.segments_scanned;
            _recovery.batches_scanned += report->batches;
            if (report->dropped_bytes > 0) {
                _recovery.bytes_truncated += report->dropped_bytes;
                logger().warn("{}: found {}; truncated {} bytes after {} valid batches ({} bytes); the lost "
                              "data had not been reported durable",
                              seg->log_path().string(), report->stop_reason, report->dropped_bytes,
                              report->batches, report->valid_bytes);
                drop_rest = true;
            }
        }
        _segments.push_back(std::move(seg));
    }
    if (_segments.empty()) {
        const model::offset start = ck ? ck->log_start_offset : model::offset(0);
        auto created = segment::create(_dir, start);
        if (!created) {
            return unexpected(std::move(created.error()));
        }
        _segments.push_back(std::move(*created));
        ++_directory_version;
    }
    for (size_t i = 0; i + 1 < _segments.size(); ++i) {
        // Each kept segment starts where the one before it ends, and no two share a base offset,
        // so an empty segment (which ends where it starts) can only be the last one.
        assert(!_segments[i]->empty());
        _segments[i]->seal();
    }
    _log_start = _segments.front()->base_offset();
    if (ck && ck->log_start_offset > _log_start && ck->log_start_offset <= log_end_offset()) {
        _log_start = ck->log_start_offset;
    }
    _durable = log_end_offset();
    _checkpoint_log_start = _log_start;
    _recovery_point =
      clean ? _segments.back()->base_offset() : (ck ? ck->recovery_point : model::offset::min());
    if (clean) {
        _clean_on_disk = *ck;
        _clean_directory_version = _directory_version;
        return {};
    }
    // A log created just now holds nothing to recover: its first checkpoint can say clean, so that
    // a close before any append has nothing to write (see begin_close).
    const bool fresh = !ck && bases.empty();
    // Make what the scan kept durable (it may have been only in the page cache of a process that
    // died), with its indexes, and move the recovery point to the active segment.
    for (auto& seg : _segments) {
        if (seg->sealed() && !seg->indexes_written) {
            if (auto w = seg->write_indexes(); !w) {
                return w;
            }
            seg->indexes_written = true;
        }
    }
    flush_in_flight flight;
    flight.target = log_end_offset();
    flush_job job = make_flush_job(flight, false);
    std::optional<log_checkpoint> written;
    if (!flight.recovery_point || fresh) { // always record where the next scan has to start
        flight.recovery_point = _segments.back()->base_offset();
        job.checkpoint_path = _dir / log_checkpoint::file_name;
        written = log_checkpoint{fresh, *flight.recovery_point, _log_start, _segments.back()->base_offset(),
                                 _segments.back()->size()};
        const auto bytes = written->encode();
        job.checkpoint_bytes.assign(bytes.begin(), bytes.end());
    }
    auto synced = flusher::run(job);
    if (!synced) {
        return synced;
    }
    apply_flush(flight);
    if (fresh) {
        _clean_on_disk = written;
        _clean_directory_version = _directory_version;
    }
    return {};
}

result<void> partition_log::check_writable() const {
    if (_closed) {
        return unexpected(closed_error(_dir));
    }
    if (_failure) {
        return unexpected(*_failure);
    }
    return {};
}

segment* partition_log::find_segment(model::offset base) const noexcept {
    auto it = std::lower_bound(
      _segments.begin(), _segments.end(), base,
      [](const std::unique_ptr<segment>& s, model::offset b) { return s->base_offset() < b; });
    if (it == _segments.end() || (*it)->base_offset() != base) {
        return nullptr;
    }
    return it->get();
}

size_t partition_log::segment_index_for(model::offset target) const noexcept {
    auto it = std::upper_bound(
      _segments.begin(), _segments.end(), target,
      [](model::offset t, const std::unique_ptr<segment>& s) { return t < s->base_offset(); });
    if (it == _segments.begin()) {
        return 0;
    }
    return static_cast<size_t>(std::distance(_segments.begin(), it) - 1);
}

result<append_result> partition_log::append(const iobuf& batch, std::optional<model::leader_epoch> epoch) {
    if (auto w = check_writable(); !w) {
        return unexpected(std::move(w.error()));
    }
    const model::batch_limits limits{.max_batch_bytes = _config.max_batch_bytes, .check_records = true};
    auto valid = model::validate_batch(batch, limits);
    if (!valid) {
        return unexpected(error{errc::invalid_batch,
                                fmt::format("{}: {}", _dir.string(), model::describe(valid.error())),
                                valid.error()});
    }
    model::record_batch_header header = valid->header;
    if (_config.compact && !header.attributes.control()) {
        if (auto keyed = check_keys(batch); !keyed) {
            return unexpected(std::move(keyed.error()));
        }
    }
    const int64_t now = now_ms();
    segment* active = _segments.back().get();
    const bool too_big = active->size() + header.size_bytes() > _config.segment_bytes;
    const bool too_old = active->created_ms != 0 && now - active->created_ms >= _config.segment_ms;
    // Index entries hold offsets relative to the segment base in 32 bits.
    const bool offsets_exhausted = log_end_offset() + header.last_offset_delta - active->base_offset() >
                                   std::numeric_limits<int32_t>::max();
    if (!active->empty() && (too_big || too_old || offsets_exhausted)) {
        if (auto rolled = roll_active(); !rolled) {
            return unexpected(std::move(rolled.error()));
        }
        active = _segments.back().get();
    }
    header.base_offset = log_end_offset();
    if (epoch) {
        header.partition_leader_epoch = *epoch;
    }
    std::array<std::byte, 16> prefix{};
    store_be<int64_t>(&prefix[0], header.base_offset.value());
    store_be<int32_t>(&prefix[8], header.batch_length);
    store_be<int32_t>(&prefix[12], header.partition_leader_epoch.value());
    if (auto written = active->append(prefix, batch, header, _config.index_interval_bytes); !written) {
        active->reserved_to = 0; // the cut back to the old size freed the blocks reserved past it
        if (written.error().code == errc::log_failed) {
            _failure = written.error();
            logger().error("{}", _failure->message);
        }
        return unexpected(std::move(written.error()));
    }
    if (active->created_ms == 0) {
        active->created_ms = now;
    }
    reserve_ahead(*active);
    return append_result{header.base_offset, header.last_offset(), header.max_timestamp, header.size_bytes()};
}

result<read_result> partition_log::read(model::offset start, uint64_t max_bytes,
                                        model::offset upper_bound) const {
    if (_closed) {
        return unexpected(closed_error(_dir));
    }
    const model::offset end = log_end_offset();
    if (start < _log_start || start > end) {
        return unexpected(
          error{errc::offset_out_of_range, fmt::format("{}: offset {} is outside the log [{}, {}]",
                                                       _dir.string(), start, _log_start, end)});
    }
    read_result out;
    out.first_offset = start;
    out.next_offset = start;
    if (start == end || start >= upper_bound) {
        return out;
    }
    bool first_batch = true;
    header_window window; // one walk of one segment at a time
    for (size_t i = segment_index_for(start); i < _segments.size(); ++i) {
        const segment& seg = *_segments[i];
        window.length = 0;
        uint64_t pos = 0;
        if (first_batch) {
            auto found = seg.find_batch(start, window);
            if (!found) {
                return unexpected(std::move(found.error()));
            }
            if (!*found) {
                continue; // start lies after this segment's last batch (a gap): try the next
            }
            pos = (*found)->position;
        }
        const uint64_t slice_start = pos;
        bool stop = false;
        while (pos < seg.size()) {
            auto h = seg.read_header(pos, window);
            if (!h) {
                return unexpected(std::move(h.error()));
            }
            if (h->last_offset() >= upper_bound ||
                (!first_batch && out.bytes + h->size_bytes() > max_bytes)) {
                stop = true;
                break;
            }
            if (first_batch) {
                out.first_offset = h->base_offset;
                first_batch = false;
            }
            out.bytes += h->size_bytes();
            out.next_offset = h->last_offset().next();
            pos += h->size_bytes();
        }
        if (pos > slice_start) {
            out.slices.push_back(file_slice{seg.log_file(), slice_start, pos - slice_start});
        }
        if (stop || out.bytes >= max_bytes) {
            break;
        }
    }
    return out;
}

void partition_log::sync(sync_callback done) {
    if (auto w = check_writable(); !w) {
        done(unexpected(std::move(w.error())));
        return;
    }
    const model::offset target = log_end_offset();
    if (_durable >= target && !_flight) {
        done(_durable);
        return;
    }
    _waiters.push_back(waiter{target, std::move(done)});
    if (!_flight && !_closing) {
        start_flush();
    }
}

flush_job partition_log::make_flush_job(flush_in_flight& flight, bool clean_close) {
    flush_job job;
    for (auto& seg : _segments) {
        if (seg->synced_size != seg->size()) {
            job.data_files.push_back(seg->log_file());
            flight.data.emplace_back(seg->base_offset(), seg->size());
        }
        if ((seg->sealed() || clean_close) && !seg->indexes_written) {
            if (auto w = seg->write_indexes(); w) {
                seg->indexes_written = true;
            } else if (clean_close) {
                // No later sync will retry, and a clean checkpoint would make the next open trust
                // whatever the failed write left (a stale time index passes validation).
                if (!flight.index_error) {
                    flight.index_error = std::move(w.error());
                }
            } else {
                logger().warn("{}; will retry at the next sync", w.error().message);
            }
        }
        if (seg->indexes_written && !seg->indexes_synced) {
            job.index_files.push_back(seg->index_path());
            job.index_files.push_back(seg->time_index_path());
            flight.indexes.push_back(seg->base_offset());
        }
    }
    if (_directory_version != _directory_synced_version) {
        job.directory = _dir;
        flight.directory_version = _directory_version;
    }
    // The recovery point after this job: the first segment not yet sealed, synced and indexed.
    model::offset point = _segments.back()->base_offset();
    for (auto& seg : _segments) {
        const bool data_ok = seg->synced_size == seg->size() ||
                             std::any_of(flight.data.begin(), flight.data.end(), [&](const auto& d) {
                                 return d.first == seg->base_offset() && d.second == seg->size();
                             });
        const bool index_ok = seg->indexes_synced || std::find(flight.indexes.begin(), flight.indexes.end(),
                                                               seg->base_offset()) != flight.indexes.end();
        if (!seg->sealed() || !data_ok || !index_ok) {
            point = seg->base_offset();
            break;
        }
    }
    if (clean_close || point != _recovery_point || _log_start != _checkpoint_log_start) {
        const segment& active = *_segments.back();
        // Even when it cannot be clean, a closing log writes a checkpoint: an older clean one
        // that still matches the files must not be trusted.
        const bool clean = clean_close && !flight.index_error;
        log_checkpoint c{clean, point, _log_start, active.base_offset(), active.size()};
        const auto bytes = c.encode();
        job.checkpoint_path = _dir / log_checkpoint::file_name;
        job.checkpoint_bytes.assign(bytes.begin(), bytes.end());
        flight.recovery_point = point;
        flight.log_start = _log_start;
    }
    return job;
}

void partition_log::start_flush() {
    flush_in_flight flight;
    flight.sequence = ++_flush_sequence;
    flight.target = log_end_offset();
    flush_job job = make_flush_job(flight, false);
    auto finished = std::make_shared<std::promise<result<void>>>();
    flight.finished = finished->get_future().share();
    job.done = [finished, alive = _alive, owner = _services.owner,
                sequence = flight.sequence](result<void> r) {
        finished->set_value(r);
        owner->post([alive, sequence, r = std::move(r)] {
            if (alive->log != nullptr) {
                alive->log->on_flushed(sequence, r);
            }
        });
    };
    _flight = std::move(flight);
    _services.flush->submit(std::move(job));
}

void partition_log::apply_flush(const flush_in_flight& flight) {
    for (const auto& [base, size] : flight.data) {
        if (segment* seg = find_segment(base)) {
            seg->synced_size = std::max(seg->synced_size, size);
        }
    }
    for (model::offset base : flight.indexes) {
        if (segment* seg = find_segment(base)) {
            seg->indexes_synced = seg->indexes_written;
        }
    }
    if (flight.directory_version) {
        _directory_synced_version = std::max(_directory_synced_version, *flight.directory_version);
    }
    if (flight.recovery_point) {
        _recovery_point = *flight.recovery_point;
    }
    if (flight.log_start) {
        _checkpoint_log_start = std::max(_checkpoint_log_start, *flight.log_start);
    }
    _durable = std::max(_durable, flight.target);
}

void partition_log::on_flushed(uint64_t sequence, const result<void>& outcome) {
    if (!_flight || _flight->sequence != sequence) {
        return; // close() already took this completion
    }
    const flush_in_flight flight = std::move(*_flight);
    _flight.reset();
    if (!outcome) {
        _failure =
          error{errc::log_failed,
                fmt::format("{}; acknowledged writes since the last sync may be lost, so the log refuses "
                            "writes until the broker restarts and recovers it",
                            outcome.error().message)};
        logger().error("{}", _failure->message);
        fail_waiters(*_failure);
        return;
    }
    apply_flush(flight);
    complete_waiters();
    if (_sync_directory_soon && _directory_version == _directory_synced_version) {
        _sync_directory_soon = false;
    }
    if ((!_waiters.empty() || _sync_directory_soon) && !_flight && !_closing) {
        start_flush(); // group commit: one fdatasync for everyone who arrived meanwhile
    }
}

void partition_log::complete_waiters() {
    std::vector<waiter> ready;
    auto split = std::stable_partition(_waiters.begin(), _waiters.end(), [&](const waiter& w) {
        return w.target > _durable || w.start_target > _checkpoint_log_start;
    });
    std::move(split, _waiters.end(), std::back_inserter(ready));
    _waiters.erase(split, _waiters.end());
    // Callbacks may append and sync again: they run after the bookkeeping above.
    for (waiter& w : ready) {
        w.done(w.start_target > model::offset::min() ? _log_start : _durable);
    }
}

void partition_log::fail_waiters(const error& e) {
    std::vector<waiter> failed;
    failed.swap(_waiters);
    for (waiter& w : failed) {
        w.done(unexpected(e));
    }
}

result<void> partition_log::roll_active() {
    segment& old = *_segments.back();
    auto created = segment::create(_dir, old.next_offset());
    if (!created) {
        return unexpected(std::move(created.error()));
    }
    old.seal();
    // Any segment big enough to have been given blocks, in this run or before a restart (which
    // forgets reserved_to), gives back what it did not use.
    if (_services.space != nullptr && old.size() >= preallocator::reserve_from) {
        _services.space->release(old.log_file(), old.size());
    }
    if (auto w = old.write_indexes(); w) {
        old.indexes_written = true;
    } else {
        logger().warn("{}; will retry at the next sync", w.error().message);
    }
    _segments.push_back(std::move(*created));
    ++_directory_version;
    return {};
}

void partition_log::reserve_ahead(segment& active) {
    if (_services.space == nullptr) {
        return;
    }
    const uint64_t to =
      _services.space->next_reservation(active.size(), active.reserved_to, _config.segment_bytes);
    if (to != 0) {
        _services.space->reserve(active.log_file(), std::max(active.reserved_to, active.size()), to);
        active.reserved_to = to;
    }
}

result<void> partition_log::roll() {
    if (auto w = check_writable(); !w) {
        return w;
    }
    if (_segments.back()->empty()) {
        return {};
    }
    return roll_active();
}

result<void> partition_log::remove_front_segment(retention_report& report) {
    segment& front = *_segments.front();
    if (auto r = front.remove_files(); !r) {
        return unexpected(
          error{r.error().code,
                fmt::format("{}: retention could not remove segment {}: {}; the segment stays in "
                            "the log (its data file is intact) and the next run tries again",
                            _dir.string(), segment::file_stem(front.base_offset()), r.error().message)});
    }
    report.segments_removed += 1;
    report.bytes_removed += front.size();
    _segments.erase(_segments.begin());
    _log_start = std::max(_log_start, _segments.front()->base_offset());
    ++_directory_version;
    return {};
}

result<void> partition_log::remove_expired_segments(retention_report& report) {
    if (!_config.delete_by_retention) { // cleanup.policy=compact alone
        return {};
    }
    if (_config.retention_bytes >= 0) {
        uint64_t total = size_bytes();
        const auto limit = static_cast<uint64_t>(_config.retention_bytes);
        while (_segments.size() > 1 && total - _segments.front()->size() >= limit) {
            total -= _segments.front()->size();
            if (auto r = remove_front_segment(report); !r) {
                return r;
            }
        }
    }
    if (_config.retention_ms >= 0) {
        const int64_t now = now_ms();
        while (!_segments.front()->empty()) {
            segment& front = *_segments.front();
            int64_t newest = front.max_timestamp().value();
            if (newest < 0) { // no timestamps: fall back to when the file last changed, as Kafka does
                auto st = stat_file(front.log_path());
                newest = st ? st->modified_ms : now; // unknown: keep the segment for now
            }
            if (now - newest <= _config.retention_ms) {
                break;
            }
            if (_segments.size() == 1) { // everything expired: roll so the old segment can go
                if (auto rolled = roll_active(); !rolled) {
                    return rolled;
                }
            }
            if (auto r = remove_front_segment(report); !r) {
                return r;
            }
        }
    }
    return {};
}

void partition_log::delete_records_before(model::offset new_start, sync_callback done) {
    if (auto w = check_writable(); !w) {
        done(unexpected(std::move(w.error())));
        return;
    }
    assert(new_start <= log_end_offset());
    if (new_start > _log_start) {
        _log_start = new_start;
        retention_report report;
        // A segment may go once the next one starts at or below the new start.
        while (_segments.size() > 1 && _segments[1]->base_offset() <= new_start) {
            if (auto removed = remove_front_segment(report); !removed) {
                // The start offset still moves (reads below it fail); the files stay until retention.
                logger().warn("{}", removed.error().message);
                break;
            }
        }
        logger().info("{}: records before offset {} deleted ({} segments, {} bytes removed)", _dir.string(),
                      new_start, report.segments_removed, report.bytes_removed);
    }
    if (_log_start <= _checkpoint_log_start && !_flight) {
        done(_log_start);
        return;
    }
    _waiters.push_back(waiter{model::offset::min(), std::move(done), _log_start});
    if (!_flight && !_closing) {
        start_flush();
    }
}

result<retention_report> partition_log::apply_retention() {
    if (auto w = check_writable(); !w) {
        return unexpected(std::move(w.error()));
    }
    retention_report report;
    auto removed = remove_expired_segments(report);
    // Segments removed before a failure are gone: say so either way.
    if (report.segments_removed > 0) {
        logger().info("{}: retention removed {} segments ({} bytes); log start offset is now {}",
                      _dir.string(), report.segments_removed, report.bytes_removed, _log_start);
    }
    if (!removed) {
        return unexpected(std::move(removed.error()));
    }
    return report;
}

result<std::optional<model::offset>> partition_log::offset_for_timestamp(model::timestamp ts) const {
    auto hit = find_by_timestamp(ts);
    if (!hit) {
        return unexpected(std::move(hit.error()));
    }
    if (!*hit) {
        return std::optional<model::offset>{};
    }
    return std::optional<model::offset>{(*hit)->offset};
}

result<std::optional<timestamp_hit>> partition_log::find_by_timestamp(model::timestamp ts) const {
    if (_closed) {
        return unexpected(closed_error(_dir));
    }
    for (const auto& seg : _segments) {
        if (seg->max_timestamp() < ts) {
            continue;
        }
        auto found = seg->find_batch_by_time(ts);
        if (!found) {
            return unexpected(std::move(found.error()));
        }
        if (!*found) {
            continue;
        }
        const batch_location& where = **found;
        const model::record_batch_header& h = where.header;
        const timestamp_hit whole_batch{std::max(h.base_offset, _log_start), h.max_timestamp};
        if (h.base_timestamp.value() < 0) {
            return std::optional<timestamp_hit>{whole_batch};
        }
        auto bytes = seg->read_batch(where);
        if (!bytes) {
            return unexpected(std::move(bytes.error()));
        }
        // Compressed batches are decompressed here: the exact record matters to a consumer that
        // seeks by time, and this lookup is rare next to appends and fetches.
        std::optional<timestamp_hit> hit;
        auto walked = model::for_each_record_in_batch(
          *bytes, model::record_read_limits{}, [&](const model::record_view& r) {
              const int64_t t = h.base_timestamp.value() + r.timestamp_delta;
              if (!hit && t >= ts.value()) {
                  hit = timestamp_hit{h.base_offset + r.offset_delta, model::timestamp(t)};
              }
          });
        if (!walked) {
            return unexpected(
              error{errc::corrupt, fmt::format("{}: batch at byte {}: {}", seg->log_path().string(),
                                               where.position, model::describe(walked.error()))});
        }
        if (hit && hit->offset >= _log_start) {
            return std::optional<timestamp_hit>{*hit};
        }
        return std::optional<timestamp_hit>{whole_batch};
    }
    return std::optional<timestamp_hit>{};
}

result<void> partition_log::close() {
    auto step = begin_close();
    if (auto* done = std::get_if<result<void>>(&step)) {
        return std::move(*done);
    }
    return finish_close(flusher::run(std::get<flush_job>(step)));
}

std::variant<flush_job, result<void>> partition_log::begin_close() {
    if (_closed) {
        if (_failure) { // a retried close must not report a clean shutdown that did not happen
            return result<void>(unexpected(*_failure));
        }
        return result<void>();
    }
    _closing = true;
    abandon_compaction();
    while (_flight) {
        const uint64_t sequence = _flight->sequence;
        const result<void> outcome = _flight->finished.get();
        on_flushed(sequence, outcome);
    }
    if (_failure) {
        _closed = true;
        fail_waiters(*_failure);
        return result<void>(unexpected(*_failure));
    }
    if (unchanged_since_clean_checkpoint()) {
        // The clean checkpoint on disk still describes the files exactly (nothing appended, rolled,
        // removed or compacted since it was written): closing has nothing to write or sync. With
        // thousands of idle partitions this is most of a shutdown.
        _closed = true;
        complete_waiters();
        fail_waiters(closed_error(_dir));
        return result<void>();
    }
    _segments.back()->checkpoint_max_timestamp();
    flush_in_flight flight;
    flight.target = log_end_offset();
    flush_job job = make_flush_job(flight, true);
    _close_flight = std::move(flight);
    return job;
}

bool partition_log::unchanged_since_clean_checkpoint() const noexcept {
    if (!_clean_on_disk || _directory_version != _clean_directory_version) {
        return false;
    }
    const segment& active = *_segments.back();
    return _clean_on_disk->log_start_offset == _log_start &&
           _clean_on_disk->active_base_offset == active.base_offset() &&
           _clean_on_disk->active_size == active.size() && active.synced_size == active.size();
}

result<void> partition_log::finish_close(result<void> synced) {
    flush_in_flight flight = std::move(*_close_flight);
    _close_flight.reset();
    _closed = true;
    if (!synced) {
        _failure = error{errc::log_failed, synced.error().message};
        fail_waiters(*_failure);
        return synced;
    }
    apply_flush(flight);
    complete_waiters();
    fail_waiters(closed_error(_dir));
    if (flight.index_error) {
        _failure = error{flight.index_error->code,
                         fmt::format("{}; the log was closed without a clean checkpoint, so the next open "
                                     "rebuilds the indexes by scanning",
                                     flight.index_error->message)};
        return unexpected(*_failure);
    }
    return {};
}

model::timestamp partition_log::max_timestamp() const noexcept {
    model::timestamp m = model::no_timestamp;
    for (const auto& seg : _segments) {
        m = std::max(m, seg->max_timestamp());
    }
    return m;
}

uint64_t partition_log::size_bytes() const noexcept {
    uint64_t total = 0;
    for (const auto& seg : _segments) {
        total += seg->size();
    }
    return total;
}

std::vector<segment_info> partition_log::segments() const {
    std::vector<segment_info> out;
    out.reserve(_segments.size());
    for (const auto& seg : _segments) {
        out.push_back(
          {seg->base_offset(), seg->next_offset(), seg->size(), seg->max_timestamp(), seg->sealed()});
    }
    return out;
}

result<void> partition_log::set_config(const log_config& config) {
    if (auto v = config.validate(); !v) {
        return v;
    }
    _config = config;
    return {};
}

std::pair<uint64_t, uint64_t> partition_log::sealed_and_dirty_bytes() const noexcept {
    const model::offset dirty_start = std::max(_cleaned_up_to, _log_start);
    uint64_t sealed = 0;
    uint64_t dirty = 0;
    for (size_t i = 0; i + 1 < _segments.size(); ++i) {
        sealed += _segments[i]->size();
        if (_segments[i]->next_offset() > dirty_start) {
            dirty += _segments[i]->size();
        }
    }
    return {sealed, dirty};
}

double partition_log::dirty_ratio() const noexcept {
    const auto [sealed, dirty] = sealed_and_dirty_bytes();
    return sealed == 0 ? 0.0 : static_cast<double>(dirty) / static_cast<double>(sealed);
}

bool partition_log::start_compaction(compactor& c, bool force) {
    if (!_config.compact || _compaction || _closed || _closing || _failure || _segments.size() < 2) {
        return false;
    }
    const auto [sealed, dirty] = sealed_and_dirty_bytes();
    if (!force && (dirty == 0 || static_cast<double>(dirty) <
                                   _config.min_cleanable_dirty_ratio * static_cast<double>(sealed))) {
        return false;
    }
    compaction_input input;
    input.dir = _dir;
    input.dirty_start = std::max(_cleaned_up_to, _log_start);
    input.now_ms = now_ms();
    input.delete_retention_ms = _config.delete_retention_ms;
    input.index_interval_bytes = _config.index_interval_bytes;
    input.key_map_bytes = c.key_map_bytes();
    for (size_t i = 0; i + 1 < _segments.size(); ++i) {
        const segment& seg = *_segments[i];
        input.segments.push_back(
          segment_snapshot{seg.base_offset(), seg.next_offset(), seg.size(), seg.log_file()});
    }
    auto run = std::make_shared<compaction_run>();
    run->stopped = run->stopped_promise.get_future().share();
    run->started = std::chrono::steady_clock::now();
    _compaction = run;
    c.submit([run, input = std::move(input), alive = _alive, owner = _services.owner](bool stopping) {
        if (stopping) {
            run->cancel.store(true, std::memory_order_relaxed);
        }
        run->output = clean_segments(input, run->cancel);
        owner->post([run, alive] {
            // After close() or the destructor took the run, the log has cleaned up already.
            if (!run->taken && alive->log != nullptr) {
                alive->log->finish_compaction(*run);
            }
        });
        run->stopped_promise.set_value();
    });
    return true;
}

void partition_log::abandon_compaction() noexcept {
    if (!_compaction) {
        return;
    }
    const std::shared_ptr<compaction_run> run = std::move(_compaction);
    run->cancel.store(true, std::memory_order_relaxed);
    run->stopped.wait();
    run->taken = true;
    if (run->output && *run->output) {
        for (const cleaned_segment& c : (*run->output)->segments) {
            discard_cleaned(_dir, c.base);
        }
    }
}

void partition_log::finish_compaction(compaction_run& run) {
    // The compactor thread may still be inside post() (this task can run before post() returns):
    // wait the few instructions until it no longer touches the owner executor, which may be
    // destroyed soon after this log.
    run.stopped.wait();
    run.taken = true;
    _compaction.reset();
    compaction_report report;
    auto& output = *run.output;
    const auto elapsed = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                     run.started)
          .count();
    };
    if (!output) {
        report.failure = output.error();
        report.duration_ms = elapsed();
        logger().warn("{}: compaction failed: {}; the next run tries again", _dir.string(),
                      output.error().message);
        _last_compaction = std::move(report);
        return;
    }
    compaction_output& out = *output;
    if (_closed || _closing || _failure) {
        for (const cleaned_segment& c : out.segments) {
            discard_cleaned(_dir, c.base);
        }
        report.failure = error{
          errc::closed, fmt::format("{}: compaction discarded: the log is closed or failed", _dir.string())};
        _last_compaction = std::move(report);
        return;
    }
    report.segments_cleaned = out.segments_cleaned;
    report.bytes_before = out.bytes_before;
    report.bytes_after = out.bytes_after;
    report.records_before = out.records_before;
    report.records_after = out.records_after;
    report.tombstones_removed = out.tombstones_removed;
    report.cleaned_up_to = out.mapped_end;
    install_cleaned(out, report);
    report.duration_ms = elapsed();
    if (report.failure) {
        logger().warn("{}", report.failure->message);
    }
    logger().info(
      "{}: compaction rewrote {} of {} segments: {} -> {} bytes, {} records removed ({} tombstones), "
      "{} ms",
      _dir.string(), report.segments_rewritten, report.segments_cleaned, report.bytes_before,
      report.bytes_after, report.records_before - report.records_after, report.tombstones_removed,
      report.duration_ms);
    _last_compaction = std::move(report);
}

void partition_log::install_cleaned(compaction_output& out, compaction_report& report) {
    bool complete = true;
    for (cleaned_segment& c : out.segments) {
        if (!complete) {
            discard_cleaned(_dir, c.base);
            continue;
        }
        auto it = std::lower_bound(
          _segments.begin(), _segments.end(), c.base,
          [](const std::unique_ptr<segment>& s, model::offset b) { return s->base_offset() < b; });
        const bool present = it != _segments.end() && (*it)->base_offset() == c.base;
        if (!present && c.base < _log_start) {
            discard_cleaned(_dir, c.base); // retention removed it meanwhile, with its data
            continue;
        }
        if (!present || (*it)->log_file() != c.source || !(*it)->sealed() ||
            std::next(it) == _segments.end()) {
            discard_cleaned(_dir, c.base);
            complete = false;
            report.failure = error{errc::closed, fmt::format("{}: segment {} changed during compaction; the "
                                                             "rest of the run is discarded",
                                                             _dir.string(), segment::file_stem(c.base))};
            continue;
        }
        if (auto swapped = swap_segment(static_cast<size_t>(std::distance(_segments.begin(), it)), c);
            !swapped) {
            discard_cleaned(_dir, c.base);
            complete = false;
            report.failure =
              error{swapped.error().code,
                    fmt::format("{}: compaction could not swap in segment {}: {}; it keeps its "
                                "uncompacted data and the rest of the run is discarded",
                                _dir.string(), segment::file_stem(c.base), swapped.error().message)};
            continue;
        }
        ++report.segments_rewritten;
    }
    if (complete) {
        _cleaned_up_to = std::max(_cleaned_up_to, out.mapped_end);
    }
    if (report.segments_rewritten > 0) {
        // The renames must reach the disk: one directory sync, without waiting for a producer.
        _sync_directory_soon = true;
        if (!_flight && !_closing) {
            start_flush();
        }
    }
}

result<void> partition_log::swap_segment(size_t index, cleaned_segment& cleaned) {
    segment& old = *_segments[index];
    // 1. The old index files go first: from here on a crash finds the segment without indexes and
    //    rebuilds them by a scan of whichever log file it finds, so an index can never describe
    //    the other file.
    for (const auto& path : {old.index_path(), old.time_index_path()}) {
        if (auto removed = remove_file(path); !removed) {
            old.indexes_written = false; // the flusher writes them again
            old.indexes_synced = false;
            return removed;
        }
    }
    old.indexes_written = false;
    old.indexes_synced = false;
    // 2. The cleaned file (synced by the compactor) takes the segment's name, atomically.
    if (auto renamed = cleaned.log.rename_to(old.log_path()); !renamed) {
        return renamed;
    }
    auto seg = segment::adopt(_dir, cleaned.base, cleaned.next, cleaned.bytes_after, std::move(cleaned.log),
                              std::move(cleaned.index), cleaned.max_timestamp, cleaned.max_timestamp_offset);
    seg->created_ms = old.created_ms;
    // 3. Its index files, synced by the compactor too. If they cannot be renamed the flusher
    //    writes them from memory.
    auto indexes = rename_file(cleaned_index_path(_dir, cleaned.base), seg->index_path());
    if (indexes) {
        indexes = rename_file(cleaned_time_index_path(_dir, cleaned.base), seg->time_index_path());
    }
    if (!indexes) {
        logger().warn("{}; the index files are written again at the next sync", indexes.error().message);
        discard_cleaned(_dir, cleaned.base);
    }
    seg->indexes_written = indexes.has_value();
    seg->indexes_synced = indexes.has_value();
    _segments[index] = std::move(seg);
    ++_directory_version;
    return {};
}

result<void> log_config::validate() const {
    auto bad = [](std::string msg) { return unexpected(error{errc::invalid_config, std::move(msg)}); };
    if (segment_bytes < 14 || segment_bytes > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
        return bad(fmt::format("segment.bytes={} must be between 14 and {}", segment_bytes,
                               std::numeric_limits<int32_t>::max()));
    }
    if (segment_ms < 1) {
        return bad(fmt::format("segment.ms={} must be at least 1", segment_ms));
    }
    if (retention_bytes < -1) {
        return bad(fmt::format("retention.bytes={} must be -1 (no limit) or more", retention_bytes));
    }
    if (retention_ms < -1) {
        return bad(fmt::format("retention.ms={} must be -1 (forever) or more", retention_ms));
    }
    if (!compact && !delete_by_retention) {
        return bad("cleanup.policy must contain delete, compact, or both");
    }
    if (delete_retention_ms < 0) {
        return bad(fmt::format("delete.retention.ms={} must be 0 or more", delete_retention_ms));
    }
    if (!(min_cleanable_dirty_ratio >= 0.0 && min_cleanable_dirty_ratio <= 1.0)) {
        return bad(
          fmt::format("min.cleanable.dirty.ratio={} must be between 0 and 1", min_cleanable_dirty_ratio));
    }
    if (max_batch_bytes < model::batch_header_size) {
        return bad(
          fmt::format("max.message.bytes={} must be at least {}", max_batch_bytes, model::batch_header_size));
    }
    return {};
}

} // namespace ms::storage
