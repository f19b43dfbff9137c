#include "protocol/frame.h"

#include <array>

#include "base/endian.h"

namespace ms::protocol {

namespace {

constexpr int16_t controlled_shutdown_key = 7;

bool flexible(int16_t key, api_version version) noexcept {
    const api_info* api = find_api(key);
    return api != nullptr && is_flexible(*api, version);
}

// A reader over the frame: zero-copy when the frame is one contiguous piece (the usual case,
// since the connection reads a frame into one buffer), else over a private linear copy.
struct frame_view {
    iobuf linear;
    const iobuf* source;
    std::span<const std::byte> bytes;

    explicit frame_view(const iobuf& frame) : source(&frame) {
        bytes = frame.contiguous(0, frame.size());
        if (bytes.size() != frame.size()) {
            linear = frame.copy();
            source = &linear;
            bytes = linear.contiguous(0, linear.size());
        }
    }
};

// Fills in the 4-byte size prefix written as a placeholder at the start of the frame.
void finish_frame(iobuf& out, size_t frame_start) {
    std::array<std::byte, 4> size{};
    store_be<int32_t>(size.data(), static_cast<int32_t>(out.size() - frame_start - 4));
    iobuf tail = out.share(frame_start + 4, out.size() - frame_start - 4);
    out.trim_back(out.size() - frame_start);
    out.append(size);
    out.append(std::move(tail));
}

} // namespace

api_version request_header_version(int16_t key, api_version version) noexcept {
    if (key == controlled_shutdown_key && version == 0) {
        return 0;
    }
    return flexible(key, version) ? 2 : 1;
}

api_version response_header_version(int16_t key, api_version version) noexcept {
    if (key == api_versions_key) {
        return 0; // KIP-511: clients parse it before knowing what the broker speaks
    }
    return flexible(key, version) ? 1 : 0;
}

result<request_preamble, decode_error> peek_request(const iobuf& frame) {
    if (frame.size() < 8) {
        return unexpected(decode_error{decode_errc::truncated, frame.size()});
    }
    std::array<std::byte, 8> raw{};
    frame.copy_out(0, raw);
    return request_preamble{load_be<int16_t>(&raw[0]), load_be<int16_t>(&raw[2]), load_be<int32_t>(&raw[4])};
}

result<decoded_request, decode_error> decode_request(const iobuf& frame) {
    auto preamble = peek_request(frame);
    if (!preamble) {
        return unexpected(preamble.error());
    }
    const api_info* api = find_api(preamble->api_key);
    if (api == nullptr) {
        return unexpected(decode_error{decode_errc::unknown_api, 0});
    }
    if (preamble->version < api->min_version || preamble->version > api->max_version) {
        return unexpected(decode_error{decode_errc::unsupported_version, 2});
    }
    frame_view view(frame);
    wire_reader r(view.bytes, view.source, 0);
    decoded_request out{request_header{}, any_request{}};
    out.header.decode(r, request_header_version(preamble->api_key, preamble->version));
    if (!r.ok()) {
        return unexpected(*r.error());
    }
    auto body = decode_request_body(preamble->api_key, preamble->version, r);
    if (!body) {
        return unexpected(body.error());
    }
    out.body = std::move(*body);
    return out;
}

void encode_request(const request_header& header, const any_request& body, iobuf& out) {
    const size_t start = out.size();
    {
        wire_writer w(out);
        w.write_int32(0); // size, filled in below
        header.encode(w, request_header_version(header.request_api_key.value(), header.request_api_version));
        encode_body(body, header.request_api_version, w);
    }
    finish_frame(out, start);
}

void encode_response(int32_t correlation_id, api_version version, const any_response& body, iobuf& out) {
    const size_t start = out.size();
    {
        wire_writer w(out);
        w.write_int32(0);
        response_header header;
        header.correlation_id = correlation_id;
        header.encode(w, response_header_version(api_key_of(body), version));
        encode_body(body, version, w);
    }
    finish_frame(out, start);
}

result<any_response, decode_error> decode_response(const iobuf& frame, int16_t key, api_version version,
                                                   int32_t* correlation_id) {
    frame_view view(frame);
    wire_reader r(view.bytes, view.source, 0);
    response_header header;
    header.decode(r, response_header_version(key, version));
    if (!r.ok()) {
        return unexpected(*r.error());
    }
    if (correlation_id != nullptr) {
        *correlation_id = header.correlation_id;
    }
    return decode_response_body(key, version, r);
}

} // namespace ms::protocol
