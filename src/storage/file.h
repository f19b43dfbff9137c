#pragma once

// file: an owned POSIX file descriptor with the few operations the log needs, each retried on
// EINTR and on short transfers, each returning storage::result. Positional I/O only (pread,
// pwritev), so a file may be read and fdatasync'ed from other threads while its owner writes.
//
// Each system call here but close(2) first passes the fault-injection check (fault_injection.h), so
// tests can make any of them fail; it costs one relaxed atomic load when no fault is armed.

#include <sys/uio.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "storage/errors.h"

namespace ms::storage {

enum class open_mode : uint8_t { read_write_create, read_write_existing, read_only };

class file {
public:
    file() = default;
    ~file();
    file(file&& other) noexcept;
    file& operator=(file&& other) noexcept;
    file(const file&) = delete;
    file& operator=(const file&) = delete;

    static result<file> open(const std::filesystem::path& path, open_mode mode);

    [[nodiscard]] int fd() const noexcept { return _fd; }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return _path; }
    [[nodiscard]] bool is_open() const noexcept { return _fd >= 0; }

    result<uint64_t> size() const;
    // Reads exactly out.size() bytes at pos; fewer bytes present is a corrupt error.
    result<void> read_exact(uint64_t pos, std::span<std::byte> out) const;
    // Reads up to out.size() bytes at pos; returns how many were read (less at end of file).
    result<size_t> read_some(uint64_t pos, std::span<std::byte> out) const;
    // Writes every byte of the iovecs at pos (any count of iovecs).
    result<void> write_all(uint64_t pos, std::span<const iovec> iov) const;
    result<void> write_all(uint64_t pos, std::span<const std::byte> bytes) const;
    result<void> truncate(uint64_t size) const;
    // fallocate(2) with FALLOC_FL_KEEP_SIZE: allocates the blocks of [offset, offset + length) without
    // changing the file's size, so later writes there find their blocks allocated. Blocks past the
    // size stay allocated until a truncate (to any size, the current one included) frees them.
    // False when the filesystem cannot (EOPNOTSUPP).
    result<bool> preallocate(uint64_t offset, uint64_t length) const;
    result<void> datasync() const;
    // syncfs(2): makes everything written on this file's filesystem durable (data, metadata,
    // directory entries) and reports any writeback error on that filesystem since this descriptor
    // was opened, whichever file it hit.
    result<void> sync_filesystem() const;
    // The device (st_dev) of the filesystem holding the file.
    result<uint64_t> device() const;
    result<void> close();
    // Renames the file (rename(2), atomic) and keeps the descriptor: it then names the new path.
    result<void> rename_to(const std::filesystem::path& to);

private:
    file(int fd, std::filesystem::path path) noexcept : _fd(fd), _path(std::move(path)) {}

    int _fd = -1;
    std::filesystem::path _path;
};

// Writes a whole file (replacing any content) and fdatasyncs it; the directory entry is not synced.
result<void> write_file_synced(const std::filesystem::path& path, std::span<const std::byte> bytes);
// Writes a small file so that a crash leaves either the old or the new content, never a mix:
// write to `path.tmp`, fdatasync, rename over `path`, fsync the directory.
result<void> write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);
// write_file_atomic's steps without the syncs: `path.tmp` is written and renamed over `path`. Not
// durable until a later sync of the filesystem; a crash before it may leave the old content, the
// new one or (on filesystems that do not write a renamed file's data first) a short file, so the
// reader must detect damage.
result<void> replace_file_unsynced(const std::filesystem::path& path, std::span<const std::byte> bytes);
// Makes the directory's entries (created, renamed, removed files) durable.
result<void> sync_directory(const std::filesystem::path& dir);
// Reads a whole small file.
result<std::string> read_small_file(const std::filesystem::path& path);
// The paths of a directory's entries, in no particular order.
result<std::vector<std::filesystem::path>> list_directory(const std::filesystem::path& dir);
// rename(2): atomically replaces `to` (not durable until the directory is synced).
result<void> rename_file(const std::filesystem::path& from, const std::filesystem::path& to);
// Removes a file; one that does not exist is not an error.
result<void> remove_file(const std::filesystem::path& path);

struct file_stat {
    uint64_t size = 0;
    int64_t modified_ms = 0; // last modification, ms since the epoch
    uint64_t device = 0;     // st_dev: the filesystem holding it
};
result<file_stat> stat_file(const std::filesystem::path& path);

} // namespace ms::storage
