#!/usr/bin/env python3
"""Wireshark's Kafka dissector must agree with our encoder.

Reads the frames written by write_frames, wraps them in a pcap (one TCP connection, client port
40000 -> broker port 9092), runs tshark on it and fails if the dissector reports a malformed
packet or an error/warning for any API version it knows. Versions the dissector does not know are
listed, not failed.

usage: tshark_check.py WRITE_FRAMES_BINARY WORK_DIR
"""

import struct
import subprocess
import sys
from pathlib import Path


def tcp_packet(src_port, dst_port, seq, ack, payload):
    tcp = struct.pack("!HHIIBBHHH", src_port, dst_port, seq, ack, 5 << 4, 0x18, 65535, 0, 0)
    length = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, 0, 0x4000, 64, 6, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    eth = b"\x00" * 12 + b"\x08\x00"
    return eth + ip + tcp + payload


def write_pcap(frames, path):
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    seq = {0: 1000, 1: 5000}
    ts = 0
    for direction, frame in frames:
        # Split big frames into segments of at most 60000 bytes (IPv4 length is 16 bits).
        for off in range(0, len(frame), 60000):
            chunk = frame[off:off + 60000]
            if direction == 0:
                pkt = tcp_packet(40000, 9092, seq[0], seq[1], chunk)
            else:
                pkt = tcp_packet(9092, 40000, seq[1], seq[0], chunk)
            seq[direction] += len(chunk)
            ts += 1
            out += struct.pack("<IIII", ts // 1000, (ts % 1000) * 1000, len(pkt), len(pkt)) + pkt
    path.write_bytes(bytes(out))


def read_frames(path):
    data = path.read_bytes()
    pos = 0
    frames = []
    while pos < len(data):
        direction, length = struct.unpack_from("!BI", data, pos)
        pos += 5
        frames.append((direction, data[pos:pos + length]))
        pos += length
    return frames


def main():
    binary, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    raw = work / "frames.bin"
    subprocess.run([binary, str(raw)], check=True)
    frames = read_frames(raw)
    pcap = work / "frames.pcap"
    write_pcap(frames, pcap)
    fields = ["frame.number", "kafka.request_key", "kafka.api_version", "kafka.response_frame",
              "_ws.expert.severity", "_ws.expert.message", "_ws.malformed"]
    cmd = ["tshark", "-r", str(pcap), "-o", "kafka.tcp.ports:9092", "-T", "fields", "-E", "separator=|"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    bad = []
    unknown = []
    decoded = 0
    for line in out.splitlines():
        cols = line.split("|")
        if len(cols) < len(fields):
            continue
        number, key, version, _, severity, message, malformed = cols[:7]
        text = message.lower()
        if ("unsupported" in text or "not supported" in text or
                any(f"unknown {k} api key" in text for k in (key, str(key)) if k)):
            unknown.append(f"frame {number}: api {key} v{version}: {message}")
            continue
        if malformed or "malformed" in text or severity in ("error", "warning") or any(
                s in severity.split(",") for s in ("8388608", "6291456")):
            bad.append(f"frame {number}: api {key} v{version}: {message} {malformed}")
            continue
        decoded += 1
    print(f"tshark: {len(frames)} frames, {decoded} decoded cleanly, {len(unknown)} in versions the "
          f"dissector does not know, {len(bad)} with problems")
    for u in unknown[:20]:
        print("  (unknown to the dissector)", u)
    for b in bad:
        print("  PROBLEM", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
