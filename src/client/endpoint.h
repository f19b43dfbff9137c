#pragma once

// Where a client connects: "HOST:PORT" items, as given to --brokers.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ms::client {

struct endpoint {
    std::string host;
    uint16_t port = 0;

    [[nodiscard]] std::string to_string() const;
    bool operator==(const endpoint&) const = default;
};

// Parses "HOST:PORT[,HOST:PORT...]" ("[::1]:9092" for IPv6). Fails with a message naming the bad
// item: a missing or non-numeric port, a port outside 1..65535, an empty host or list.
[[nodiscard]] result<std::vector<endpoint>, std::string> parse_endpoints(std::string_view text);

} // namespace ms::client
