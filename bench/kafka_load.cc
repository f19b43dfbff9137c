// kafka_load: a load generator on librdkafka (rdkafka_performance-style), for measuring a broker
// through a real client. Not a test: it reports, it asserts nothing.
//
//   kafka_load produce  BOOTSTRAP TOPIC --messages N --size B --partitions P --acks 1|all [--batch M]
//   kafka_load consume  BOOTSTRAP TOPIC --messages N --partitions P
//   kafka_load e2e      BOOTSTRAP TOPIC --rate R --seconds S --size B --partitions P
//
// produce hands librdkafka one message per rd_kafka_produce() call, or with --batch M, M messages
// for one partition per rd_kafka_produce_batch() call (partitions in turn): librdkafka's own API
// for bulk producing, which takes the topic lock, the partition's queue lock and the broker
// thread's wake-up once per call instead of once per message.
// Output: one JSON object per run on stdout (msg/s, MB/s, latency percentiles in microseconds).
// e2e produces at a fixed rate (open loop: a slow broker cannot slow the schedule down and hide
// its latency) with the send time in each payload; a consumer thread reads the partitions with
// assign() and measures now - send time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

namespace {

using steady = std::chrono::steady_clock;

struct options {
    std::string mode;
    std::string bootstrap;
    std::string topic;
    long messages = 1'000'000;
    long size = 100;
    int partitions = 8;
    std::string acks = "1";
    long rate = 10'000;
    long seconds = 10;
    long batch = 0; // produce: messages per rd_kafka_produce_batch() call; 0 = rd_kafka_produce() each
};

long number(const char* text) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0') {
        (void)std::fprintf(stderr, "not a number: %s\n", text);
        std::exit(2);
    }
    return value;
}

[[noreturn]] void usage() {
    (void)std::fprintf(stderr,
                       "usage: kafka_load produce|consume|e2e BOOTSTRAP TOPIC [--messages N] [--size B] "
                       "[--partitions P] [--acks 0|1|all] [--rate R] [--seconds S] [--batch M]\n");
    std::exit(2);
}

options parse(int argc, char** argv) {
    if (argc < 4) {
        usage();
    }
    options o;
    o.mode = argv[1];
    o.bootstrap = argv[2];
    o.topic = argv[3];
    for (int i = 4; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const char* value = argv[i + 1];
        if (flag == "--messages") {
            o.messages = number(value);
        } else if (flag == "--size") {
            o.size = number(value);
        } else if (flag == "--partitions") {
            o.partitions = static_cast<int>(number(value));
        } else if (flag == "--acks") {
            o.acks = value;
        } else if (flag == "--rate") {
            o.rate = number(value);
        } else if (flag == "--seconds") {
            o.seconds = number(value);
        } else if (flag == "--batch") {
            o.batch = number(value);
        } else {
            usage();
        }
    }
    return o;
}

void set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
    char error[512];
    if (rd_kafka_conf_set(conf, key, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
        (void)std::fprintf(stderr, "config %s=%s: %s\n", key, value.c_str(), error);
        std::exit(2);
    }
}

std::atomic<long> delivered{0};
std::atomic<long> failed{0};

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* /*opaque*/) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failed.fetch_add(1, std::memory_order_relaxed);
    } else {
        delivered.fetch_add(1, std::memory_order_relaxed);
    }
}

rd_kafka_t* make_producer(const options& o, const std::string& linger) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o.bootstrap);
    set(conf, "acks", o.acks);
    set(conf, "linger.ms", linger);
    set(conf, "batch.num.messages", "10000");
    set(conf, "batch.size", "1000000");
    set(conf, "queue.buffering.max.messages", "2000000");
    set(conf, "queue.buffering.max.kbytes", "2097151");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char error[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (rk == nullptr) {
        (void)std::fprintf(stderr, "producer: %s\n", error);
        std::exit(1);
    }
    return rk;
}

rd_kafka_t* make_consumer(const options& o, const std::string& wait_ms) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", o.bootstrap);
    set(conf, "group.id", "kafka-load"); // required by the API; no group protocol is used with assign()
    set(conf, "enable.auto.commit", "false");
    set(conf, "fetch.wait.max.ms", wait_ms);
    set(conf, "fetch.min.bytes", "1");
    set(conf, "queued.min.messages", "1000000");
    set(conf, "fetch.message.max.bytes", "4194304");
    char error[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (rk == nullptr) {
        (void)std::fprintf(stderr, "consumer: %s\n", error);
        std::exit(1);
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(o.partitions);
    for (int p = 0; p < o.partitions; ++p) {
        rd_kafka_topic_partition_list_add(parts, o.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
    }
    if (o.mode == "consume") {
        for (int p = 0; p < parts->cnt; ++p) {
            parts->elems[p].offset = RD_KAFKA_OFFSET_BEGINNING;
        }
    }
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    return rk;
}

double seconds_since(steady::time_point start) {
    return std::chrono::duration<double>(steady::now() - start).count();
}

// One message per rd_kafka_produce() call, partitions in turn per message.
int produce_one_by_one(const options& o, rd_kafka_t* rk, rd_kafka_topic_t* topic,
                       std::vector<char>& payload) {
    for (long i = 0; i < o.messages; ++i) {
        for (;;) {
            const rd_kafka_resp_err_t err =
              rd_kafka_produce(topic, static_cast<int32_t>(i % o.partitions), RD_KAFKA_MSG_F_COPY,
                               payload.data(), payload.size(), nullptr, 0, nullptr) == 0
                ? RD_KAFKA_RESP_ERR_NO_ERROR
                : rd_kafka_last_error();
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 1);
                continue;
            }
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                (void)std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err));
                return 1;
            }
            break;
        }
        if ((i & 1023) == 0) {
            rd_kafka_poll(rk, 0);
        }
    }
    return 0;
}

// o.batch messages per rd_kafka_produce_batch() call, all for one partition, partitions in turn
// per call. librdkafka marks each message it refuses; those refused for a full queue are offered
// again after a poll has taken delivery reports (and freed queue space).
int produce_in_batches(const options& o, rd_kafka_t* rk, rd_kafka_topic_t* topic,
                       std::vector<char>& payload) {
    std::vector<rd_kafka_message_t> messages(static_cast<size_t>(o.batch));
    int32_t partition = 0;
    for (long sent = 0; sent < o.messages;) {
        const auto count = static_cast<size_t>(std::min(o.batch, o.messages - sent));
        for (size_t k = 0; k < count; ++k) {
            messages[k] = rd_kafka_message_t{};
            messages[k].payload = payload.data();
            messages[k].len = payload.size();
        }
        for (size_t pending = count; pending > 0;) {
            (void)rd_kafka_produce_batch(topic, partition, RD_KAFKA_MSG_F_COPY, messages.data(),
                                         static_cast<int>(pending));
            size_t refused = 0;
            for (size_t k = 0; k < pending; ++k) {
                const rd_kafka_resp_err_t err = messages[k].err;
                if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                    continue;
                }
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    (void)std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err));
                    return 1;
                }
                messages[k].err = RD_KAFKA_RESP_ERR_NO_ERROR;
                messages[refused++] = messages[k];
            }
            pending = refused;
            if (pending > 0) {
                rd_kafka_poll(rk, 1);
            }
        }
        sent += static_cast<long>(count);
        partition = (partition + 1) % o.partitions;
        rd_kafka_poll(rk, 0);
    }
    return 0;
}

int produce(const options& o) {
    rd_kafka_t* rk = make_producer(o, "5");
    rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
    std::vector<char> payload(static_cast<size_t>(o.size), 'x');
    const auto start = steady::now();
    const int rc =
      o.batch > 0 ? produce_in_batches(o, rk, topic, payload) : produce_one_by_one(o, rk, topic, payload);
    if (rc != 0) {
        return rc;
    }
    rd_kafka_flush(rk, 120'000);
    const double elapsed = seconds_since(start);
    rd_kafka_topic_destroy(topic);
    (void)std::printf("{\"mode\":\"produce\",\"acks\":\"%s\",\"batch\":%ld,\"messages\":%ld,\"size\":%ld,"
                      "\"failed\":%ld,\"seconds\":%.3f,"
                      "\"msg_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
                      o.acks.c_str(), o.batch, delivered.load(), o.size, failed.load(), elapsed,
                      double(delivered.load()) / elapsed,
                      double(delivered.load()) * double(o.size) / elapsed / 1e6);
    rd_kafka_destroy(rk);
    return failed.load() == 0 ? 0 : 1;
}

int consume(const options& o) {
    rd_kafka_t* rk = make_consumer(o, "100");
    long count = 0;
    long bytes = 0;
    steady::time_point start{};
    const auto give_up = steady::now() + std::chrono::seconds(120);
    // Messages are taken from the consumer queue in batches (rdkafka_performance -B): one queue
    // lock and wake-up per batch instead of per message.
    rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk);
    std::vector<rd_kafka_message_t*> batch(10'000);
    while (count < o.messages && steady::now() < give_up) {
        const ssize_t got = rd_kafka_consume_batch_queue(queue, 100, batch.data(), batch.size());
        for (ssize_t i = 0; i < got; ++i) {
            rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (count == 0) {
                    start = steady::now();
                }
                ++count;
                bytes += static_cast<long>(m->len);
            }
            rd_kafka_message_destroy(m);
        }
    }
    rd_kafka_queue_destroy(queue);
    const double elapsed = seconds_since(start);
    (void)std::printf(
      "{\"mode\":\"consume\",\"messages\":%ld,\"bytes\":%ld,\"seconds\":%.3f,\"msg_per_s\":%.0f,"
      "\"mb_per_s\":%.1f}\n",
      count, bytes, elapsed, double(count) / elapsed, double(bytes) / elapsed / 1e6);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return count == o.messages ? 0 : 1;
}

int end_to_end(const options& o) {
    rd_kafka_t* consumer = make_consumer(o, "500");
    rd_kafka_t* producer = make_producer(o, "0");
    rd_kafka_topic_t* topic = rd_kafka_topic_new(producer, o.topic.c_str(), nullptr);
    std::atomic<bool> producing{true};
    std::vector<int64_t> latencies_ns;
    latencies_ns.reserve(static_cast<size_t>(o.rate * o.seconds));
    std::thread reader([&] {
        const auto stop_at = steady::now() + std::chrono::seconds(o.seconds + 10);
        while (steady::now() < stop_at) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 50);
            if (m == nullptr) {
                if (!producing.load() && static_cast<long>(latencies_ns.size()) >= delivered.load()) {
                    break;
                }
                continue;
            }
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->len >= sizeof(int64_t)) {
                int64_t sent = 0;
                std::memcpy(&sent, m->payload, sizeof sent);
                latencies_ns.push_back(steady::now().time_since_epoch().count() - sent);
            }
            rd_kafka_message_destroy(m);
        }
    });
    std::this_thread::sleep_for(std::chrono::seconds(2)); // let the consumer reach the log end
    std::vector<char> payload(static_cast<size_t>(std::max<long>(o.size, 8)), 'x');
    const auto start = steady::now();
    const auto interval = std::chrono::nanoseconds(1'000'000'000 / o.rate);
    const long total = o.rate * o.seconds;
    for (long i = 0; i < total; ++i) {
        const auto due = start + i * interval;
        // Sleep, not spin: on a machine this small a spinning client steals the broker's core.
        std::this_thread::sleep_until(due);
        rd_kafka_poll(producer, 0);
        const int64_t now = steady::now().time_since_epoch().count();
        std::memcpy(payload.data(), &now, sizeof now);
        (void)rd_kafka_produce(topic, static_cast<int32_t>(i % o.partitions), RD_KAFKA_MSG_F_COPY,
                               payload.data(), payload.size(), nullptr, 0, nullptr);
    }
    rd_kafka_flush(producer, 30'000);
    producing = false;
    reader.join();
    std::sort(latencies_ns.begin(), latencies_ns.end());
    auto pct = [&](double q) {
        if (latencies_ns.empty()) {
            return 0.0;
        }
        const auto idx = static_cast<size_t>(q * double(latencies_ns.size() - 1));
        return double(latencies_ns[idx]) / 1000.0;
    };
    (void)std::printf(
      "{\"mode\":\"e2e\",\"rate\":%ld,\"sent\":%ld,\"received\":%zu,\"p50_us\":%.0f,\"p99_us\":%.0f,"
      "\"p999_us\":%.0f,\"max_us\":%.0f}\n",
      o.rate, delivered.load(), latencies_ns.size(), pct(0.5), pct(0.99), pct(0.999), pct(1.0));
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(producer);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    if (o.mode == "produce") {
        return produce(o);
    }
    if (o.mode == "consume") {
        return consume(o);
    }
    if (o.mode == "e2e") {
        return end_to_end(o);
    }
    usage();
}
