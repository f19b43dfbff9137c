/* e2e_relay: the floor under any broker's end-to-end latency on this machine. Three threads, as in
 * `memorystreamer bench e2e` against a broker: a producer writes 100-byte messages at a fixed rate
 * to a relay over loopback TCP, the relay writes what it reads on to a consumer, and the consumer
 * measures each message from the moment it was due. The relay does nothing else: no parsing, no
 * log, no answers. Prints one JSON line with the latency percentiles in microseconds. Not a test:
 * it reports, it asserts nothing.
 *
 * With SPIN_US > 0 the relay polls for that long after its last message before it sleeps in epoll,
 * as a broker shard does with shard.idle.spin.us.
 *
 * Built at run time by bench/compare into build/peers/ (no dependencies):
 *
 *   cc -O2 -pthread -o build/peers/e2e_relay bench/peers/e2e_relay.c
 *
 * Usage: e2e_relay RATE SECONDS [SPIN_US (default 0)]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { message_bytes = 100 };

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char* what) {
    fprintf(stderr, "e2e_relay: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* A connected loopback TCP pair with Nagle off: *from writes, *to reads. */
static void connected_pair(int* from, int* to) {
    const int one = 1;
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr*)&addr, &len) != 0) {
        die("listen on 127.0.0.1");
    }
    *from = socket(AF_INET, SOCK_STREAM, 0);
    if (*from < 0 || connect(*from, (struct sockaddr*)&addr, sizeof addr) != 0) {
        die("connect");
    }
    *to = accept(listener, NULL, NULL);
    if (*to < 0) {
        die("accept");
    }
    close(listener);
    setsockopt(*from, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(*to, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct run {
    long total;       /* messages to send */
    long spin_us;     /* relay's polling before it sleeps */
    int64_t deadline; /* every thread gives up by then (ns) */
    int relay_in, relay_out, consumer_in;
    int64_t* latency_ns;
    long received;
};

static void* relay(void* arg) {
    struct run* r = arg;
    char buf[65536];
    const int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = r->relay_in};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, r->relay_in, &ev) != 0) {
        die("epoll");
    }
    prctl(PR_SET_TIMERSLACK, 1UL);
    long relayed = 0;
    while (relayed < r->total * message_bytes && now_ns() < r->deadline) {
        struct epoll_event ready;
        int n = 0;
        const int64_t idle_since = now_ns();
        do {
            n = epoll_wait(ep, &ready, 1, 0);
        } while (n == 0 && r->spin_us > 0 && now_ns() - idle_since < r->spin_us * 1000);
        if (n == 0) {
            n = epoll_wait(ep, &ready, 1, 100);
        }
        if (n <= 0) {
            continue;
        }
        const ssize_t got = read(r->relay_in, buf, sizeof buf);
        if (got <= 0) {
            break;
        }
        for (ssize_t sent = 0; sent < got;) {
            const ssize_t w = write(r->relay_out, buf + sent, (size_t)(got - sent));
            if (w <= 0) {
                die("relay write");
            }
            sent += w;
        }
        relayed += got;
    }
    close(ep);
    return NULL;
}

static void* consumer(void* arg) {
    struct run* r = arg;
    char buf[65536];
    size_t have = 0;
    while (r->received < r->total && now_ns() < r->deadline) {
        struct pollfd p = {.fd = r->consumer_in, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        const ssize_t got = read(r->consumer_in, buf + have, sizeof buf - have);
        if (got <= 0) {
            break;
        }
        have += (size_t)got;
        const int64_t now = now_ns();
        size_t at = 0;
        for (; have - at >= message_bytes && r->received < r->total; at += message_bytes) {
            int64_t due;
            memcpy(&due, buf + at, sizeof due);
            r->latency_ns[r->received++] = now - due;
        }
        memmove(buf, buf + at, have - at);
        have -= at;
    }
    return NULL;
}

static int by_value(const void* a, const void* b) {
    const int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
    return (x > y) - (x < y);
}

int main(int argc, char** argv) {
    const long rate = argc > 2 ? atol(argv[1]) : 0;
    const double seconds = argc > 2 ? atof(argv[2]) : 0;
    const long spin_us = argc > 3 ? atol(argv[3]) : 0;
    if (rate <= 0 || rate > 1000000 || seconds <= 0 || seconds > 600 || spin_us < 0 || spin_us > 1000000) {
        fprintf(stderr, "usage: e2e_relay RATE (1-1000000) SECONDS (<= 600) [SPIN_US (0-1000000)]\n");
        return 2;
    }
    struct run r = {.total = (long)((double)rate * seconds), .spin_us = spin_us};
    r.latency_ns = calloc((size_t)r.total + 1, sizeof *r.latency_ns);
    if (r.latency_ns == NULL) {
        die("calloc");
    }
    int producer_out;
    connected_pair(&producer_out, &r.relay_in);
    connected_pair(&r.relay_out, &r.consumer_in);
    const int64_t start = now_ns() + 10000000; /* 10 ms to let the threads start */
    r.deadline = start + (int64_t)(seconds * 1e9) + 5000000000LL;
    pthread_t relay_thread, consumer_thread;
    if (pthread_create(&relay_thread, NULL, relay, &r) != 0 || pthread_create(&consumer_thread, NULL, consumer, &r) != 0) {
        die("pthread_create");
    }
    /* Sends are scheduled to the microsecond: the default 50 us timer slack would make them late. */
    prctl(PR_SET_TIMERSLACK, 1UL);
    char message[message_bytes];
    memset(message, 'x', sizeof message);
    for (long i = 0; i < r.total; ++i) {
        const int64_t due = start + (int64_t)((double)i * 1e9 / (double)rate);
        const struct timespec at = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
        }
        memcpy(message, &due, sizeof due);
        if (write(producer_out, message, sizeof message) != (ssize_t)sizeof message) {
            die("producer write");
        }
    }
    pthread_join(consumer_thread, NULL);
    close(producer_out);
    pthread_join(relay_thread, NULL);
    if (r.received == 0) {
        fprintf(stderr, "e2e_relay: no message arrived\n");
        return 1;
    }
    qsort(r.latency_ns, (size_t)r.received, sizeof *r.latency_ns, by_value);
#define PCT(q) ((double)r.latency_ns[(size_t)((q) * (double)(r.received - 1))] / 1000.0)
    printf("{\"rate\": %ld, \"seconds\": %.1f, \"spin_us\": %ld, \"sent\": %ld, \"received\": %ld, "
           "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f}\n",
           rate, seconds, spin_us, r.total, r.received, PCT(0.5), PCT(0.9), PCT(0.99), PCT(0.999), PCT(1.0));
    free(r.latency_ns);
    return r.received == r.total ? 0 : 1;
}
