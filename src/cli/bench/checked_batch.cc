#include "cli/bench/checked_batch.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/crc32c.h"

namespace ms::cli::bench {

namespace {

// The CRC of a batch's covered bytes, computed piece by piece up to where it is asked for.
class running_crc {
public:
    explicit running_crc(std::span<const std::byte> covered) noexcept : _covered(covered) {}

    // Extends the CRC over the covered bytes before `end` (clamped to the covered bytes).
    void cover_to(size_t end) noexcept {
        end = std::min(end, _covered.size());
        if (end > _done) {
            _crc = crc32c(_crc, _covered.subspan(_done, end - _done));
            _done = end;
        }
    }

    [[nodiscard]] uint32_t whole() noexcept {
        cover_to(_covered.size());
        return _crc;
    }

private:
    std::span<const std::byte> _covered;
    size_t _done = 0;
    uint32_t _crc = 0;
};

} // namespace

result<void, std::string> read_checked_batch(model::record_reader& reader,
                                             const model::record_batch_header& header,
                                             std::span<const std::byte> batch, bool check_crc, int64_t from,
                                             std::vector<model::record_view>* keep, checked_records& tally) {
    const int64_t base = header.base_offset.value();
    const auto bad_crc = [base] { return unexpected(fmt::format("batch at offset {} has a bad CRC", base)); };
    running_crc crc(batch.subspan(model::batch_crc_covered_from));
    const bool already_read = header.last_offset().value() < from; // checked, not parsed again
    // The CRC runs ahead of the parse over an uncompressed batch; any other is checked whole first.
    const bool windowed = check_crc && !already_read && header.attributes.codec() == model::compression::none;
    if (check_crc && !windowed && crc.whole() != header.crc) {
        return bad_crc();
    }
    if (already_read) {
        return {};
    }
    if (auto reset = reader.reset(batch); !reset) {
        return unexpected(
          fmt::format("batch at offset {} does not parse: {}", base, model::describe(reset.error())));
    }
    // Where the records section starts, counted in covered bytes.
    constexpr size_t records_in_covered = model::batch_header_size - model::batch_crc_covered_from;
    const size_t kept_before = keep != nullptr ? keep->size() : 0;
    const auto drop_kept = [keep, kept_before] {
        if (keep != nullptr) {
            keep->resize(kept_before);
        }
    };
    checked_records found;
    for (;;) {
        if (windowed) {
            crc.cover_to(records_in_covered + reader.consumed() + crc_window_bytes);
        }
        auto rec = reader.next();
        if (!rec) {
            drop_kept();
            if (windowed && crc.whole() != header.crc) {
                return bad_crc(); // the likelier cause
            }
            return unexpected(
              fmt::format("records at offset {} do not parse: {}", base, model::describe(rec.error())));
        }
        if (!*rec) {
            break;
        }
        const model::record_view& r = **rec;
        if (base + r.offset_delta < from) {
            continue;
        }
        ++found.messages;
        found.bytes += (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
        if (keep != nullptr) {
            keep->push_back(r);
        }
    }
    if (windowed && crc.whole() != header.crc) {
        drop_kept();
        return bad_crc();
    }
    tally.messages += found.messages;
    tally.bytes += found.bytes;
    return {};
}

} // namespace ms::cli::bench
