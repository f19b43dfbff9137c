#include "storage/fault_injection.h"

#include <array>
#include <mutex>
#include <vector>

namespace ms::storage::fault_injection {

namespace detail {
std::atomic<uint32_t> armed_ops{0};
} // namespace detail

namespace {

constexpr size_t op_count = static_cast<size_t>(fault_op::allocate) + 1;

struct armed_fault {
    fault spec;
    uint32_t skip_left = 0;
    uint32_t failures_left = 0;
};

// Only touched while a fault is armed, i.e. in tests: a plain mutex keeps it simple.
struct fault_table {
    std::mutex mutex;
    std::vector<armed_fault> faults;
    std::array<uint64_t, op_count> fired{};

    // REQUIRES: mutex held. Publishes which operations still have faults armed.
    void publish() {
        uint32_t mask = 0;
        for (const armed_fault& f : faults) {
            mask |= detail::bit(f.spec.op);
        }
        detail::armed_ops.store(mask, std::memory_order_relaxed);
    }
};

fault_table& table() {
    static fault_table t;
    return t;
}

} // namespace

void arm(fault f) {
    fault_table& t = table();
    std::lock_guard lock(t.mutex);
    if (f.times == 0) {
        return;
    }
    const uint32_t skip = f.skip;
    const uint32_t times = f.times;
    t.faults.push_back(armed_fault{std::move(f), skip, times});
    t.publish();
}

void clear() {
    fault_table& t = table();
    std::lock_guard lock(t.mutex);
    t.faults.clear();
    t.fired.fill(0);
    t.publish();
}

uint64_t fired(fault_op op) {
    fault_table& t = table();
    std::lock_guard lock(t.mutex);
    return t.fired[static_cast<size_t>(op)];
}

int detail::take(fault_op op, const std::filesystem::path& path, uint64_t* torn_bytes) noexcept {
    fault_table& t = table();
    std::lock_guard lock(t.mutex);
    for (auto it = t.faults.begin(); it != t.faults.end(); ++it) {
        armed_fault& f = *it;
        if (f.spec.op != op || (!f.spec.path_contains.empty() &&
                                path.native().find(f.spec.path_contains) == std::string::npos)) {
            continue;
        }
        if (f.skip_left > 0) {
            --f.skip_left;
            return 0;
        }
        const int error = f.spec.error;
        if (torn_bytes != nullptr) {
            *torn_bytes = f.spec.torn_bytes;
        }
        ++t.fired[static_cast<size_t>(op)];
        if (f.failures_left != fault::always && --f.failures_left == 0) {
            t.faults.erase(it);
            t.publish();
        }
        return error;
    }
    return 0;
}

} // namespace ms::storage::fault_injection
