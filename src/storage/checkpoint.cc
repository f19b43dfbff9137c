#include "storage/checkpoint.h"

#include <cstring>

#include <fmt/format.h>

#include "base/crc32c.h"
#include "base/endian.h"
#include "storage/file.h"

namespace ms::storage {

namespace {
constexpr std::array<char, 8> checkpoint_magic{'M', 'S', 'L', 'O', 'G', 'C', 'K', '1'};
constexpr uint16_t checkpoint_version = 1;
constexpr size_t crc_position = 44;
} // namespace

std::array<std::byte, log_checkpoint::encoded_size> log_checkpoint::encode() const noexcept {
    std::array<std::byte, encoded_size> out{};
    std::memcpy(out.data(), checkpoint_magic.data(), checkpoint_magic.size());
    store_be<uint16_t>(&out[8], checkpoint_version);
    store_be<uint16_t>(&out[10], clean ? 1 : 0);
    store_be<int64_t>(&out[12], recovery_point.value());
    store_be<int64_t>(&out[20], log_start_offset.value());
    store_be<int64_t>(&out[28], active_base_offset.value());
    store_be<uint64_t>(&out[36], active_size);
    store_be<uint32_t>(&out[crc_position], crc32c(0, out.data(), crc_position));
    return out;
}

result<log_checkpoint> log_checkpoint::decode(std::span<const std::byte> b,
                                              const std::filesystem::path& path) {
    auto damaged = [&](std::string_view why) {
        return unexpected(
          error{errc::corrupt, fmt::format("{}: {}; the log will be scanned instead", path.string(), why)});
    };
    if (b.size() != encoded_size) {
        return damaged(fmt::format("size {} is not {}", b.size(), encoded_size));
    }
    if (std::memcmp(b.data(), checkpoint_magic.data(), checkpoint_magic.size()) != 0) {
        return damaged("bad magic");
    }
    if (load_be<uint32_t>(&b[crc_position]) != crc32c(0, b.data(), crc_position)) {
        return damaged("CRC mismatch");
    }
    if (load_be<uint16_t>(&b[8]) != checkpoint_version) {
        return damaged(fmt::format("unknown version {}", load_be<uint16_t>(&b[8])));
    }
    log_checkpoint c;
    c.clean = (load_be<uint16_t>(&b[10]) & 1U) != 0;
    c.recovery_point = model::offset(load_be<int64_t>(&b[12]));
    c.log_start_offset = model::offset(load_be<int64_t>(&b[20]));
    c.active_base_offset = model::offset(load_be<int64_t>(&b[28]));
    c.active_size = load_be<uint64_t>(&b[36]);
    return c;
}

result<std::optional<log_checkpoint>> log_checkpoint::read(const std::filesystem::path& dir) {
    const std::filesystem::path path = dir / file_name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return std::optional<log_checkpoint>{};
    }
    auto bytes = read_small_file(path);
    if (!bytes) {
        return unexpected(std::move(bytes.error()));
    }
    const std::string content = std::move(*bytes);
    auto c = decode({reinterpret_cast<const std::byte*>(content.data()), content.size()}, path);
    if (!c) {
        return unexpected(std::move(c.error()));
    }
    return std::optional<log_checkpoint>{*c};
}

} // namespace ms::storage
