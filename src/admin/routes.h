#pragma once
// routes: which admin endpoint a request names. Unknown paths are 404; a known path asked with
// another method than GET or HEAD is 405 (the answer carries `Allow: GET, HEAD`).
#include <optional>
#include <string_view>

namespace ms::admin {

enum class endpoint { metrics, health, ready, topics, groups, config };

struct route_result {
    std::optional<endpoint> target; // set when status is 200
    int status = 200;
};

[[nodiscard]] route_result route(std::string_view method, std::string_view path) noexcept;

} // namespace ms::admin
