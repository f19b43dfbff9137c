#pragma once
// The wall clock as Kafka uses it: milliseconds since the Unix epoch (record timestamps, commit
// times, retention). Time that only orders or measures durations uses steady_clock instead.
#include <chrono>
#include <cstdint>

namespace ms {

[[nodiscard]] inline int64_t wall_clock_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace ms
