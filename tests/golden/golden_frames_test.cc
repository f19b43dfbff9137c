// Every committed golden frame decodes, and re-encodes to exactly the bytes the client sent (or
// the response bytes it accepted). Files: frames/<client>/<NNNN>_<Api>_v<version>.req|.resp.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "protocol/frame.h"

#ifndef MS_GOLDEN_DIR
#error "MS_GOLDEN_DIR must name the frames directory"
#endif

namespace ms::protocol {
namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct frame_file {
    std::filesystem::path path;
    std::string client;
    std::string api;
    api_version version = 0;
    bool request = true;
};

std::vector<frame_file> golden_files() {
    std::vector<frame_file> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(MS_GOLDEN_DIR)) {
        const std::string name = e.path().filename().string();
        const auto ext = e.path().extension().string();
        if (ext != ".req" && ext != ".resp") {
            continue;
        }
        // NNNN_<Api>_v<version>
        const auto stem = e.path().stem().string();
        const auto v = stem.rfind("_v");
        const auto first = stem.find('_');
        frame_file f;
        f.path = e.path();
        f.client = e.path().parent_path().filename().string();
        f.api = stem.substr(first + 1, v - first - 1);
        f.version = static_cast<api_version>(std::stoi(stem.substr(v + 2)));
        f.request = ext == ".req";
        out.push_back(f);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    return out;
}

int16_t key_of(const std::string& api) {
    for (const api_info& a : api_table) {
        if (a.name == api) {
            return a.key;
        }
    }
    return -1;
}

TEST(golden_frames, every_client_frame_round_trips_byte_for_byte) {
    const auto files = golden_files();
    ASSERT_FALSE(files.empty()) << "no golden frames under " << MS_GOLDEN_DIR;
    std::set<std::string> clients;
    size_t requests = 0;
    for (const frame_file& f : files) {
        const std::string bytes = read_file(f.path);
        const iobuf frame = iobuf::copy_of(bytes);
        const std::string what = f.path.filename().string() + " (" + f.client + ")";
        clients.insert(f.client);
        if (f.request) {
            auto decoded = decode_request(frame);
            if (!decoded && decoded.error().code == decode_errc::unsupported_version &&
                f.api == "ApiVersions") {
                continue; // a client probing above our range (answered with the v0 fallback)
            }
            ASSERT_TRUE(decoded.has_value()) << what << ": " << describe(decoded.error());
            iobuf again;
            encode_request(decoded->header, decoded->body, again);
            EXPECT_EQ(again.share(4, again.size() - 4).to_string(), bytes)
              << what << " re-encodes differently";
            ++requests;
        } else {
            const int16_t key = key_of(f.api);
            ASSERT_GE(key, 0) << what;
            int32_t correlation = 0;
            const bool fallback = key == api_versions_key && f.version > 3;
            const api_version version = fallback ? api_version{0} : f.version;
            auto decoded = decode_response(frame, key, version, &correlation);
            ASSERT_TRUE(decoded.has_value()) << what << ": " << describe(decoded.error());
            iobuf again;
            encode_response(correlation, version, *decoded, again);
            EXPECT_EQ(again.share(4, again.size() - 4).to_string(), bytes)
              << what << " re-encodes differently";
        }
    }
    EXPECT_GE(requests, 20U);
    for (const char* client : {"kcat", "confluent-kafka", "kafka-python", "kafkajs"}) {
        EXPECT_EQ(clients.count(client), 1U) << "no frames from " << client;
    }
}

} // namespace
} // namespace ms::protocol
