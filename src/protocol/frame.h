#pragma once

// Kafka frames: a 4-byte big-endian size, then a request (header + body) or a response (header +
// body). These functions go between a frame's bytes and decoded messages; they do no I/O.
//
// Request header versions: v2 (tagged fields) for flexible API versions, v1 otherwise. Response
// header: v1 for flexible versions, v0 otherwise, and always v0 for ApiVersions (so a client can
// parse the answer before it knows which versions the broker speaks).

#include <cstdint>

#include "base/iobuf.h"
#include "base/result.h"
#include "protocol/messages/any_message.h"
#include "protocol/messages/api_table.h"
#include "protocol/wire.h"

namespace ms::protocol {

inline constexpr int16_t api_versions_key = 18;

[[nodiscard]] api_version request_header_version(int16_t key, api_version version) noexcept;
[[nodiscard]] api_version response_header_version(int16_t key, api_version version) noexcept;

// The first fields of every request header, readable before anything is known about the API.
struct request_preamble {
    int16_t api_key = 0;
    api_version version = 0;
    int32_t correlation_id = 0;
};
// Reads the preamble of a request frame (without the size prefix). Fails only if it is truncated.
[[nodiscard]] result<request_preamble, decode_error> peek_request(const iobuf& frame);

struct decoded_request {
    request_header header;
    any_request body;
};

// Decodes a request frame (without the size prefix): unknown_api for an API key not in the table,
// unsupported_version for a version outside its range, otherwise the header and body; the body
// must use every byte. `records` fields share the frame's bytes.
[[nodiscard]] result<decoded_request, decode_error> decode_request(const iobuf& frame);

// Appends a whole request frame (size prefix included) to `out`.
void encode_request(const request_header& header, const any_request& body, iobuf& out);
// Appends a whole response frame (size prefix included) to `out`; `body` must be of `key`'s API.
void encode_response(int32_t correlation_id, api_version version, const any_response& body, iobuf& out);
// Decodes a response frame (without the size prefix) for a request of `key` at `version`.
[[nodiscard]] result<any_response, decode_error>
decode_response(const iobuf& frame, int16_t key, api_version version, int32_t* correlation_id);

} // namespace ms::protocol
