// capture_server: a minimal Kafka endpoint that records the request frames real clients send and
// the responses they accept, for the golden-frame fixtures under tests/golden/frames/.
//
// It answers just enough for a producer and a consumer to run: ApiVersions, Metadata (every topic
// has one partition led by this server), Produce (stores batches), Fetch (serves them back),
// ListOffsets, FindCoordinator, CreateTopics, DeleteTopics, InitProducerId. It is single-threaded,
// keeps everything in memory, and is a test tool, not a broker.
//
// usage: capture_server PORT OUT_DIR [MAX_FRAMES_PER_API_VERSION]
// Frames are written as OUT_DIR/<NNNN>_<Api>_v<version>.req / .resp, without the size prefix.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/endian.h"
#include "model/record_batch.h"
#include "protocol/frame.h"

namespace {

using namespace ms;
using namespace ms::protocol;

struct partition_store {
    std::vector<std::vector<std::byte>> batches; // base offsets rewritten
    int64_t next_offset = 0;
};

struct capture {
    std::filesystem::path out;
    int port = 0;
    size_t max_per_api_version = 3;
    size_t sequence = 0;
    std::map<std::pair<int16_t, int16_t>, size_t> saved;
    std::map<std::pair<std::string, int32_t>, partition_store> topics;

    void save(const iobuf& frame, int16_t key, api_version v, const char* ext, bool count) {
        auto& n = saved[{key, v}];
        if (n >= max_per_api_version) {
            return;
        }
        if (count) {
            ++n;
        }
        const api_info* api = find_api(key);
        const std::string name = api != nullptr ? std::string(api->name) : fmt::format("Api{}", key);
        std::ofstream f(out / fmt::format("{:04d}_{}_v{}.{}", sequence, name, v, ext), std::ios::binary);
        const std::string bytes = frame.to_string();
        f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }

    partition_store& store(const std::string& topic) { return topics[{topic, 0}]; }

    any_response answer(const decoded_request& req) {
        const api_version v = req.header.request_api_version;
        return std::visit([&](const auto& body) { return respond(body, v); }, req.body);
    }

    any_response respond(const api_versions_request&, api_version) {
        api_versions_response r;
        for (const api_info& api : api_table) {
            r.api_keys.push_back({api_key(api.key), api.min_version, api.max_version, {}});
        }
        return r;
    }

    any_response respond(const metadata_request& m, api_version) {
        metadata_response r;
        r.brokers.push_back({model::node_id(0), "127.0.0.1", port, std::nullopt, {}});
        r.cluster_id = "capture-cluster";
        r.controller_id = model::node_id(0);
        std::vector<std::string> names;
        if (m.topics && !m.topics->empty()) {
            for (const auto& t : *m.topics) {
                names.push_back(t.name);
            }
        } else {
            for (const auto& [key, _] : topics) {
                names.push_back(key.first);
            }
        }
        for (const std::string& name : names) {
            store(name);
            metadata_response::metadata_response_topic_data t;
            t.name = name;
            metadata_response::metadata_response_topic_data::metadata_response_partition_data p;
            p.partition_index = model::partition_id(0);
            p.leader_id = model::node_id(0);
            p.leader_epoch = model::leader_epoch(0);
            p.replica_nodes = {0};
            p.isr_nodes = {0};
            t.partitions.push_back(std::move(p));
            r.topics.push_back(std::move(t));
        }
        return r;
    }

    any_response respond(const produce_request& p, api_version) {
        produce_response r;
        for (const auto& t : p.topic_data) {
            produce_response::topic_produce_response_data tr;
            tr.name = t.name;
            for (const auto& part : t.partition_data) {
                produce_response::topic_produce_response_data::partition_produce_response_data pr;
                pr.index = part.index;
                partition_store& s = store(t.name);
                pr.base_offset = model::offset(s.next_offset);
                pr.log_start_offset = model::offset(0);
                if (part.records) {
                    std::vector<std::byte> bytes = part.records->to_bytes();
                    size_t pos = 0;
                    while (pos + model::batch_header_size <= bytes.size()) {
                        auto h = model::peek_batch_header(std::span<const std::byte>(bytes).subspan(pos));
                        if (!h || h->size_bytes() > bytes.size() - pos) {
                            break;
                        }
                        std::vector<std::byte> batch(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                                                     bytes.begin() +
                                                       static_cast<std::ptrdiff_t>(pos + h->size_bytes()));
                        store_be<int64_t>(batch.data(), s.next_offset);
                        s.next_offset += h->last_offset_delta + 1;
                        s.batches.push_back(std::move(batch));
                        pos += h->size_bytes();
                    }
                }
                tr.partition_responses.push_back(std::move(pr));
            }
            r.responses.push_back(std::move(tr));
        }
        return r;
    }

    any_response respond(const fetch_request& f, api_version) {
        fetch_response r;
        bool any_data = false;
        for (const auto& t : f.topics) {
            fetch_response::fetchable_topic_response_data tr;
            tr.topic = t.topic;
            for (const auto& part : t.partitions) {
                fetch_response::fetchable_topic_response_data::partition_data_data pr;
                pr.partition_index = part.partition;
                partition_store& s = store(t.topic);
                pr.high_watermark = model::offset(s.next_offset);
                pr.last_stable_offset = model::offset(s.next_offset);
                pr.log_start_offset = model::offset(0);
                iobuf records;
                for (const auto& b : s.batches) {
                    auto h = model::peek_batch_header(b);
                    if (h && h->last_offset() >= part.fetch_offset) {
                        records.append(b);
                    }
                }
                any_data |= !records.empty();
                pr.records = std::move(records);
                tr.partitions.push_back(std::move(pr));
            }
            r.responses.push_back(std::move(tr));
        }
        if (!any_data) { // a crude long poll, so idle consumers do not spin
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min(f.max_wait_ms, 200)));
        }
        return r;
    }

    any_response respond(const list_offsets_request& l, api_version) {
        list_offsets_response r;
        for (const auto& t : l.topics) {
            list_offsets_response::list_offsets_topic_response_data tr;
            tr.name = t.name;
            for (const auto& part : t.partitions) {
                list_offsets_response::list_offsets_topic_response_data::list_offsets_partition_response_data
                  pr;
                pr.partition_index = part.partition_index;
                const int64_t end = store(t.name).next_offset;
                const int64_t o = part.timestamp.value() == -2 ? 0 : end;
                pr.offset = model::offset(o);
                pr.old_style_offsets = {o};
                tr.partitions.push_back(std::move(pr));
            }
            r.topics.push_back(std::move(tr));
        }
        return r;
    }

    any_response respond(const find_coordinator_request&, api_version) {
        find_coordinator_response r;
        r.node_id = model::node_id(0);
        r.host = "127.0.0.1";
        r.port = port;
        return r;
    }

    any_response respond(const create_topics_request& c, api_version) {
        create_topics_response r;
        for (const auto& t : c.topics) {
            store(t.name);
            create_topics_response::creatable_topic_result_data tr;
            tr.name = t.name;
            tr.num_partitions = 1;
            tr.replication_factor = 1;
            r.topics.push_back(std::move(tr));
        }
        return r;
    }

    any_response respond(const delete_topics_request& d, api_version) {
        delete_topics_response r;
        for (const auto& name : d.topic_names) {
            topics.erase({name, 0});
            delete_topics_response::deletable_topic_result_data tr;
            tr.name = name;
            r.responses.push_back(std::move(tr));
        }
        return r;
    }

    any_response respond(const init_producer_id_request&, api_version) {
        init_producer_id_response r;
        r.producer_id = 4242;
        r.producer_epoch = 0;
        return r;
    }

    // Anything else: the default response of that API (error code 0, empty lists).
    template<typename Request>
    any_response respond(const Request&, api_version) {
        return default_response(Request::api_key_value);
    }

    static any_response default_response(int16_t key) {
        // Construct the default alternative whose API key matches.
        any_response r;
        bool found = false;
        [&]<size_t... I>(std::index_sequence<I...>) {
            (([&] {
                 using alt = std::variant_alternative_t<I, any_response>;
                 if (!found && alt::api_key_value == key) {
                     r = alt{};
                     found = true;
                 }
             }()),
             ...);
        }
        (std::make_index_sequence<std::variant_size_v<any_response>>{});
        return r;
    }
};

bool write_all(int fd, const iobuf& bytes) {
    for (size_t i = 0; i < bytes.piece_count(); ++i) {
        auto piece = bytes.piece_bytes(i);
        size_t done = 0;
        while (done < piece.size()) {
            const ssize_t n = ::write(fd, piece.data() + done, piece.size() - done);
            if (n <= 0) {
                return false;
            }
            done += static_cast<size_t>(n);
        }
    }
    return true;
}

// Handles every whole frame in `in`; false closes the connection.
bool serve_frames(capture& cap, int fd, std::string& in) {
    while (in.size() >= 4) {
        const auto size = load_be<int32_t>(reinterpret_cast<const std::byte*>(in.data()));
        if (size < 0 || size > (64 << 20)) {
            return false;
        }
        if (in.size() < 4 + static_cast<size_t>(size)) {
            return true;
        }
        iobuf frame = iobuf::copy_of(std::string_view(in).substr(4, static_cast<size_t>(size)));
        in.erase(0, 4 + static_cast<size_t>(size));
        auto pre = peek_request(frame);
        if (!pre) {
            return false;
        }
        ++cap.sequence;
        cap.save(frame, pre->api_key, pre->version, "req", true);
        auto req = decode_request(frame);
        if (!req) {
            (void)std::fprintf(stderr, "capture: request %d v%d not decoded: %s\n", pre->api_key,
                               pre->version, describe(req.error()).c_str());
            if (pre->api_key == api_versions_key) { // KIP-511: answer v0 with UNSUPPORTED_VERSION
                api_versions_response r;
                r.error_code = 35;
                r.api_keys.push_back({api_key(api_versions_key), 0, 3, {}});
                iobuf out;
                encode_response(pre->correlation_id, 0, r, out);
                cap.save(out.share(4, out.size() - 4), pre->api_key, pre->version, "resp", false);
                if (!write_all(fd, out)) {
                    return false;
                }
                continue;
            }
            return false;
        }
        if (const auto* p = std::get_if<produce_request>(&req->body); p != nullptr && p->acks == 0) {
            (void)cap.answer(*req); // store, send nothing
            continue;
        }
        any_response resp = cap.answer(*req);
        iobuf out;
        encode_response(pre->correlation_id, pre->version, resp, out);
        cap.save(out.share(4, out.size() - 4), pre->api_key, pre->version, "resp", false);
        if (!write_all(fd, out)) {
            return false;
        }
    }
    return true;
}

} // namespace

int main(int argc, char** argv) { // NOLINT(bugprone-exception-escape): a test tool; a throw ends it
    if (argc < 3) {
        (void)std::fprintf(stderr, "usage: %s PORT OUT_DIR [MAX_FRAMES_PER_API_VERSION]\n", argv[0]);
        return 2;
    }
    (void)::signal(SIGPIPE, SIG_IGN); // a client that hangs up must not kill the capture
    capture cap;
    cap.port = std::stoi(argv[1]);
    cap.out = argv[2];
    if (argc > 3) {
        cap.max_per_api_version = std::stoul(argv[3]);
    }
    std::filesystem::create_directories(cap.out);
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(cap.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 16) != 0) {
        std::perror("bind/listen");
        return 1;
    }
    std::vector<pollfd> fds{{listener, POLLIN, 0}};
    std::map<int, std::string> inbound;
    for (;;) {
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            continue;
        }
        for (size_t i = fds.size(); i-- > 0;) {
            if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            if (fds[i].fd == listener) {
                const int c = ::accept(listener, nullptr, nullptr);
                if (c >= 0) {
                    fds.push_back({c, POLLIN, 0});
                }
                continue;
            }
            char buf[65536];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            bool keep = n > 0;
            if (keep) {
                inbound[fds[i].fd].append(buf, static_cast<size_t>(n));
                keep = serve_frames(cap, fds[i].fd, inbound[fds[i].fd]);
            }
            if (!keep) {
                ::close(fds[i].fd);
                inbound.erase(fds[i].fd);
                fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i));
            }
        }
    }
}
