// libFuzzer target for request decoding (protocol/frame.h: decode_request).
//
// The input is one request frame without its 4-byte size prefix: the header (API key, version,
// correlation id, client id, tagged fields when flexible) and the body. Checked on every input:
// - decode_request returns a value or a decode_error, and never reads outside the input, crashes
//   or hits undefined behaviour (ASan + UBSan);
// - the same bytes split into two pieces (the frame_view copy path) decode to the same result;
// - a decoded request encodes (encode_request) to a frame that decodes again, to an equal header
//   and body (operator== of the message structs), and encoding that gives the same bytes again.
// Any disagreement abort()s, so libFuzzer keeps the input.
//
// Seeds: fuzz/corpus/request_decode/, one random request per API at its lowest and highest
// version (written by fuzz/make_request_seeds.cc).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "base/endian.h"
#include "base/iobuf.h"
#include "protocol/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using ms::iobuf;
using ms::protocol::decode_request;
using ms::protocol::decoded_request;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "request_decode_fuzz: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what) {
    if (!ok) {
        fail(what);
    }
}

bool same(const decoded_request& a, const decoded_request& b) {
    return a.header == b.header && a.body == b.body;
}

// The frame encode_request writes for `d`, without its size prefix, in one piece.
iobuf reencode(const decoded_request& d) {
    iobuf framed;
    ms::protocol::encode_request(d.header, d.body, framed);
    check(framed.size() >= 4, "encode_request wrote no size prefix");
    std::array<std::byte, 4> prefix{};
    framed.copy_out(0, prefix);
    check(ms::load_be<uint32_t>(prefix.data()) == framed.size() - 4,
          "the size prefix does not match the frame");
    return framed.share(4, framed.size() - 4).copy();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    const iobuf frame = iobuf::copy_of(bytes);
    auto first = decode_request(frame);

    if (size >= 2) {
        const size_t cut = size / 2;
        iobuf two = iobuf::copy_of(bytes.first(cut));
        two.append(iobuf::copy_of(bytes.subspan(cut)));
        auto split = decode_request(two);
        check(split.has_value() == first.has_value(), "one piece and two pieces disagree");
        if (first) {
            check(same(*first, *split), "one piece and two pieces decode differently");
        } else {
            check(first.error().code == split.error().code &&
                    first.error().position == split.error().position,
                  "one piece and two pieces fail differently");
        }
    }

    if (!first) {
        check(first.error().position <= size, "error position past the input");
        return 0;
    }

    const iobuf encoded = reencode(*first);
    auto second = decode_request(encoded);
    check(second.has_value(), "a decoded request does not decode after encode_request");
    check(same(*first, *second), "decode -> encode -> decode changed the request");
    check(reencode(*second) == encoded, "encoding the same request twice gave different bytes");
    return 0;
}
