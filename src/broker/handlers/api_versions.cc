// ApiVersions (key 18): the APIs and versions this broker serves, from handler_table.
#include "broker/handlers/handler.h"

namespace ms::broker {

namespace {
// KIP-511: ClientSoftwareName/Version must match [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
bool valid_software_field(std::string_view s) {
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (s.empty() || !alnum(s.front()) || !alnum(s.back())) {
        return false;
    }
    for (char c : s) {
        if (!alnum(c) && c != '-' && c != '.') {
            return false;
        }
    }
    return true;
}
} // namespace

boost::asio::awaitable<handler_reply> handle_api_versions(request_context& ctx, protocol::any_request& body) {
    const auto& request = std::get<protocol::api_versions_request>(body);
    protocol::api_versions_response r;
    if (ctx.version >= 3 && (!valid_software_field(request.client_software_name) ||
                             !valid_software_field(request.client_software_version))) {
        r.error_code = error_code(protocol::kafka_error::invalid_request);
    }
    for (const handler_entry& h : handler_table) {
        r.api_keys.push_back({protocol::api_key(h.key), h.min_version, h.max_version, {}});
    }
    co_return handler_reply{std::move(r)};
}

} // namespace ms::broker
