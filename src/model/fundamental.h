#pragma once

// The domain's vocabulary: distinct integer types for the protocol's integers, so that an offset
// can never be passed where a partition id or a leader epoch is expected.

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <ostream>
#include <string>

#include <fmt/format.h>

namespace ms::model {

// A distinct integer type. Arithmetic is only what the domain needs: offsets move by deltas.
template<typename T, typename Tag>
class named_int {
public:
    using value_type = T;

    constexpr named_int() noexcept = default;
    constexpr explicit named_int(T v) noexcept : _value(v) {}

    [[nodiscard]] constexpr T value() const noexcept { return _value; }
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
    constexpr auto operator<=>(const named_int&) const noexcept = default;

    static constexpr named_int min() noexcept { return named_int(std::numeric_limits<T>::min()); }
    static constexpr named_int max() noexcept { return named_int(std::numeric_limits<T>::max()); }

private:
    T _value{};
};

template<typename T, typename Tag>
std::ostream& operator<<(std::ostream& os, named_int<T, Tag> v) {
    return os << v.value();
}

struct offset_tag {};
struct leader_epoch_tag {};
struct partition_id_tag {};
struct node_id_tag {};
struct timestamp_tag {};

// A position in a partition's log (Kafka: int64). Offsets are dense for produced data.
class offset : public named_int<int64_t, offset_tag> {
public:
    using named_int::named_int;
    constexpr offset(named_int v) noexcept : named_int(v) {} // NOLINT(google-explicit-constructor)
    constexpr offset operator+(int64_t delta) const noexcept { return offset(value() + delta); }
    constexpr offset operator-(int64_t delta) const noexcept { return offset(value() - delta); }
    constexpr int64_t operator-(offset other) const noexcept { return value() - other.value(); }
    constexpr offset next() const noexcept { return offset(value() + 1); }
    constexpr offset prev() const noexcept { return offset(value() - 1); }
};
using leader_epoch = named_int<int32_t, leader_epoch_tag>;
using partition_id = named_int<int32_t, partition_id_tag>;
using node_id = named_int<int32_t, node_id_tag>;
// Milliseconds since the Unix epoch, as in Kafka; -1 means "no timestamp".
using timestamp = named_int<int64_t, timestamp_tag>;

inline constexpr timestamp no_timestamp{-1};
inline constexpr leader_epoch no_leader_epoch{-1};

struct topic_partition {
    std::string topic;
    partition_id partition;

    auto operator<=>(const topic_partition&) const = default;
};

} // namespace ms::model

template<typename T, typename Tag>
struct fmt::formatter<ms::model::named_int<T, Tag>> : fmt::formatter<T> {
    auto format(ms::model::named_int<T, Tag> v, fmt::format_context& ctx) const {
        return fmt::formatter<T>::format(v.value(), ctx);
    }
};
template<>
struct fmt::formatter<ms::model::offset> : fmt::formatter<int64_t> {
    auto format(ms::model::offset v, fmt::format_context& ctx) const {
        return fmt::formatter<int64_t>::format(v.value(), ctx);
    }
};
template<>
struct fmt::formatter<ms::model::topic_partition> : fmt::formatter<std::string_view> {
    auto format(const ms::model::topic_partition& tp, fmt::format_context& ctx) const {
        return fmt::format_to(ctx.out(), "{}-{}", tp.topic, tp.partition.value());
    }
};

template<typename T, typename Tag>
struct std::hash<ms::model::named_int<T, Tag>> {
    size_t operator()(ms::model::named_int<T, Tag> v) const noexcept { return std::hash<T>{}(v.value()); }
};
template<>
struct std::hash<ms::model::offset> {
    size_t operator()(ms::model::offset v) const noexcept { return std::hash<int64_t>{}(v.value()); }
};
template<>
struct std::hash<ms::model::topic_partition> {
    size_t operator()(const ms::model::topic_partition& tp) const noexcept {
        return std::hash<std::string>{}(tp.topic) * 31 + std::hash<int32_t>{}(tp.partition.value());
    }
};
