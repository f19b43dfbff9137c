#pragma once

// random_source: where generated fill_random() functions get their values, so the same
// generators serve RapidCheck properties (values drawn from rc::gen) and plain seeded tests.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/iobuf.h"
#include "model/record_batch_builder.h"
#include "protocol/wire.h"

namespace ms::protocol {

class random_source {
public:
    random_source() = default;
    random_source(const random_source&) = delete;
    random_source& operator=(const random_source&) = delete;
    virtual ~random_source() = default;

    virtual uint64_t next() = 0;

    // Uniform in [0, n); n > 0.
    size_t below(size_t n) { return static_cast<size_t>(next() % n); }
    // True with probability 1/n.
    bool chance(size_t n) { return below(n) == 0; }
    double random_double() {
        return static_cast<double>(static_cast<int64_t>(next() % 2000001) - 1000000) / 8.0;
    }
    uuid random_uuid() {
        uuid u;
        for (auto& b : u.bytes) {
            b = static_cast<std::byte>(next());
        }
        return u;
    }
    std::string random_string() {
        std::string s(below(12), '\0');
        for (char& c : s) {
            c = static_cast<char>('a' + below(26));
        }
        return s;
    }
    std::vector<std::byte> random_bytes() {
        std::vector<std::byte> b(below(16));
        for (auto& x : b) {
            x = static_cast<std::byte>(next());
        }
        return b;
    }
    // A small valid record batch: the codec never looks inside, but third-party decoders
    // (Wireshark's dissector) do.
    iobuf random_records() {
        model::record_batch_builder b{
          model::timestamp(1'700'000'000'000 + static_cast<int64_t>(below(1000)))};
        const size_t n = 1 + below(3);
        for (size_t i = 0; i < n; ++i) {
            const std::string key = random_string();
            const std::string value = random_string();
            b.add(chance(4) ? std::nullopt : std::optional<std::string_view>(key), value);
        }
        return b.build();
    }
};

class seeded_random final : public random_source {
public:
    explicit seeded_random(uint64_t seed) : _rng(seed) {}
    uint64_t next() override { return _rng(); }

private:
    std::mt19937_64 _rng;
};

} // namespace ms::protocol
