#include "storage/segment.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace ms::storage {

std::string segment::file_stem(model::offset base_offset) {
    return fmt::format("{:020d}", base_offset.value());
}

std::optional<model::offset> segment::parse_stem(std::string_view stem) {
    if (stem.size() != base_digits ||
        !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(stem.data(), stem.data() + stem.size(), value);
    if (ec != std::errc() || ptr != stem.data() + stem.size()) {
        return std::nullopt;
    }
    return model::offset(value);
}

segment::segment(std::filesystem::path dir, model::offset base, file log) noexcept
  : _dir(std::move(dir)), _base(base), _next(base), _max_timestamp_offset(base),
    _log(std::make_shared<const file>(std::move(log))), _index(base) {}

std::filesystem::path segment::index_path() const {
    return _dir / (file_stem(_base) + ".index");
}
std::filesystem::path segment::time_index_path() const {
    return _dir / (file_stem(_base) + ".timeindex");
}

result<std::unique_ptr<segment>> segment::create(const std::filesystem::path& dir, model::offset base) {
    auto f = file::open(dir / (file_stem(base) + ".log"), open_mode::read_write_create);
    if (!f) {
        return unexpected(std::move(f.error()));
    }
    auto size = f->size();
    if (!size) {
        return unexpected(std::move(size.error()));
    }
    if (*size != 0) {
        return unexpected(error{errc::corrupt, fmt::format("{}: a new segment's file already holds {} bytes",
                                                           f->path().string(), *size)});
    }
    return std::unique_ptr<segment>(new segment(dir, base, std::move(*f)));
}

result<std::unique_ptr<segment>> segment::open(const std::filesystem::path& dir, model::offset base) {
    auto f = file::open(dir / (file_stem(base) + ".log"), open_mode::read_write_existing);
    if (!f) {
        return unexpected(std::move(f.error()));
    }
    auto size = f->size();
    if (!size) {
        return unexpected(std::move(size.error()));
    }
    std::unique_ptr<segment> seg(new segment(dir, base, std::move(*f)));
    seg->_size = *size;
    seg->synced_size = *size;
    return seg;
}

std::unique_ptr<segment> segment::adopt(const std::filesystem::path& dir, model::offset base,
                                        model::offset next, uint64_t size, file log, segment_index index,
                                        model::timestamp max_timestamp, model::offset max_timestamp_offset) {
    std::unique_ptr<segment> seg(new segment(dir, base, std::move(log)));
    seg->_next = next;
    seg->_size = size;
    seg->synced_size = size;
    seg->_index = std::move(index);
    seg->_max_timestamp = max_timestamp;
    seg->_max_timestamp_offset = max_timestamp_offset;
    seg->_sealed = true;
    return seg;
}

result<void> segment::load_indexes() {
    auto loaded = segment_index::load(index_path(), time_index_path(), _base, _size);
    if (!loaded) {
        return unexpected(std::move(loaded.error()));
    }
    _index = std::move(*loaded);
    indexes_written = true;
    indexes_synced = true;
    return {};
}

void segment::note_batch(uint64_t position, const model::record_batch_header& header, uint32_t interval) {
    const auto batch_size = static_cast<uint32_t>(header.size_bytes());
    _index.on_batch(header.base_offset, static_cast<uint32_t>(position), batch_size, header.max_timestamp,
                    interval);
    _next = header.last_offset().next();
    if (header.max_timestamp > _max_timestamp) {
        _max_timestamp = header.max_timestamp;
        _max_timestamp_offset = header.base_offset;
    }
}

result<void> segment::append(std::span<const std::byte> prefix, const iobuf& batch,
                             const model::record_batch_header& header, uint32_t index_interval_bytes) {
    // The prefix from our own bytes, then the batch's fragments after it: no copy of the batch.
    std::array<iovec, 64> small{};
    std::vector<iovec> large;
    std::span<iovec> iov(small);
    if (batch.piece_count() + 1 > small.size()) {
        large.resize(batch.piece_count() + 1);
        iov = large;
    }
    size_t count = 0;
    iov[count++] = iovec{const_cast<std::byte*>(prefix.data()), prefix.size()}; // NOLINT: iovec is not const
    size_t skip = prefix.size();
    for (size_t i = 0; i < batch.piece_count(); ++i) {
        std::span<const std::byte> piece = batch.piece_bytes(i);
        if (skip >= piece.size()) {
            skip -= piece.size();
            continue;
        }
        piece = piece.subspan(skip);
        skip = 0;
        iov[count++] = iovec{const_cast<std::byte*>(piece.data()), piece.size()}; // NOLINT
    }
    if (auto written = _log->write_all(_size, iov.first(count)); !written) {
        // Cut off whatever part of the batch reached the file: a reader or a restart must never
        // see a partial batch.
        if (auto cut = _log->truncate(_size); !cut) {
            // The file may now end in a partial batch. Appending on would bury it in the middle
            // of the segment, where a restart that trusts the segment (below the recovery point,
            // or after a clean close) would misread it, or a scan would stop at it and drop every
            // later segment. So the log must stop here; recovery's scan removes the tail.
            return unexpected(
              error{errc::log_failed,
                    fmt::format(
                      "{}; cutting the partial batch off failed too ({}), so the log refuses writes until "
                      "it is reopened, which scans and truncates the segment",
                      written.error().message, cut.error().message)});
        }
        return written;
    }
    note_batch(_size, header, index_interval_bytes);
    _size += header.size_bytes();
    indexes_written = false;
    indexes_synced = false;
    return {};
}

result<model::record_batch_header> segment::read_header(uint64_t position) const {
    header_window window;
    window.last_batch_bytes = header_window::capacity; // as after a large batch: just this header
    return read_header(position, window);
}

result<model::record_batch_header> segment::read_header(uint64_t position, header_window& window) const {
    constexpr size_t header_size = model::batch_header_size;
    if (position + header_size > _size) {
        return unexpected(
          error{errc::corrupt, fmt::format("{}: batch header at byte {} runs past the end ({} bytes)",
                                           _log->path().string(), position, _size)});
    }
    if (position < window.start || position + header_size > window.start + window.length) {
        const uint64_t want =
          window.last_batch_bytes > header_window::capacity / 4 ? header_size : header_window::capacity;
        const auto length = static_cast<size_t>(std::min<uint64_t>(want, _size - position));
        if (auto r = _log->read_exact(position, std::span(window.bytes.data(), length)); !r) {
            window.length = 0;
            return unexpected(std::move(r.error()));
        }
        window.start = position;
        window.length = length;
    }
    const auto raw =
      std::span<const std::byte, header_size>(window.bytes.data() + (position - window.start), header_size);
    const auto h = model::record_batch_header::decode(raw);
    const auto min_length = static_cast<int32_t>(header_size - model::batch_length_prefix_size);
    if (h.batch_length < min_length || position + h.size_bytes() > _size) {
        window.last_batch_bytes = 0;
        return unexpected(error{errc::corrupt, fmt::format("{}: batch at byte {} has an invalid length {}",
                                                           _log->path().string(), position, h.batch_length)});
    }
    window.last_batch_bytes = h.size_bytes();
    return h;
}

result<std::optional<batch_location>> segment::find_batch(model::offset target) const {
    header_window window;
    return find_batch(target, window);
}

result<std::optional<batch_location>> segment::find_batch(model::offset target, header_window& window) const {
    if (target >= _next) {
        return std::optional<batch_location>{};
    }
    uint64_t pos = _index.lookup_position(target);
    while (pos < _size) {
        auto h = read_header(pos, window);
        if (!h) {
            return unexpected(std::move(h.error()));
        }
        if (h->last_offset() >= target) {
            return std::optional<batch_location>{batch_location{pos, *h}};
        }
        pos += h->size_bytes();
    }
    return std::optional<batch_location>{};
}

result<std::optional<batch_location>> segment::find_batch_by_time(model::timestamp ts) const {
    if (_max_timestamp < ts) {
        return std::optional<batch_location>{};
    }
    uint64_t pos = _index.lookup_position(_index.lookup_time(ts));
    while (pos < _size) {
        auto h = read_header(pos);
        if (!h) {
            return unexpected(std::move(h.error()));
        }
        if (h->max_timestamp >= ts) {
            return std::optional<batch_location>{batch_location{pos, *h}};
        }
        pos += h->size_bytes();
    }
    return std::optional<batch_location>{};
}

result<std::vector<std::byte>> segment::read_batch(const batch_location& where) const {
    std::vector<std::byte> bytes(where.header.size_bytes());
    if (auto r = _log->read_exact(where.position, bytes); !r) {
        return unexpected(std::move(r.error()));
    }
    return bytes;
}

result<scan_report> segment::recover(uint64_t max_batch_bytes, uint32_t index_interval_bytes) {
    auto file_size = _log->size();
    if (!file_size) {
        return unexpected(std::move(file_size.error()));
    }
    _size = 0;
    _next = _base;
    _max_timestamp = model::no_timestamp;
    _max_timestamp_offset = _base;
    _index.clear();

    scan_report report;
    std::vector<std::byte> buf(size_t{1} << 20);
    uint64_t buf_start = 0;
    size_t buf_len = 0;
    // Makes [pos, pos + n) available in buf; false when the file ends first.
    auto window = [&](uint64_t pos, size_t n) -> result<bool> {
        if (pos >= buf_start && pos + n <= buf_start + buf_len) {
            return true;
        }
        if (n > buf.size()) {
            buf.resize(n);
        }
        auto got = _log->read_some(pos, buf);
        if (!got) {
            return unexpected(std::move(got.error()));
        }
        buf_start = pos;
        buf_len = *got;
        return n <= buf_len;
    };

    // Compacted segments hold batches with fewer records than offsets (docs/compaction.md).
    const model::batch_limits limits{
      .max_batch_bytes = max_batch_bytes, .check_records = false, .allow_sparse_offsets = true};
    uint64_t pos = 0;
    while (pos < *file_size) {
        auto have_header = window(pos, model::batch_header_size);
        if (!have_header) {
            return unexpected(std::move(have_header.error()));
        }
        if (!*have_header) {
            report.stop_reason = fmt::format("a torn batch header at byte {}", pos);
            break;
        }
        const auto header = model::record_batch_header::decode(
          std::span<const std::byte>(buf).subspan(pos - buf_start).first<model::batch_header_size>());
        const auto min_length =
          static_cast<int32_t>(model::batch_header_size - model::batch_length_prefix_size);
        if (header.batch_length < min_length || header.size_bytes() > max_batch_bytes) {
            report.stop_reason =
              fmt::format("an invalid batch length {} at byte {}", header.batch_length, pos);
            break;
        }
        if (pos + header.size_bytes() > *file_size) {
            report.stop_reason = fmt::format("a torn batch at byte {} ({} of {} bytes present)", pos,
                                             *file_size - pos, header.size_bytes());
            break;
        }
        auto have_batch = window(pos, header.size_bytes());
        if (!have_batch) {
            return unexpected(std::move(have_batch.error()));
        }
        if (!*have_batch) {
            report.stop_reason = fmt::format("a torn batch at byte {}", pos);
            break;
        }
        auto valid = model::validate_batch(
          std::span<const std::byte>(buf).subspan(pos - buf_start, header.size_bytes()), limits);
        if (!valid) {
            report.stop_reason = fmt::format("{} at byte {}", model::describe(valid.error()), pos);
            break;
        }
        // Produced data is dense: each batch starts where the previous one ended. The base offset
        // lies outside the CRC, so this is what catches damage to it.
        if (header.base_offset != _next) {
            report.stop_reason =
              fmt::format("batch at byte {} has base offset {}, expected {}", pos, header.base_offset, _next);
            break;
        }
        note_batch(pos, header, index_interval_bytes);
        pos += header.size_bytes();
        ++report.batches;
    }
    report.valid_bytes = pos;
    report.dropped_bytes = *file_size - pos;
    if (report.dropped_bytes > 0) {
        if (auto r = _log->truncate(pos); !r) {
            return unexpected(std::move(r.error()));
        }
    }
    _size = pos;
    synced_size = 0; // the truncation and the rebuilt indexes must reach the disk again
    indexes_written = false;
    indexes_synced = false;
    return report;
}

result<void> segment::restore_tail() {
    uint64_t pos = 0;
    model::offset next = _base;
    if (!_index.offset_entries().empty()) {
        const offset_index_entry& last = _index.offset_entries().back();
        pos = last.position;
        next = _base + last.relative_offset;
    }
    model::timestamp max_ts =
      _index.time_entries().empty() ? model::no_timestamp : _index.time_entries().back().timestamp;
    model::offset max_ts_offset =
      _index.time_entries().empty() ? _base : _base + _index.time_entries().back().relative_offset;
    uint64_t last_entry_pos = pos;
    while (pos < _size) {
        auto h = read_header(pos);
        if (!h) {
            return unexpected(std::move(h.error()));
        }
        if (h->base_offset < next) {
            return unexpected(
              error{errc::corrupt, fmt::format("{}: batch at byte {} has base offset {} below {}",
                                               _log->path().string(), pos, h->base_offset, next)});
        }
        next = h->last_offset().next();
        if (h->max_timestamp > max_ts) {
            max_ts = h->max_timestamp;
            max_ts_offset = h->base_offset;
        }
        pos += h->size_bytes();
    }
    _next = next;
    _max_timestamp = max_ts;
    _max_timestamp_offset = max_ts_offset;
    _index.restore_tail(static_cast<uint32_t>(_size - last_entry_pos), max_ts);
    return {};
}

void segment::seal() {
    _sealed = true;
    checkpoint_max_timestamp();
}

void segment::checkpoint_max_timestamp() {
    const size_t before = _index.time_entries().size();
    _index.seal(_max_timestamp, _max_timestamp_offset);
    if (_index.time_entries().size() != before) {
        indexes_written = false;
        indexes_synced = false;
    }
}

result<void> segment::write_indexes() const {
    const std::vector<std::byte> offsets = _index.encode_offset_index();
    const std::vector<std::byte> times = _index.encode_time_index();
    for (const auto& [path, bytes] :
         {std::pair{index_path(), &offsets}, std::pair{time_index_path(), &times}}) {
        auto f = file::open(path, open_mode::read_write_create);
        if (!f) {
            return unexpected(std::move(f.error()));
        }
        if (auto r = f->truncate(0); !r) {
            return r;
        }
        if (auto r = f->write_all(0, *bytes); !r) {
            return r;
        }
    }
    return {};
}

result<void> segment::remove_files() const {
    return remove_files(_dir, _base);
}

result<void> segment::remove_files(const std::filesystem::path& dir, model::offset base) {
    // The log file last: the segment exists as long as it does, so a failure part way leaves a
    // whole segment (whose missing indexes a restart rebuilds), never indexes without their data
    // or a log whose data vanished while the partition_log still counts it.
    const std::string stem = file_stem(base);
    for (const std::filesystem::path& p :
         {dir / (stem + ".index"), dir / (stem + ".timeindex"), dir / (stem + ".log")}) {
        if (auto r = remove_file(p); !r) {
            return r;
        }
    }
    return {};
}

} // namespace ms::storage
