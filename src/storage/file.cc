#include "storage/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "storage/fault_injection.h"

namespace ms::storage {

std::string_view describe(errc e) noexcept {
    switch (e) {
    case errc::invalid_batch: return "invalid record batch";
    case errc::offset_out_of_range: return "offset out of range";
    case errc::io_error: return "I/O error";
    case errc::no_space: return "no space left on device";
    case errc::corrupt: return "corrupt data on disk";
    case errc::log_failed: return "log failed after an I/O error";
    case errc::closed: return "log closed";
    case errc::invalid_config: return "invalid configuration";
    }
    return "unknown storage error";
}

error system_error(int errno_value, std::string_view what) {
    const bool full = errno_value == ENOSPC || errno_value == EDQUOT;
    std::string hint = full ? "; free space on the data directory's file system" : "";
    return error{full ? errc::no_space : errc::io_error,
                 fmt::format("{}: {}{}", what, std::strerror(errno_value), hint)};
}

namespace {

// An injected torn write: puts the first `bytes` bytes of `iov` at `pos` for real, as a device that
// fails part way through a request leaves them. errno is kept for the caller's error.
void write_torn_prefix(int fd, std::span<const iovec> iov, uint64_t pos, uint64_t bytes) {
    const int saved_errno = errno;
    std::vector<iovec> part;
    for (const iovec& v : iov) {
        if (bytes == 0) {
            break;
        }
        const size_t n = std::min<uint64_t>(v.iov_len, bytes);
        part.push_back(iovec{v.iov_base, n});
        bytes -= n;
    }
    if (!part.empty()) {
        (void)::pwritev(fd, part.data(), static_cast<int>(part.size()), static_cast<off_t>(pos));
    }
    errno = saved_errno;
}

} // namespace

file::~file() {
    if (_fd >= 0) {
        ::close(_fd);
    }
}

file::file(file&& other) noexcept : _fd(other._fd), _path(std::move(other._path)) {
    other._fd = -1;
}

file& file::operator=(file&& other) noexcept {
    if (this != &other) {
        if (_fd >= 0) {
            ::close(_fd);
        }
        _fd = other._fd;
        _path = std::move(other._path);
        other._fd = -1;
    }
    return *this;
}

result<file> file::open(const std::filesystem::path& path, open_mode mode) {
    int flags = O_CLOEXEC;
    switch (mode) {
    case open_mode::read_write_create: flags |= O_RDWR | O_CREAT; break;
    case open_mode::read_write_existing: flags |= O_RDWR; break;
    case open_mode::read_only: flags |= O_RDONLY; break;
    }
    int fd = -1;
    do {
        fd = fault_injection::injected(fault_op::open, path) ? -1 : ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return unexpected(system_error(errno, fmt::format("open {}", path.string())));
    }
    return file(fd, path);
}

result<uint64_t> file::size() const {
    struct stat st {};
    if (fault_injection::injected(fault_op::stat, _path) || ::fstat(_fd, &st) != 0) {
        return unexpected(system_error(errno, fmt::format("fstat {}", _path.string())));
    }
    return static_cast<uint64_t>(st.st_size);
}

result<size_t> file::read_some(uint64_t pos, std::span<std::byte> out) const {
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n =
          fault_injection::injected(fault_op::read, _path)
            ? -1
            : ::pread(_fd, out.data() + done, out.size() - done, static_cast<off_t>(pos + done));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return unexpected(system_error(errno, fmt::format("read {} at byte {}", _path.string(), pos)));
        }
        if (n == 0) {
            break;
        }
        done += static_cast<size_t>(n);
    }
    return done;
}

result<void> file::read_exact(uint64_t pos, std::span<std::byte> out) const {
    auto n = read_some(pos, out);
    if (!n) {
        return unexpected(std::move(n.error()));
    }
    if (*n != out.size()) {
        return unexpected(
          error{errc::corrupt, fmt::format("{}: expected {} bytes at byte {}, file ends after {}",
                                           _path.string(), out.size(), pos, *n)});
    }
    return {};
}

result<void> file::write_all(uint64_t pos, std::span<const iovec> iov_in) const {
    // A private copy of the iovec array: short writes advance it in place.
    std::vector<iovec> iov(iov_in.begin(), iov_in.end());
    size_t first = 0;
    while (first < iov.size()) {
        if (iov[first].iov_len == 0) {
            ++first;
            continue;
        }
        const int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
        uint64_t torn = 0;
        ssize_t n = -1;
        if (fault_injection::injected_write(_path, torn)) {
            write_torn_prefix(_fd, std::span<const iovec>(&iov[first], static_cast<size_t>(count)), pos,
                              torn);
        } else {
            n = ::pwritev(_fd, &iov[first], count, static_cast<off_t>(pos));
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return unexpected(system_error(errno, fmt::format("write {} at byte {}", _path.string(), pos)));
        }
        pos += static_cast<uint64_t>(n);
        auto left = static_cast<size_t>(n);
        while (left > 0 && first < iov.size()) {
            if (left >= iov[first].iov_len) {
                left -= iov[first].iov_len;
                ++first;
            } else {
                iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
                iov[first].iov_len -= left;
                left = 0;
            }
        }
    }
    return {};
}

result<void> file::write_all(uint64_t pos, std::span<const std::byte> bytes) const {
    const iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()}; // NOLINT: iovec is not const-correct
    return write_all(pos, std::span<const iovec>(&iov, 1));
}

result<bool> file::preallocate(uint64_t offset, uint64_t length) const {
    int rc = 0;
    do {
        rc =
          fault_injection::injected(fault_op::allocate, _path)
            ? -1
            : ::fallocate(_fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(length));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno == EOPNOTSUPP) {
        return false;
    }
    if (rc != 0) {
        return unexpected(system_error(
          errno, fmt::format("preallocate {} bytes at {} of {}", length, offset, _path.string())));
    }
    return true;
}

result<void> file::truncate(uint64_t size) const {
    int rc = 0;
    do {
        rc = fault_injection::injected(fault_op::truncate, _path)
               ? -1
               : ::ftruncate(_fd, static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        return unexpected(system_error(errno, fmt::format("truncate {} to {} bytes", _path.string(), size)));
    }
    return {};
}

result<void> file::datasync() const {
    if (fault_injection::injected(fault_op::datasync, _path) || ::fdatasync(_fd) != 0) {
        return unexpected(system_error(errno, fmt::format("fdatasync {}", _path.string())));
    }
    return {};
}

result<void> file::sync_filesystem() const {
    if (fault_injection::injected(fault_op::datasync, _path) || ::syncfs(_fd) != 0) {
        return unexpected(system_error(errno, fmt::format("syncfs (the filesystem of {})", _path.string())));
    }
    return {};
}

result<uint64_t> file::device() const {
    struct stat st {};
    if (fault_injection::injected(fault_op::stat, _path) || ::fstat(_fd, &st) != 0) {
        return unexpected(system_error(errno, fmt::format("fstat {}", _path.string())));
    }
    return static_cast<uint64_t>(st.st_dev);
}

result<void> file::close() {
    if (_fd < 0) {
        return {};
    }
    const int fd = _fd;
    _fd = -1;
    if (::close(fd) != 0 && errno != EINTR) {
        return unexpected(system_error(errno, fmt::format("close {}", _path.string())));
    }
    return {};
}

result<void> sync_directory(const std::filesystem::path& dir) {
    auto d = file::open(dir, open_mode::read_only);
    if (!d) {
        return unexpected(std::move(d.error()));
    }
    if (fault_injection::injected(fault_op::datasync, dir) || ::fsync(d->fd()) != 0) {
        return unexpected(system_error(errno, fmt::format("fsync directory {}", dir.string())));
    }
    return {};
}

namespace {

result<void> write_whole_file(const std::filesystem::path& path, std::span<const std::byte> bytes,
                              bool synced) {
    auto f = file::open(path, open_mode::read_write_create);
    if (!f) {
        return unexpected(std::move(f.error()));
    }
    if (auto r = f->truncate(0); !r) {
        return r;
    }
    if (auto r = f->write_all(0, bytes); !r) {
        return r;
    }
    if (synced) {
        if (auto r = f->datasync(); !r) {
            return r;
        }
    }
    return f->close();
}

std::filesystem::path temp_path_for(const std::filesystem::path& path) {
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    return tmp;
}

} // namespace

result<void> write_file_synced(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    return write_whole_file(path, bytes, true);
}

result<void> write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    const auto tmp = temp_path_for(path);
    if (auto r = write_whole_file(tmp, bytes, true); !r) {
        return r;
    }
    if (auto r = rename_file(tmp, path); !r) {
        return r;
    }
    return sync_directory(path.parent_path());
}

result<void> replace_file_unsynced(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    const auto tmp = temp_path_for(path);
    if (auto r = write_whole_file(tmp, bytes, false); !r) {
        return r;
    }
    return rename_file(tmp, path);
}

result<void> rename_file(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (fault_injection::injected(fault_op::rename, from) || ::rename(from.c_str(), to.c_str()) != 0) {
        return unexpected(system_error(errno, fmt::format("rename {} to {}", from.string(), to.string())));
    }
    return {};
}

result<void> file::rename_to(const std::filesystem::path& to) {
    if (auto r = rename_file(_path, to); !r) {
        return r;
    }
    _path = to;
    return {};
}

result<std::string> read_small_file(const std::filesystem::path& path) {
    auto f = file::open(path, open_mode::read_only);
    if (!f) {
        return unexpected(std::move(f.error()));
    }
    auto size = f->size();
    if (!size) {
        return unexpected(std::move(size.error()));
    }
    std::string out(*size, '\0');
    if (auto r = f->read_exact(0, {reinterpret_cast<std::byte*>(out.data()), out.size()}); !r) {
        return unexpected(std::move(r.error()));
    }
    return out;
}

result<std::vector<std::filesystem::path>> list_directory(const std::filesystem::path& dir) {
    auto failed = [&](int errno_value) {
        return unexpected(system_error(errno_value, fmt::format("list directory {}", dir.string())));
    };
    if (fault_injection::injected(fault_op::open, dir)) {
        return failed(errno);
    }
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    // increment(ec), not ++: the range-for form throws on a read error.
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        out.push_back(it->path());
    }
    if (ec) {
        return failed(ec.value());
    }
    return out;
}

result<void> remove_file(const std::filesystem::path& path) {
    if ((fault_injection::injected(fault_op::unlink, path) || ::unlink(path.c_str()) != 0) &&
        errno != ENOENT) {
        return unexpected(system_error(errno, fmt::format("remove {}", path.string())));
    }
    return {};
}

result<file_stat> stat_file(const std::filesystem::path& path) {
    struct stat st {};
    if (fault_injection::injected(fault_op::stat, path) || ::stat(path.c_str(), &st) != 0) {
        return unexpected(system_error(errno, fmt::format("stat {}", path.string())));
    }
    constexpr int64_t ns_per_ms = 1'000'000;
    return file_stat{static_cast<uint64_t>(st.st_size),
                     int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / ns_per_ms,
                     static_cast<uint64_t>(st.st_dev)};
}

} // namespace ms::storage
