#pragma once

// The partition checkpoint: what a restart may trust without scanning. Written atomically
// (write_file_atomic) by the flusher when sealed segments become durable, and at a clean close.
//
//   byte 0  magic "MSLOGCK1"           8 bytes
//        8  version              u16   = 1
//       10  flags                u16   bit 0: clean shutdown
//       12  recovery_point       i64   base offset of the first segment that may need a scan
//       20  log_start_offset     i64
//       28  active_base_offset   i64   (clean only) the last segment at close ...
//       36  active_size          u64   (clean only) ... and its size then
//       44  crc32c               u32   CRC-32C of bytes 0..43
//       48
//
// A clean checkpoint is trusted only while the last segment still has that base offset and size:
// any append after the clean start changes the size, so a later crash cannot be mistaken for a
// clean stop.

#include <array>
#include <filesystem>
#include <optional>

#include "model/fundamental.h"
#include "storage/errors.h"

namespace ms::storage {

struct log_checkpoint {
    static constexpr size_t encoded_size = 48;
    static constexpr const char* file_name = "checkpoint";

    bool clean = false;
    model::offset recovery_point;
    model::offset log_start_offset;
    model::offset active_base_offset;
    uint64_t active_size = 0;

    [[nodiscard]] std::array<std::byte, encoded_size> encode() const noexcept;
    static result<log_checkpoint> decode(std::span<const std::byte> bytes, const std::filesystem::path& path);
    // nullopt when the file does not exist; an error when it exists but is damaged.
    static result<std::optional<log_checkpoint>> read(const std::filesystem::path& dir);

    bool operator==(const log_checkpoint&) const = default;
};

} // namespace ms::storage
