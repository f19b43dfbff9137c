#include "client/endpoint.h"

#include <charconv>

#include <fmt/format.h>

namespace ms::client {

std::string endpoint::to_string() const {
    if (host.find(':') != std::string::npos) {
        return fmt::format("[{}]:{}", host, port);
    }
    return fmt::format("{}:{}", host, port);
}

namespace {

result<endpoint, std::string> parse_one(std::string_view item) {
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos) {
        return unexpected(fmt::format("'{}' has no port: use HOST:PORT, e.g. 127.0.0.1:9092", item));
    }
    std::string_view host = item.substr(0, colon);
    const std::string_view port_text = item.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) {
        return unexpected(fmt::format("'{}' has no host: use HOST:PORT", item));
    }
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
        return unexpected(fmt::format("'{}': the port must be a number from 1 to 65535", item));
    }
    return endpoint{std::string(host), static_cast<uint16_t>(port)};
}

} // namespace

result<std::vector<endpoint>, std::string> parse_endpoints(std::string_view text) {
    std::vector<endpoint> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        if (!item.empty()) {
            auto parsed = parse_one(item);
            if (!parsed) {
                return unexpected(std::move(parsed.error()));
            }
            out.push_back(std::move(*parsed));
        }
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
    if (out.empty()) {
        return unexpected(std::string("no broker address given: use HOST:PORT[,HOST:PORT...]"));
    }
    return out;
}

} // namespace ms::client
