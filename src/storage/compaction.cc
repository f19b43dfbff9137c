#include "storage/compaction.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/logging.h"
#include "model/record_batch.h"
#include "model/record_reader.h"
#include "storage/segment.h"

namespace ms::storage {

namespace {

spdlog::logger& logger() {
    static const std::shared_ptr<spdlog::logger> storage = logging::get("storage");
    return *storage;
}

std::string_view as_chars(std::span<const std::byte> b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Transparent hashing, so lookups by string_view do not allocate.
struct key_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Newest record per exact key (its offset, whether it is a tombstone), within a memory budget.
class key_map {
public:
    struct entry {
        int64_t offset = 0;
        bool tombstone = false;
    };

    explicit key_map(size_t budget) : _budget(budget) {}

    // False when the key is new and does not fit (never on an empty map: a run always progresses).
    bool put(std::string_view key, int64_t o, bool tombstone) {
        if (auto it = _entries.find(key); it != _entries.end()) {
            it->second = entry{o, tombstone};
            return true;
        }
        const size_t cost = key.size() + entry_overhead;
        if (!_entries.empty() && _bytes + cost > _budget) {
            return false;
        }
        _bytes += cost;
        _entries.emplace(std::string(key), entry{o, tombstone});
        return true;
    }
    [[nodiscard]] std::optional<entry> get(std::string_view key) const {
        auto it = _entries.find(key);
        if (it == _entries.end()) {
            return std::nullopt;
        }
        return it->second;
    }

private:
    // A node of the hash map (next pointer, cached hash, the key's std::string and the entry), its
    // allocator overhead, the string's heap block and the bucket: a fair upper estimate.
    static constexpr size_t entry_overhead = 72 + sizeof(entry);
    size_t _budget;
    size_t _bytes = 0;
    std::unordered_map<std::string, entry, key_hash, std::equal_to<>> _entries;
};

error corrupt_batch(const segment_snapshot& s, std::string_view what, uint64_t position) {
    return error{errc::corrupt,
                 fmt::format("{}: {} at byte {}; compaction of this log stops until it is repaired",
                             s.log->path().string(), what, position)};
}

// Reads the batches of a segment file one after the other.
class batch_scanner {
public:
    explicit batch_scanner(const segment_snapshot& s) : _s(s) {}

    // The next batch (header and whole bytes), or false at the end of the segment; errc::closed
    // once `cancel` is set.
    result<bool> next(const std::atomic<bool>& cancel) {
        if (cancel.load(std::memory_order_relaxed)) {
            return unexpected(error{errc::closed, "compaction cancelled"});
        }
        if (_pos >= _s.size) {
            return false;
        }
        _at = _pos;
        std::array<std::byte, model::batch_header_size> raw{};
        if (_pos + raw.size() > _s.size) {
            return unexpected(corrupt("a torn batch header"));
        }
        if (auto r = _s.log->read_exact(_pos, raw); !r) {
            return unexpected(std::move(r.error()));
        }
        header = model::record_batch_header::decode(raw);
        const auto min_length =
          static_cast<int32_t>(model::batch_header_size - model::batch_length_prefix_size);
        if (header.batch_length < min_length || _pos + header.size_bytes() > _s.size) {
            return unexpected(corrupt(fmt::format("an invalid batch length {}", header.batch_length)));
        }
        bytes.resize(header.size_bytes());
        if (auto r = _s.log->read_exact(_pos, bytes); !r) {
            return unexpected(std::move(r.error()));
        }
        _pos += header.size_bytes();
        return true;
    }

    // Reads the records of the current batch.
    result<void> open_records(model::record_reader& reader) const {
        if (auto r = reader.reset(std::span<const std::byte>(bytes)); !r) {
            return unexpected(corrupt(std::string(model::describe(r.error()))));
        }
        return {};
    }

    [[nodiscard]] error corrupt(std::string_view what) const { return corrupt_batch(_s, what, _at); }
    [[nodiscard]] uint64_t position() const noexcept { return _at; }

    model::record_batch_header header;
    std::vector<std::byte> bytes;

private:
    const segment_snapshot& _s;
    uint64_t _pos = 0;
    uint64_t _at = 0;
};

// Walks the records of the scanner's current batch; `visit(rec, absolute offset)`.
template<typename Visitor>
result<void> for_each_record(const batch_scanner& scan, model::record_reader& reader, Visitor&& visit) {
    if (auto opened = scan.open_records(reader); !opened) {
        return opened;
    }
    const int64_t base = scan.header.base_offset.value();
    auto walked = reader.for_each([&](const model::record_view& r) { visit(r, base + r.offset_delta); });
    if (!walked) {
        return unexpected(scan.corrupt(std::string(model::describe(walked.error()))));
    }
    return {};
}

// Builds the key map over [dirty_start, ...) until it is full or the sealed segments end.
result<model::offset> build_key_map(const compaction_input& in, key_map& map,
                                    const std::atomic<bool>& cancel) {
    model::record_reader reader;
    const int64_t dirty = in.dirty_start.value();
    for (const segment_snapshot& s : in.segments) {
        if (s.next <= in.dirty_start) {
            continue;
        }
        batch_scanner scan(s);
        for (;;) {
            auto more = scan.next(cancel);
            if (!more) {
                return unexpected(std::move(more.error()));
            }
            if (!*more) {
                break;
            }
            if (scan.header.last_offset().value() < dirty || scan.header.attributes.control()) {
                continue;
            }
            std::optional<int64_t> full_at;
            auto walked = for_each_record(scan, reader, [&](const model::record_view& r, int64_t o) {
                if (full_at || o < dirty || !r.key) {
                    return;
                }
                if (!map.put(as_chars(*r.key), o, !r.value)) {
                    full_at = o;
                }
            });
            if (!walked) {
                return unexpected(std::move(walked.error()));
            }
            if (full_at) {
                return model::offset(*full_at);
            }
        }
    }
    return in.segments.back().next;
}

// One segment being rewritten into its .cleaned file.
class segment_rewriter {
public:
    segment_rewriter(const compaction_input& in, const segment_snapshot& s)
      : _in(in), _s(s), _index(s.base) {}

    result<void> open() {
        auto f = file::open(cleaned_log_path(_in.dir, _s.base), open_mode::read_write_create);
        if (!f) {
            return unexpected(std::move(f.error()));
        }
        if (auto r = f->truncate(0); !r) { // a leftover of an earlier run
            return r;
        }
        _out = std::move(*f);
        return {};
    }

    // A whole batch to write after the one held before; it is held until the next one comes or
    // the segment ends, since it may still have to grow (extend_held).
    result<void> hold(std::vector<std::byte> bytes) {
        if (auto r = emit(); !r) {
            return r;
        }
        _held_header = model::record_batch_header::decode(
          std::span<const std::byte>(bytes).first<model::batch_header_size>());
        _held = std::move(bytes);
        return {};
    }
    [[nodiscard]] bool holding() const noexcept { return _held.has_value(); }
    [[nodiscard]] const model::record_batch_header& held_header() const noexcept { return _held_header; }
    // Grows the held batch's range to end at `last` (trailing batches that kept nothing).
    void extend_held(model::offset last) {
        _held_header.last_offset_delta = static_cast<int32_t>(last - _held_header.base_offset);
        _held_header.encode(std::span<std::byte>(*_held).first<model::batch_header_size>());
        model::update_batch_crc(*_held);
    }

    result<void> finish() {
        if (auto r = emit(); !r) {
            return r;
        }
        if (auto r = write_pending(); !r) {
            return r;
        }
        _index.seal(_max_timestamp, _max_timestamp_offset);
        if (auto r = _out.datasync(); !r) {
            return r;
        }
        for (const auto& [path, bytes] :
             {std::pair{cleaned_index_path(_in.dir, _s.base), _index.encode_offset_index()},
              std::pair{cleaned_time_index_path(_in.dir, _s.base), _index.encode_time_index()}}) {
            if (auto r = write_file_synced(path, bytes); !r) {
                return r;
            }
        }
        return {};
    }

    cleaned_segment take(uint64_t records_before) {
        cleaned_segment c;
        c.base = _s.base;
        c.next = _s.next;
        c.source = _s.log;
        c.log = std::move(_out);
        c.index = std::move(_index);
        c.max_timestamp = _max_timestamp;
        c.max_timestamp_offset = _max_timestamp_offset;
        c.bytes_before = _s.size;
        c.bytes_after = _position;
        c.records_before = records_before;
        c.records_after = _records;
        return c;
    }
    // Records written so far, the held batch's included.
    [[nodiscard]] uint64_t records_total() const noexcept {
        return _records + (_held ? static_cast<uint64_t>(_held_header.record_count) : 0);
    }

private:
    result<void> emit() {
        if (!_held) {
            return {};
        }
        const model::record_batch_header& h = _held_header;
        _index.on_batch(h.base_offset, static_cast<uint32_t>(_position), static_cast<uint32_t>(_held->size()),
                        h.max_timestamp, _in.index_interval_bytes);
        if (h.max_timestamp > _max_timestamp) {
            _max_timestamp = h.max_timestamp;
            _max_timestamp_offset = h.base_offset;
        }
        _position += _held->size();
        _records += static_cast<uint64_t>(h.record_count);
        _pending.insert(_pending.end(), _held->begin(), _held->end());
        _held.reset();
        if (_pending.size() >= write_chunk) {
            return write_pending();
        }
        return {};
    }
    result<void> write_pending() {
        if (_pending.empty()) {
            return {};
        }
        if (auto r = _out.write_all(_written, _pending); !r) {
            return r;
        }
        _written += _pending.size();
        _pending.clear();
        return {};
    }

    static constexpr size_t write_chunk = size_t{1} << 20;
    const compaction_input& _in;
    const segment_snapshot& _s;
    file _out;
    segment_index _index;
    std::optional<std::vector<std::byte>> _held;
    model::record_batch_header _held_header;
    std::vector<std::byte> _pending;
    uint64_t _written = 0;
    uint64_t _position = 0;
    uint64_t _records = 0;
    model::timestamp _max_timestamp = model::no_timestamp;
    model::offset _max_timestamp_offset;
};

// The rules of one run (see compaction.h), applied segment by segment.
class cleaner {
public:
    cleaner(const compaction_input& in, const key_map& map, model::offset mapped_end,
            const std::atomic<bool>& cancel)
      : _in(in), _map(map), _mapped_end(mapped_end), _cancel(cancel) {}

    result<void> clean(const segment_snapshot& s, compaction_output& out) {
        segment_rewriter w(_in, s);
        if (auto r = w.open(); !r) {
            discard_cleaned(_in.dir, s.base);
            return r;
        }
        auto cleaned = rewrite(s, w, out);
        if (!cleaned) {
            discard_cleaned(_in.dir, s.base);
            return unexpected(std::move(cleaned.error()));
        }
        ++out.segments_cleaned;
        out.bytes_before += s.size;
        out.records_before += cleaned->records_before;
        if (!cleaned->changed) {
            discard_cleaned(_in.dir, s.base);
            out.bytes_after += s.size;
            out.records_after += cleaned->records_before;
            return {};
        }
        if (auto r = w.finish(); !r) {
            discard_cleaned(_in.dir, s.base);
            return r;
        }
        cleaned_segment c = w.take(cleaned->records_before);
        out.bytes_after += c.bytes_after;
        out.records_after += c.records_after;
        out.segments.push_back(std::move(c));
        return {};
    }

private:
    struct rewrite_result {
        bool changed = false;
        uint64_t records_before = 0;
    };
    // A dropped record that could be kept as the single record of an emptied segment.
    struct anchor_candidate {
        uint64_t position = 0; // of its batch in the segment file
        int64_t offset = 0;
    };
    // The anchor candidates of the segment being rewritten, best last (see choose()).
    struct anchor_candidates {
        // A record whose key's newest record (per the map) is a value: that value comes later, so
        // the record hides nothing and nothing has to stay for it.
        std::optional<anchor_candidate> of_live_key;
        // A tombstone: it cannot bring a value back either.
        std::optional<anchor_candidate> tombstone;
        // The last record of the segment: a value of a deleted key, whose tombstone must stay.
        std::optional<anchor_candidate> last;

        void note(const model::record_view& r, std::optional<key_map::entry> newest, anchor_candidate c) {
            last = c;
            if (!r.value) {
                tombstone = c;
            }
            if (newest && !newest->tombstone) {
                of_live_key = c;
            }
        }
        [[nodiscard]] std::optional<anchor_candidate> choose() const {
            return of_live_key ? of_live_key : tombstone ? tombstone : last;
        }
    };

    result<rewrite_result> rewrite(const segment_snapshot& s, segment_rewriter& w, compaction_output& out) {
        rewrite_result res;
        // First offset of the batches just before that kept nothing (-1: none). Not an optional:
        // GCC's -Wmaybe-uninitialized misfires on it.
        int64_t gap_start = -1;
        bool any_batch = false;
        size_t batches = 0;
        model::record_batch_header first_batch;
        anchor_candidates anchors;
        // The key of the last retained record when it is a value (for the single-record rule).
        std::optional<std::string> last_retained_key;
        batch_scanner scan(s);
        std::vector<std::byte> plain;
        for (;;) {
            auto more = scan.next(_cancel);
            if (!more) {
                return unexpected(std::move(more.error()));
            }
            if (!*more) {
                break;
            }
            const model::record_batch_header& h = scan.header;
            if (!any_batch) {
                first_batch = h;
            }
            any_batch = true;
            ++batches;
            res.records_before += static_cast<uint64_t>(h.record_count);
            const model::offset new_base = gap_start >= 0 ? model::offset(gap_start) : h.base_offset;
            const bool control = h.attributes.control();
            const bool keeps_times =
              h.attributes.ts_type() == model::timestamp_type::create_time && h.base_timestamp.value() >= 0;
            plain.clear();
            int32_t kept = 0;
            int64_t kept_max_ts = -1;
            std::optional<std::string> batch_last_key;
            auto walked = for_each_record(scan, _reader, [&](const model::record_view& r, int64_t o) {
                if (!control && r.key) {
                    const auto newest = _map.get(as_chars(*r.key));
                    if (drop(r, o, newest, h, s)) {
                        out.tombstones_removed += r.value ? 0 : 1;
                        anchors.note(r, newest, anchor_candidate{scan.position(), o});
                        return;
                    }
                }
                ++kept;
                kept_max_ts = std::max(kept_max_ts, h.base_timestamp.value() + r.timestamp_delta);
                model::encode_record(plain, r, static_cast<int32_t>(o - new_base.value()));
                if (!control && r.key && r.value) {
                    batch_last_key = std::string(as_chars(*r.key));
                } else {
                    batch_last_key.reset();
                }
            });
            if (!walked) {
                return unexpected(std::move(walked.error()));
            }
            if (kept == 0) {
                gap_start = new_base.value();
                res.changed = true;
                continue;
            }
            last_retained_key = std::move(batch_last_key);
            if (kept == h.record_count && gap_start < 0) {
                if (auto r = w.hold(std::move(scan.bytes)); !r) {
                    return unexpected(std::move(r.error()));
                }
                scan.bytes = {};
                continue;
            }
            model::record_batch_header nh = h;
            nh.base_offset = new_base;
            nh.last_offset_delta = static_cast<int32_t>(h.last_offset() - new_base);
            nh.record_count = kept;
            if (keeps_times) {
                nh.max_timestamp = model::timestamp(kept_max_ts);
            }
            if (auto r = hold_encoded(w, nh, plain); !r) {
                return unexpected(std::move(r.error()));
            }
            res.changed = true;
            gap_start = -1;
        }
        const model::offset last = s.next.prev();
        if (w.holding()) {
            if (w.held_header().last_offset() < last) {
                w.extend_held(last);
            }
        } else if (any_batch) {
            // Nothing retained: keep one record, as a batch spanning the whole segment.
            const auto chosen = anchors.choose();
            if (!chosen) {
                return unexpected(corrupt_batch(s, "a segment without readable records", 0));
            }
            auto anchor = hold_anchor(s, *chosen, w);
            if (!anchor) {
                return unexpected(std::move(anchor.error()));
            }
            if (!anchor->value) {
                --out.tombstones_removed; // it stays
            }
            last_retained_key = anchor->value ? std::move(anchor->key) : std::nullopt;
            // Already this anchor alone (an earlier run): the copy would hold the same record.
            if (res.records_before == 1 && batches == 1 && first_batch.base_offset == s.base &&
                first_batch.last_offset() == last) {
                res.changed = false;
            }
        }
        // A segment left with one value may hold a superseded value: a later tombstone of its key
        // must stay, or that value would come back. (A tombstone hides nothing, so it pins nothing.)
        if (w.records_total() == 1 && last_retained_key) {
            _single_record_keys.insert(*last_retained_key);
        }
        return res;
    }

    // Whether the record at `o`, whose key's newest record per the map is `newest`, goes (see
    // compaction.h).
    bool drop(const model::record_view& r, int64_t o, std::optional<key_map::entry> newest,
              const model::record_batch_header& h, const segment_snapshot& s) {
        if (newest && newest->offset > o) {
            return true;
        }
        if (r.value || o >= _mapped_end.value() || _single_record_keys.contains(as_chars(*r.key))) {
            return false;
        }
        return tombstone_expired(h, s);
    }

    bool tombstone_expired(const model::record_batch_header& h, const segment_snapshot& s) {
        int64_t ts = h.max_timestamp.value();
        if (ts < 0) { // no timestamps: the segment file's modification time, as Kafka does
            if (!_mtime || _mtime_of != s.base) {
                auto st = stat_file(s.log->path());
                _mtime = st ? st->modified_ms : _in.now_ms; // unknown: not expired yet
                _mtime_of = s.base;
            }
            ts = *_mtime;
        }
        return _in.now_ms - ts > _in.delete_retention_ms;
    }

    result<void> hold_encoded(segment_rewriter& w, const model::record_batch_header& h,
                              std::span<const std::byte> plain) {
        auto built = model::encode_batch(h, plain);
        if (!built) {
            return unexpected(
              error{errc::io_error,
                    fmt::format("{}: compaction cannot recompress a batch with {}: {}", _in.dir.string(),
                                model::codec_name(h.attributes.codec()), model::describe(built.error()))});
        }
        return w.hold(std::move(*built));
    }

    struct anchor_kept {
        std::optional<std::string> key;
        bool value = false;
    };

    // Writes the record at `c` as the single record of a batch spanning the whole segment (its
    // batch's attributes and producer fields, base offset lowered to the segment's base).
    result<anchor_kept> hold_anchor(const segment_snapshot& s, anchor_candidate c, segment_rewriter& w) {
        std::array<std::byte, model::batch_header_size> raw{};
        if (auto r = s.log->read_exact(c.position, raw); !r) {
            return unexpected(std::move(r.error()));
        }
        const auto h = model::record_batch_header::decode(raw);
        std::vector<std::byte> bytes(h.size_bytes());
        if (auto r = s.log->read_exact(c.position, bytes); !r) {
            return unexpected(std::move(r.error()));
        }
        if (auto r = _reader.reset(std::span<const std::byte>(bytes)); !r) {
            return unexpected(corrupt_batch(s, model::describe(r.error()), c.position));
        }
        std::vector<std::byte> plain;
        std::optional<int64_t> ts;
        anchor_kept kept;
        auto walked = _reader.for_each([&](const model::record_view& r) {
            if (h.base_offset.value() + r.offset_delta != c.offset) {
                return;
            }
            model::encode_record(plain, r, static_cast<int32_t>(c.offset - s.base.value()));
            ts = h.base_timestamp.value() + r.timestamp_delta;
            kept.key = r.key ? std::optional<std::string>(std::string(as_chars(*r.key))) : std::nullopt;
            kept.value = r.value.has_value();
        });
        if (!walked || plain.empty()) {
            return unexpected(corrupt_batch(s, "a batch without the record to keep", c.position));
        }
        model::record_batch_header nh = h;
        nh.base_offset = s.base;
        nh.last_offset_delta = static_cast<int32_t>(s.next.prev() - s.base);
        nh.record_count = 1;
        if (h.attributes.ts_type() == model::timestamp_type::create_time && h.base_timestamp.value() >= 0 &&
            ts) {
            nh.max_timestamp = model::timestamp(*ts);
        }
        if (auto r = hold_encoded(w, nh, plain); !r) {
            return unexpected(std::move(r.error()));
        }
        return kept;
    }

    const compaction_input& _in;
    const key_map& _map;
    model::offset _mapped_end;
    const std::atomic<bool>& _cancel;
    model::record_reader _reader;
    std::unordered_set<std::string, key_hash, std::equal_to<>> _single_record_keys;
    std::optional<int64_t> _mtime;
    model::offset _mtime_of;
};

} // namespace

std::filesystem::path cleaned_log_path(const std::filesystem::path& dir, model::offset base) {
    return dir / (segment::file_stem(base) + ".log" + std::string(cleaned_suffix));
}
std::filesystem::path cleaned_index_path(const std::filesystem::path& dir, model::offset base) {
    return dir / (segment::file_stem(base) + ".index" + std::string(cleaned_suffix));
}
std::filesystem::path cleaned_time_index_path(const std::filesystem::path& dir, model::offset base) {
    return dir / (segment::file_stem(base) + ".timeindex" + std::string(cleaned_suffix));
}

void discard_cleaned(const std::filesystem::path& dir, model::offset base) {
    for (const auto& p :
         {cleaned_index_path(dir, base), cleaned_time_index_path(dir, base), cleaned_log_path(dir, base)}) {
        if (auto r = remove_file(p); !r) {
            logger().warn("{}; the next open of the log removes it", r.error().message);
        }
    }
}

result<compaction_output> clean_segments(const compaction_input& in, const std::atomic<bool>& cancel) {
    compaction_output out;
    if (in.segments.empty()) {
        out.mapped_end = in.dirty_start;
        return out;
    }
    key_map map(in.key_map_bytes);
    auto mapped_end = build_key_map(in, map, cancel);
    if (!mapped_end) {
        return unexpected(std::move(mapped_end.error()));
    }
    out.mapped_end = *mapped_end;
    cleaner c(in, map, *mapped_end, cancel);
    for (const segment_snapshot& s : in.segments) {
        if (s.base >= *mapped_end) {
            break;
        }
        if (auto r = c.clean(s, out); !r) {
            for (const cleaned_segment& done : out.segments) {
                discard_cleaned(in.dir, done.base);
            }
            return unexpected(std::move(r.error()));
        }
    }
    return out;
}

} // namespace ms::storage
