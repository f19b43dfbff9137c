// write_frames: writes a random request and its response for every API and version we encode,
// as a stream of records `u8 direction (0 request, 1 response) | u32 BE length | frame bytes`,
// for tshark_check.py to wrap in a pcap and hand to Wireshark's Kafka dissector.
//
// usage: write_frames OUT_FILE [SEED]

#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "base/endian.h"
#include "protocol/frame.h"
#include "protocol/messages/random_fill.h"

namespace {

// Plausible values (small non-negative integers), so the dissector's checks of field meanings
// (known API keys, sane counts) pass and only the encoding is judged.
class plausible_random final : public ms::protocol::random_source {
public:
    explicit plausible_random(uint64_t seed) : _rng(seed) {}
    uint64_t next() override { return _rng() % 64; }

private:
    std::mt19937_64 _rng;
};

} // namespace

int main(int argc, char** argv) {
    using namespace ms::protocol;
    if (argc < 2) {
        (void)std::fprintf(stderr, "usage: %s OUT_FILE [SEED]\n", argv[0]);
        return 2;
    }
    plausible_random rnd(argc > 2 ? std::stoull(argv[2]) : 7);
    std::ofstream out(argv[1], std::ios::binary);
    int32_t correlation = 1;
    auto emit = [&](uint8_t direction, const ms::iobuf& frame) {
        std::array<std::byte, 5> head{};
        head[0] = static_cast<std::byte>(direction);
        ms::store_be<uint32_t>(&head[1], static_cast<uint32_t>(frame.size()));
        out.write(reinterpret_cast<const char*>(head.data()), head.size());
        const std::string bytes = frame.to_string();
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    };
    for (const api_info& api : api_table) {
        for (api_version v = api.min_version; v <= api.max_version; ++v) {
            request_header h;
            h.request_api_key = api_key(api.key);
            h.request_api_version = v;
            h.correlation_id = correlation;
            h.client_id = "memorystreamer-tshark-check";
            ms::iobuf request;
            encode_request(h, random_request(api.key, v, rnd), request);
            emit(0, request);
            ms::iobuf response;
            encode_response(correlation, v, random_response(api.key, v, rnd), response);
            emit(1, response);
            ++correlation;
        }
    }
    return out.good() ? 0 : 1;
}
