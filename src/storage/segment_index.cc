#include "storage/segment_index.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/endian.h"
#include "storage/file.h"

namespace ms::storage {

void segment_index::on_batch(model::offset batch_base, uint32_t position, uint32_t batch_size,
                             model::timestamp batch_max_timestamp, uint32_t interval_bytes) {
    const auto relative = static_cast<uint32_t>(batch_base - _base);
    if (_bytes_since_entry >= interval_bytes) {
        _offsets.push_back({relative, position});
        _bytes_since_entry = 0;
    }
    _bytes_since_entry += batch_size;
    if (batch_max_timestamp > _max_timestamp) {
        _max_timestamp = batch_max_timestamp;
        if (_times.empty() || _bytes_since_time_entry >= interval_bytes) {
            _times.push_back({batch_max_timestamp, relative});
            _bytes_since_time_entry = 0;
        }
    }
    _bytes_since_time_entry += batch_size;
}

void segment_index::seal(model::timestamp max_timestamp, model::offset max_timestamp_offset) {
    if (max_timestamp.value() >= 0 && (_times.empty() || _times.back().timestamp < max_timestamp)) {
        _times.push_back({max_timestamp, static_cast<uint32_t>(max_timestamp_offset - _base)});
    }
}

void segment_index::restore_tail(uint32_t bytes_since_entry, model::timestamp max_timestamp) {
    _bytes_since_entry = bytes_since_entry;
    _bytes_since_time_entry = bytes_since_entry;
    _max_timestamp = std::max(_max_timestamp, max_timestamp);
}

void segment_index::truncate(uint32_t position, model::offset next_offset) {
    const auto next_relative = next_offset - _base;
    std::erase_if(_offsets, [&](const offset_index_entry& e) {
        return e.position >= position || static_cast<int64_t>(e.relative_offset) >= next_relative;
    });
    std::erase_if(_times, [&](const time_index_entry& e) {
        return static_cast<int64_t>(e.relative_offset) >= next_relative;
    });
    _max_timestamp = _times.empty() ? model::no_timestamp : _times.back().timestamp;
    _bytes_since_entry = 0;
    _bytes_since_time_entry = 0;
}

void segment_index::clear() {
    _offsets.clear();
    _times.clear();
    _bytes_since_entry = 0;
    _bytes_since_time_entry = 0;
    _max_timestamp = model::no_timestamp;
}

uint32_t segment_index::lookup_position(model::offset target) const noexcept {
    const int64_t relative = target - _base;
    auto it = std::upper_bound(
      _offsets.begin(), _offsets.end(), relative,
      [](int64_t rel, const offset_index_entry& e) { return rel < static_cast<int64_t>(e.relative_offset); });
    if (it == _offsets.begin()) {
        return 0;
    }
    return std::prev(it)->position;
}

model::offset segment_index::lookup_time(model::timestamp ts) const noexcept {
    auto it = std::lower_bound(_times.begin(), _times.end(), ts,
                               [](const time_index_entry& e, model::timestamp t) { return e.timestamp < t; });
    if (it == _times.begin()) {
        return _base;
    }
    return _base + std::prev(it)->relative_offset;
}

std::vector<std::byte> segment_index::encode_offset_index() const {
    std::vector<std::byte> out(_offsets.size() * offset_entry_size);
    std::byte* p = out.data();
    for (const offset_index_entry& e : _offsets) {
        store_be<uint32_t>(p, e.relative_offset);
        store_be<uint32_t>(p + 4, e.position);
        p += offset_entry_size;
    }
    return out;
}

std::vector<std::byte> segment_index::encode_time_index() const {
    std::vector<std::byte> out(_times.size() * time_entry_size);
    std::byte* p = out.data();
    for (const time_index_entry& e : _times) {
        store_be<int64_t>(p, e.timestamp.value());
        store_be<uint32_t>(p + 8, e.relative_offset);
        p += time_entry_size;
    }
    return out;
}

namespace {

error corrupt_index(const std::filesystem::path& path, std::string_view why) {
    return error{errc::corrupt, fmt::format("{}: {}; it will be rebuilt from the log", path.string(), why)};
}

} // namespace

result<segment_index> segment_index::load(const std::filesystem::path& offset_index_path,
                                          const std::filesystem::path& time_index_path,
                                          model::offset base_offset, uint64_t log_size) {
    segment_index index(base_offset);
    auto offsets_file = read_small_file(offset_index_path);
    if (!offsets_file) {
        return unexpected(std::move(offsets_file.error()));
    }
    const std::string offsets = std::move(*offsets_file);
    if (offsets.size() % offset_entry_size != 0) {
        return unexpected(corrupt_index(offset_index_path, "size is not a whole number of entries"));
    }
    const auto* p = reinterpret_cast<const std::byte*>(offsets.data());
    for (size_t i = 0; i < offsets.size(); i += offset_entry_size) {
        offset_index_entry e{load_be<uint32_t>(p + i), load_be<uint32_t>(p + i + 4)};
        if (e.position >= log_size) {
            return unexpected(corrupt_index(offset_index_path, "an entry points past the end of the log"));
        }
        if (!index._offsets.empty() && (e.relative_offset <= index._offsets.back().relative_offset ||
                                        e.position <= index._offsets.back().position)) {
            return unexpected(corrupt_index(offset_index_path, "entries are not increasing"));
        }
        index._offsets.push_back(e);
    }
    auto times_file = read_small_file(time_index_path);
    if (!times_file) {
        return unexpected(std::move(times_file.error()));
    }
    const std::string times = std::move(*times_file);
    if (times.size() % time_entry_size != 0) {
        return unexpected(corrupt_index(time_index_path, "size is not a whole number of entries"));
    }
    p = reinterpret_cast<const std::byte*>(times.data());
    for (size_t i = 0; i < times.size(); i += time_entry_size) {
        time_index_entry e{model::timestamp(load_be<int64_t>(p + i)), load_be<uint32_t>(p + i + 8)};
        if (e.timestamp.value() < 0) {
            return unexpected(corrupt_index(time_index_path, "an entry has a negative timestamp"));
        }
        if (!index._times.empty() && (e.timestamp <= index._times.back().timestamp ||
                                      e.relative_offset < index._times.back().relative_offset)) {
            return unexpected(corrupt_index(time_index_path, "entries are not increasing"));
        }
        index._times.push_back(e);
    }
    if (!index._times.empty()) {
        index._max_timestamp = index._times.back().timestamp;
    }
    return index;
}

} // namespace ms::storage
