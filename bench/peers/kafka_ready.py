#!/usr/bin/env python3
"""kafka_ready: wait until a Kafka broker answers ApiVersions, for the start-up row of bench/compare.

Connects to HOST:PORT again and again (every 5 ms) until a connection is accepted and an
ApiVersions v0 request gets its response, or until TIMEOUT seconds have passed. Prints one JSON
line with wall-clock times (time.time(), so that the caller can subtract the moment it started the
broker, taken with `date +%s.%N`): connected_at (first accepted connection), answered_at
(ApiVersions response read) and the response's error_code. Exits 1 on timeout.

Python stdlib only. Usage: kafka_ready.py HOST:PORT [--timeout 60]
"""
import argparse
import json
import socket
import struct
import sys
import time

API_VERSIONS = 18


def read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed before the response was complete")
        data += chunk
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="HOST:PORT")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    host, _, port = args.address.rpartition(":")
    client_id = b"bench-compare"
    # Request header v1: api_key, api_version, correlation_id, client_id (int16 length + bytes);
    # ApiVersions v0 has an empty body.
    body = struct.pack(">hhih", API_VERSIONS, 0, 1, len(client_id)) + client_id
    request = struct.pack(">i", len(body)) + body

    deadline = time.time() + args.timeout
    connected_at = None
    while time.time() < deadline:
        try:
            sock = socket.create_connection((host, int(port)), timeout=1.0)
        except OSError:
            time.sleep(0.005)
            continue
        if connected_at is None:
            connected_at = time.time()
        try:
            sock.settimeout(max(0.1, deadline - time.time()))
            sock.sendall(request)
            (size,) = struct.unpack(">i", read_exactly(sock, 4))
            response = read_exactly(sock, size)
            answered_at = time.time()
            correlation_id, error_code = struct.unpack(">ih", response[:6])
            if correlation_id != 1:
                raise OSError(f"response has correlation id {correlation_id}, expected 1")
            print(json.dumps({"connected_at": round(connected_at, 6), "answered_at": round(answered_at, 6),
                              "error_code": error_code}))
            return 0
        except (OSError, struct.error) as e:
            print(f"kafka_ready: {e}; retrying", file=sys.stderr)
            time.sleep(0.005)
        finally:
            sock.close()
    print(f"kafka_ready: no ApiVersions answer from {args.address} within {args.timeout} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
