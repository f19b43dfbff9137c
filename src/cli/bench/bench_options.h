#pragma once

// The settings of `memorystreamer bench produce|consume|e2e`, filled from the command line.

#include <cstdint>
#include <string>

namespace ms::cli::bench {

enum class output_format { table, json };
enum class key_mode { none, sequential, random };

struct common_options {
    std::string brokers = "127.0.0.1:9092";
    std::string topic = "bench";
    double duration_s = 10.0; // stop after this long (0: no limit; --messages must be set then)
    int64_t messages = 0;     // stop after this many (0: no limit)
    output_format format = output_format::table;
    bool progress = true;
    double timeout_s = 30.0; // for connecting, metadata, and each answer
};

struct produce_options {
    common_options common;
    int32_t partitions = 8; // when the topic is created
    int32_t producers = 2;  // connections, one thread each
    int32_t size = 100;     // value bytes per message
    int32_t batch = 1000;   // records per batch (one batch per request)
    std::string acks = "1";
    std::string compression = "none";
    key_mode keys = key_mode::none;
    double rate = 0;           // msg/s over all producers; 0 = as fast as the broker takes them
    int32_t max_in_flight = 8; // requests per connection
};

struct consume_options {
    common_options common;
    int32_t consumers = 2;
    int32_t fetch_max_bytes = 50 * 1024 * 1024;
    int32_t partition_max_bytes = 1024 * 1024;
    int32_t fetch_max_wait_ms = 100;
    bool check_crc = true;
};

struct e2e_options {
    common_options common;
    int32_t partitions = 8;
    int32_t size = 100;
    double rate = 10'000;
    std::string acks = "1";
    int32_t fetch_max_wait_ms = 500;
};

} // namespace ms::cli::bench
