#pragma once

// result<T, E>: a value or an error, returned by every function that can fail on the data path.
// No exceptions cross module boundaries on the data path; callers must look at the result
// ([[nodiscard]]). E is the module's own error type (an enum, or a struct with a code and a message
// when the failure needs context for an operator).

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace ms {

// Wraps an error so that `return unexpected(errc::x);` converts into any result<T, E>.
template<typename E>
struct unexpected {
    E error;
    explicit unexpected(E e) : error(std::move(e)) {}
};

template<typename E>
unexpected(E) -> unexpected<E>;

template<typename T, typename E>
class [[nodiscard]] result {
public:
    using value_type = T;
    using error_type = E;

    // NOLINTNEXTLINE(google-explicit-constructor): implicit by design, like std::expected.
    result(T value) : _state(std::in_place_index<0>, std::move(value)) {}
    template<typename G>
    // NOLINTNEXTLINE(google-explicit-constructor)
    result(unexpected<G> e) : _state(std::in_place_index<1>, E(std::move(e.error))) {}

    [[nodiscard]] bool has_value() const noexcept { return _state.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    // REQUIRES: has_value().
    T& value() & {
        assert(has_value());
        return *std::get_if<0>(&_state);
    }
    const T& value() const& {
        assert(has_value());
        return *std::get_if<0>(&_state);
    }
    T&& value() && {
        assert(has_value());
        return std::move(*std::get_if<0>(&_state));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    // REQUIRES: !has_value().
    E& error() & {
        assert(!has_value());
        return *std::get_if<1>(&_state);
    }
    const E& error() const& {
        assert(!has_value());
        return *std::get_if<1>(&_state);
    }

private:
    std::variant<T, E> _state;
};

// result<void, E>: success carries no value.
template<typename E>
class [[nodiscard]] result<void, E> {
public:
    using value_type = void;
    using error_type = E;

    result() = default;
    template<typename G>
    // NOLINTNEXTLINE(google-explicit-constructor)
    result(unexpected<G> e) : _error(E(std::move(e.error))), _has_error(true) {}

    [[nodiscard]] bool has_value() const noexcept { return !_has_error; }
    explicit operator bool() const noexcept { return has_value(); }

    // REQUIRES: !has_value().
    E& error() & {
        assert(_has_error);
        return _error;
    }
    const E& error() const& {
        assert(_has_error);
        return _error;
    }

private:
    E _error{};
    bool _has_error = false;
};

} // namespace ms
