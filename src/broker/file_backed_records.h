#pragma once
// file_backed_records: Fetch records that leave through sendfile(2), straight from the segment
// files to the socket, without entering user space.
//
// The generated encoder writes a response into an iobuf and shares (never reads) the bytes of a
// `records` field. So a fetch handler gives each partition a placeholder: a slice of one large,
// never-touched "hole" buffer, a distinct range per partition. After encoding, the pieces of the
// response that point into the hole are exactly where the records go; splices() turns them into
// net::file_splice entries naming the segment files and offsets, and the connection writes the
// response with sendfile for those ranges.
//
// The hole is reserved virtual memory (256 MiB, never written, so never backed by RAM). A
// response whose records exceed it gets no more placeholders; the handler copies the rest.
#include <cstdint>
#include <optional>
#include <vector>

#include "base/iobuf.h"
#include "net/server.h"
#include "storage/partition_log.h"

namespace ms::broker {

class file_backed_records {
public:
    // A placeholder standing for the bytes of `slices` (in order), or nullopt when the hole has
    // no room left for them.
    [[nodiscard]] std::optional<iobuf> placeholder(std::vector<storage::file_slice> slices);
    // The splices that replace the placeholders inside `encoded` (the whole response frame).
    [[nodiscard]] std::vector<net::file_splice> splices(const iobuf& encoded) const;
    [[nodiscard]] bool empty() const noexcept { return _ranges.empty(); }

private:
    struct range {
        uint64_t hole_offset = 0;
        uint64_t length = 0;
        std::vector<storage::file_slice> slices;
    };
    std::vector<range> _ranges; // by hole_offset
    uint64_t _cursor = 0;
};

// Copies the bytes of `slices` into memory (the fallback when sendfile cannot be used).
[[nodiscard]] storage::result<iobuf> read_slices(const std::vector<storage::file_slice>& slices);

} // namespace ms::broker
