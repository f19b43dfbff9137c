#include "broker/file_backed_records.h"

#include <algorithm>

namespace ms::broker {

namespace {

constexpr uint64_t hole_bytes = 256ULL * 1024 * 1024;

// Created once and never freed: every response may share it at any time, from any shard.
const iobuf& hole() {
    static const iobuf* reserved = [] {
        auto* buffer = new iobuf(); // NOLINT: intentionally immortal (see above)
        (void)buffer->reserve(hole_bytes);
        buffer->commit(hole_bytes);
        return buffer;
    }();
    return *reserved;
}

} // namespace

std::optional<iobuf> file_backed_records::placeholder(std::vector<storage::file_slice> slices) {
    uint64_t length = 0;
    for (const auto& s : slices) {
        length += s.length;
    }
    if (length == 0 || _cursor + length > hole_bytes) {
        return std::nullopt;
    }
    iobuf stand_in = hole().share(_cursor, length);
    _ranges.push_back(range{_cursor, length, std::move(slices)});
    _cursor += length;
    return stand_in;
}

std::vector<net::file_splice> file_backed_records::splices(const iobuf& encoded) const {
    std::vector<net::file_splice> out;
    const std::byte* hole_begin = hole().piece_bytes(0).data();
    size_t position = 0;
    for (size_t i = 0; i < encoded.piece_count(); ++i) {
        const auto piece = encoded.piece_bytes(i);
        const auto address = reinterpret_cast<uintptr_t>(piece.data());
        const auto begin = reinterpret_cast<uintptr_t>(hole_begin);
        if (piece.empty() || address < begin || address >= begin + hole_bytes) {
            position += piece.size();
            continue;
        }
        // This piece stands for [offset, offset + size) of the hole: walk the slices there.
        uint64_t offset = address - begin;
        uint64_t left = piece.size();
        auto r = std::upper_bound(_ranges.begin(), _ranges.end(), offset,
                                  [](uint64_t o, const range& x) { return o < x.hole_offset; });
        --r; // the range starting at or before offset (the first range starts at 0)
        size_t out_position = position;
        while (left > 0 && r != _ranges.end()) {
            uint64_t within = offset - r->hole_offset;
            for (const storage::file_slice& slice : r->slices) {
                if (left == 0) {
                    break;
                }
                if (within >= slice.length) {
                    within -= slice.length;
                    continue;
                }
                const uint64_t take = std::min(slice.length - within, left);
                out.push_back(net::file_splice{out_position, take, slice.source, slice.source->fd(),
                                               slice.position + within});
                out_position += take;
                offset += take;
                left -= take;
                within = 0;
            }
            ++r;
        }
        position += piece.size();
    }
    return out;
}

storage::result<iobuf> read_slices(const std::vector<storage::file_slice>& slices) {
    iobuf out;
    for (const storage::file_slice& slice : slices) {
        std::span<std::byte> room = out.reserve(slice.length);
        if (auto copied = slice.source->read_exact(slice.position, room.first(slice.length)); !copied) {
            return unexpected(copied.error());
        }
        out.commit(slice.length);
    }
    return out;
}

} // namespace ms::broker
