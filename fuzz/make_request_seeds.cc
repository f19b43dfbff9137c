// Writes the seed corpus of fuzz_request_decode: for every API, one request frame (without its
// size prefix) at the lowest and one at the highest version, as files <api>_v<version> in the
// given directory. Each is the largest of 16 seeded random requests that fits in 1 KiB: nested
// arrays and record batches filled in, so the fuzzer starts from every struct of the schema,
// yet small enough to mutate quickly. Same program, same corpus.
//
// usage: make_request_seeds OUT_DIR

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "base/iobuf.h"
#include "protocol/frame.h"
#include "protocol/messages/random_fill.h"
#include "protocol/testing/random_source.h"

namespace ms::protocol {
namespace {

constexpr size_t max_seed_size = 1024;
constexpr uint64_t candidates = 16;

// A request frame without its size prefix.
std::vector<std::byte> random_frame(const api_info& api, api_version v, uint64_t seed) {
    seeded_random rnd(seed);
    request_header h;
    h.request_api_key = api_key(api.key);
    h.request_api_version = v;
    h.correlation_id = 1;
    h.client_id = "seed";
    const any_request body = random_request(api.key, v, rnd);
    iobuf framed;
    encode_request(h, body, framed);
    return framed.share(4, framed.size() - 4).to_bytes();
}

std::string file_name(const api_info& api, api_version v) {
    std::string out;
    for (const char c : api.name) {
        if (std::isupper(static_cast<unsigned char>(c)) != 0 && !out.empty()) {
            out += '_';
        }
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out + "_v" + std::to_string(v);
}

int write_seeds(const std::string& dir) {
    size_t written = 0;
    for (const api_info& api : api_table) {
        std::vector<api_version> versions{api.min_version};
        if (api.max_version != api.min_version) {
            versions.push_back(api.max_version);
        }
        for (const api_version v : versions) {
            std::optional<std::vector<std::byte>> best;
            for (uint64_t seed = 1; seed <= candidates; ++seed) {
                std::vector<std::byte> frame = random_frame(api, v, seed);
                // Every seed must be a valid request, or the corpus starts the fuzzer off wrong.
                if (!decode_request(iobuf::copy_of(frame)).has_value()) {
                    std::fprintf(stderr, "%s v%d seed %llu does not decode\n", std::string(api.name).c_str(),
                                 v, static_cast<unsigned long long>(seed));
                    return 1;
                }
                if (frame.size() <= max_seed_size && (!best || frame.size() > best->size())) {
                    best = std::move(frame);
                }
            }
            if (!best) {
                std::fprintf(stderr, "%s v%d: no candidate under %zu bytes\n", std::string(api.name).c_str(),
                             v, max_seed_size);
                return 1;
            }
            const std::string path = dir + "/" + file_name(api, v);
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out.write(reinterpret_cast<const char*>(best->data()),
                      static_cast<std::streamsize>(best->size()));
            if (!out) {
                std::fprintf(stderr, "cannot write %s\n", path.c_str());
                return 1;
            }
            ++written;
        }
    }
    std::printf("wrote %zu seeds to %s\n", written, dir.c_str());
    return 0;
}

} // namespace
} // namespace ms::protocol

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    return ms::protocol::write_seeds(argv[1]);
}
