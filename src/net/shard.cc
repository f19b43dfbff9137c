#include "net/shard.h"

#include <pthread.h>
#include <sched.h>

#include <fmt/format.h>

#include "base/logging.h"

namespace ms::net {

namespace {
thread_local shard* current_shard = nullptr;

// The CPUs this process may run on, in order (respects taskset/cgroup limits).
std::vector<unsigned> allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<unsigned> cpus;
    if (::sched_getaffinity(0, sizeof set, &set) != 0) {
        return cpus;
    }
    for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) {
            cpus.push_back(cpu);
        }
    }
    return cpus;
}
} // namespace

shard::shard(shard_id id, std::optional<unsigned> cpu, std::chrono::microseconds spin)
  : _id(id), _cpu(cpu), _spin(spin) {}

void shard::run_loop() {
    if (_spin.count() <= 0) {
        _io.run();
        return;
    }
    using steady = std::chrono::steady_clock;
    while (!_io.stopped()) {
        auto idle_since = steady::now();
        while (steady::now() - idle_since < _spin && !_io.stopped()) {
            if (_io.poll() > 0) {
                idle_since = steady::now();
            }
        }
        _io.run_one(); // parks in epoll until something arrives
    }
}

shard::~shard() {
    stop();
}

shard* shard::current() noexcept {
    return current_shard;
}

void shard::start() {
    _guard.emplace(_io.get_executor());
    _thread = std::thread([this] {
        current_shard = this;
        if (_cpu) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(*_cpu, &set);
            if (::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) != 0) {
                logging::get("net")->warn("shard {}: could not pin to cpu {}; running unpinned", _id, *_cpu);
            }
        }
        const std::string name = fmt::format("shard-{}", _id);
        ::pthread_setname_np(::pthread_self(), name.c_str());
        run_loop();
        current_shard = nullptr;
    });
}

void shard::stop() {
    if (!_thread.joinable()) {
        return;
    }
    _guard.reset();
    _io.stop();
    _thread.join();
}

shard_set::shard_set(size_t count, bool pin, std::chrono::microseconds spin) {
    const std::vector<unsigned> cpus = pin ? allowed_cpus() : std::vector<unsigned>{};
    for (size_t i = 0; i < count; ++i) {
        std::optional<unsigned> cpu;
        if (!cpus.empty()) {
            cpu = cpus[i % cpus.size()];
        }
        _shards.push_back(std::make_unique<shard>(static_cast<shard_id>(i), cpu, spin));
    }
}

void shard_set::start() {
    for (auto& s : _shards) {
        s->start();
    }
}

void shard_set::stop() {
    for (auto& s : _shards) {
        s->stop();
    }
}

} // namespace ms::net
