#include "client/consumer_protocol.h"

#include <algorithm>

#include "base/endian.h"

namespace ms::client {

namespace {

class writer {
public:
    void i16(int16_t v) {
        std::byte b[2];
        store_be<int16_t>(b, v);
        _out.insert(_out.end(), b, b + 2);
    }
    void i32(int32_t v) {
        std::byte b[4];
        store_be<int32_t>(b, v);
        _out.insert(_out.end(), b, b + 4);
    }
    void str(const std::string& s) {
        i16(static_cast<int16_t>(s.size()));
        for (const char c : s) {
            _out.push_back(static_cast<std::byte>(c));
        }
    }
    std::vector<std::byte> take() { return std::move(_out); }

private:
    std::vector<std::byte> _out;
};

class reader {
public:
    explicit reader(std::span<const std::byte> in) : _in(in) {}
    bool i16(int16_t& v) {
        if (_in.size() - _pos < 2) {
            return false;
        }
        v = load_be<int16_t>(_in.data() + _pos);
        _pos += 2;
        return true;
    }
    bool i32(int32_t& v) {
        if (_in.size() - _pos < 4) {
            return false;
        }
        v = load_be<int32_t>(_in.data() + _pos);
        _pos += 4;
        return true;
    }
    bool str(std::string& s) {
        int16_t n = 0;
        if (!i16(n) || n < 0 || static_cast<size_t>(n) > _in.size() - _pos) {
            return false;
        }
        s.assign(reinterpret_cast<const char*>(_in.data() + _pos), static_cast<size_t>(n)); // NOLINT
        _pos += static_cast<size_t>(n);
        return true;
    }
    // An array count that fits what is left (each element takes at least `min_size` bytes).
    bool count(int32_t& n, size_t min_size) {
        return i32(n) && n >= 0 && static_cast<size_t>(n) <= (_in.size() - _pos) / min_size;
    }

private:
    std::span<const std::byte> _in;
    size_t _pos = 0;
};

} // namespace

std::vector<std::byte> encode_subscription(const std::vector<std::string>& topics) {
    writer w;
    w.i16(0);
    w.i32(static_cast<int32_t>(topics.size()));
    for (const auto& t : topics) {
        w.str(t);
    }
    w.i32(-1);
    return w.take();
}

std::optional<std::vector<std::string>> decode_subscription(std::span<const std::byte> bytes) {
    reader r(bytes);
    int16_t version = 0;
    int32_t n = 0;
    if (!r.i16(version) || version < 0 || !r.count(n, 2)) {
        return std::nullopt;
    }
    std::vector<std::string> topics(static_cast<size_t>(n));
    for (auto& t : topics) {
        if (!r.str(t)) {
            return std::nullopt;
        }
    }
    return topics;
}

std::vector<std::byte> encode_assignment(const topic_partitions& assignment) {
    writer w;
    w.i16(0);
    w.i32(static_cast<int32_t>(assignment.size()));
    for (const auto& [topic, partitions] : assignment) {
        w.str(topic);
        w.i32(static_cast<int32_t>(partitions.size()));
        for (const int32_t p : partitions) {
            w.i32(p);
        }
    }
    w.i32(-1);
    return w.take();
}

std::optional<topic_partitions> decode_assignment(std::span<const std::byte> bytes) {
    topic_partitions out;
    if (bytes.empty()) {
        return out; // a member given nothing may get an empty assignment
    }
    reader r(bytes);
    int16_t version = 0;
    int32_t topics = 0;
    if (!r.i16(version) || version < 0 || !r.count(topics, 6)) {
        return std::nullopt;
    }
    for (int32_t i = 0; i < topics; ++i) {
        std::string topic;
        int32_t n = 0;
        if (!r.str(topic) || !r.count(n, 4)) {
            return std::nullopt;
        }
        auto& partitions = out[topic];
        for (int32_t j = 0; j < n; ++j) {
            int32_t p = 0;
            if (!r.i32(p) || p < 0) {
                return std::nullopt;
            }
            partitions.push_back(p);
        }
    }
    return out;
}

std::map<std::string, topic_partitions>
range_assign(const std::map<std::string, std::vector<std::string>>& subscriptions,
             const std::map<std::string, int32_t>& partition_counts) {
    std::map<std::string, topic_partitions> out;
    for (const auto& [member, topics] : subscriptions) {
        out[member]; // every member gets an assignment, maybe empty
    }
    for (const auto& [topic, count] : partition_counts) {
        std::vector<std::string> members; // std::map iterates in member id order
        for (const auto& [member, topics] : subscriptions) {
            if (std::find(topics.begin(), topics.end(), topic) != topics.end()) {
                members.push_back(member);
            }
        }
        if (members.empty() || count <= 0) {
            continue;
        }
        const auto m = static_cast<int32_t>(members.size());
        const int32_t each = count / m;
        const int32_t extra = count % m;
        for (int32_t i = 0; i < m; ++i) {
            const int32_t start = each * i + std::min(i, extra);
            const int32_t length = each + (i < extra ? 1 : 0);
            auto& mine = out[members[static_cast<size_t>(i)]][topic];
            for (int32_t p = start; p < start + length; ++p) {
                mine.push_back(p);
            }
        }
    }
    return out;
}

} // namespace ms::client
