#include "base/log_limiter.h"

#include <fmt/format.h>

namespace ms::logging {

log_limiter::decision log_limiter::admit() {
    const clock::time_point now = _now ? _now() : clock::now();
    if (!_started || now - _window_start >= _interval) {
        _started = true;
        _window_start = now;
        _in_window = 0;
    }
    if (_in_window >= _burst) {
        ++_suppressed;
        return {false, 0};
    }
    ++_in_window;
    const decision d{true, _suppressed};
    _suppressed = 0;
    return d;
}

std::string log_limiter::suffix(const decision& d) {
    if (d.suppressed == 0) {
        return {};
    }
    return fmt::format(" (suppressed {} similar message{})", d.suppressed, d.suppressed == 1 ? "" : "s");
}

} // namespace ms::logging
