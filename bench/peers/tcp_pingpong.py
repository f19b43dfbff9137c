#!/usr/bin/env python3
"""tcp_pingpong: loopback TCP round-trip latency, the fallback ceiling of bench/compare when
sockperf is not installed. Python's own per-call overhead is included in every figure, so this is
an upper bound on the kernel's round trip, not the round trip itself.

A forked child echoes 1-byte messages; the parent times ROUNDS round trips (after a warm-up) with
TCP_NODELAY on both ends, then prints one JSON line: p50_us, p99_us, p999_us, max_us.

Usage: tcp_pingpong.py [--rounds 20000] [--warmup 1000]
"""
import argparse
import json
import os
import socket
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=1000)
    args = parser.parse_args()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    total = args.rounds + args.warmup

    pid = os.fork()
    if pid == 0:  # echo server
        try:
            conn, _ = listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(total):
                b = conn.recv(1)
                if not b:
                    break
                conn.sendall(b)
        finally:
            os._exit(0)
    listener.close()

    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    samples = []
    clock = time.perf_counter_ns
    try:
        for i in range(total):
            t0 = clock()
            client.sendall(b"x")
            if client.recv(1) != b"x":
                print("tcp_pingpong: short read", file=sys.stderr)
                return 1
            if i >= args.warmup:
                samples.append(clock() - t0)
    finally:
        client.close()
        os.waitpid(pid, 0)

    samples.sort()

    def pct(q: float) -> float:
        return round(samples[int(q * (len(samples) - 1))] / 1000.0, 1)

    print(json.dumps({"mode": "tcp_pingpong_python", "rounds": len(samples), "size": 1,
                      "p50_us": pct(0.5), "p99_us": pct(0.99), "p999_us": pct(0.999),
                      "max_us": pct(1.0)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
