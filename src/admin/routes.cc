#include "admin/routes.h"

#include <array>
#include <utility>

namespace ms::admin {

route_result route(std::string_view method, std::string_view path) noexcept {
    constexpr std::array<std::pair<std::string_view, endpoint>, 6> paths{{
      {"/metrics", endpoint::metrics},
      {"/v1/health", endpoint::health},
      {"/v1/ready", endpoint::ready},
      {"/v1/topics", endpoint::topics},
      {"/v1/groups", endpoint::groups},
      {"/v1/config", endpoint::config},
    }};
    for (const auto& [p, e] : paths) {
        if (p == path) {
            if (method != "GET" && method != "HEAD") {
                return {std::nullopt, 405};
            }
            return {e, 200};
        }
    }
    return {std::nullopt, 404};
}

} // namespace ms::admin
