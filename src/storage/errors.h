#pragma once

// Errors of the storage layer. The code says what kind of failure it is (the broker maps it to a
// Kafka error); the message says what happened and where, for the operator.

#include <string>
#include <string_view>

#include "base/result.h"
#include "model/record_batch.h"

namespace ms::storage {

enum class errc : uint8_t {
    invalid_batch,       // the batch failed validation; nothing was written (see batch_error)
    offset_out_of_range, // read below the log start or above the log end
    io_error,            // a system call failed (message has the path and errno text)
    no_space,            // ENOSPC/EDQUOT: the file system is full; nothing partial was kept
    corrupt,             // bytes on disk do not parse where they must (checkpoint, index, batch)
    log_failed,          // an earlier fsync or truncate failed: the log refuses writes until reopened
    closed,              // the log was closed
    invalid_config,      // a configuration value out of its range
};

[[nodiscard]] std::string_view describe(errc e) noexcept;

struct error {
    errc code = errc::io_error;
    std::string message;
    // Set when code == invalid_batch.
    model::batch_errc batch_error = model::batch_errc::truncated;
};

// An error from a failed system call: code io_error, or no_space for ENOSPC/EDQUOT.
[[nodiscard]] error system_error(int errno_value, std::string_view what);

template<typename T>
using result = ms::result<T, error>;

} // namespace ms::storage
