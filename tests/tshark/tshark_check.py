#!/usr/bin/env python3
"""Wireshark's Kafka dissector must agree with our encoder.

Reads the frames written by write_frames (a request and its response for every API version we
encode), wraps them in a pcap (one TCP connection, client port 40000 -> broker port 9092), runs
tshark on it and judges every frame:

- clean: the dissector decoded it without a warning or error (and a response was matched to its
  request);
- known dissector limitation: the frame is covered by KNOWN_DISSECTOR_LIMITATIONS below (an API,
  a version or a field that Wireshark 4.0's packet-kafka.c does not know or decodes wrongly), or
  it is a response that Wireshark left undecoded ("Request missing") because its request, the
  frame just before it, is such a limitation;
- problem: anything else. The script exits 1 if there is any.

Every entry of the allowlist was checked against Apache Kafka's message definitions
(clients/src/main/resources/common/message/*.json) and Wireshark 4.0's packet-kafka.c: it is there
because the dissector is wrong or does not know the API/version, never because our encoder is.

usage: tshark_check.py WRITE_FRAMES_BINARY WORK_DIR [SEED]
"""

import re
import struct
import subprocess
import sys
from pathlib import Path

REQ = "request"
RESP = "response"
BOTH = (REQ, RESP)

# Wireshark 4.0 (Debian 12: 4.0.x) packet-kafka.c knows API keys 0-47 with these maximum versions
# (its kafka_apis table): Produce 8, Fetch 11, ListGroups 3, CreateTopics 5, DeleteTopics 4,
# DeleteRecords 1, InitProducerId 3, OffsetForLeaderEpoch 3, AddPartitionsToTxn 1,
# AddOffsetsToTxn 1, EndTxn 1, WriteTxnMarkers 0, DescribeConfigs 2, AlterConfigs 1,
# CreatePartitions 2. Newer versions are reported "Unsupported ... version" and decoded with the
# layout of whatever the code does for them (often wrongly); a request that throws is never
# registered, so its response shows "Request missing".
#
# (api key, first version, last version, kinds, reason)
KNOWN_DISSECTOR_LIMITATIONS = [
    # --- versions or APIs Wireshark 4.0 does not know ---
    (0, 9, 9, BOTH, "Wireshark 4.0 knows Produce v0-8 only (v9 is flexible)"),
    (1, 12, 12, BOTH, "Wireshark 4.0 knows Fetch v0-11 only (v12 is flexible)"),
    (16, 4, 4, BOTH, "Wireshark 4.0 knows ListGroups v0-3 only"),
    (19, 6, 7, BOTH, "Wireshark 4.0 knows CreateTopics v0-5 only"),
    (20, 5, 6, BOTH, "Wireshark 4.0 knows DeleteTopics v0-4 only"),
    (21, 2, 2, BOTH, "Wireshark 4.0 knows DeleteRecords v0-1 only (v2 is flexible)"),
    (22, 4, 4, BOTH, "Wireshark 4.0 knows InitProducerId v0-3 only"),
    (23, 4, 4, BOTH, "Wireshark 4.0 knows OffsetForLeaderEpoch v0-3 only (v4 is flexible)"),
    (24, 2, 3, BOTH, "Wireshark 4.0 knows AddPartitionsToTxn v0-1 only"),
    (25, 2, 3, BOTH, "Wireshark 4.0 knows AddOffsetsToTxn v0-1 only"),
    (26, 2, 3, BOTH, "Wireshark 4.0 knows EndTxn v0-1 only"),
    (27, 1, 1, BOTH, "Wireshark 4.0 knows WriteTxnMarkers v0 only (v1 is flexible)"),
    (32, 3, 4, BOTH, "Wireshark 4.0 knows DescribeConfigs v0-2 only"),
    (33, 2, 2, BOTH, "Wireshark 4.0 knows AlterConfigs v0-1 only (v2 is flexible)"),
    (37, 3, 3, BOTH, "Wireshark 4.0 knows CreatePartitions v0-2 only"),
    (60, 0, 0, BOTH, "Wireshark 4.0 does not know DescribeCluster (60)"),
    (61, 0, 0, BOTH, "Wireshark 4.0 does not know DescribeProducers (61)"),
    (65, 0, 0, BOTH, "Wireshark 4.0 does not know DescribeTransactions (65)"),
    (66, 0, 0, BOTH, "Wireshark 4.0 does not know ListTransactions (66)"),
    # --- fields Wireshark 4.0 decodes differently from Kafka, in versions it claims to know ---
    (0, 3, 8, (REQ,), "Wireshark 4.0 mis-decodes a null Records (length -1, nullable in "
     "Kafka's ProduceRequest): it takes 0xffffffff as the message set size"),
    (0, 3, 8, (RESP,), "Wireshark 4.0 reads RequiredAcks at the TransactionalId offset for "
     "Produce v3+: an empty TransactionalId looks like acks=0, so the response is 'Request missing'"),
    (1, 4, 11, (RESP,), "Wireshark 4.0 mis-decodes a null RecordSet (length -1, nullable in "
     "Kafka's FetchResponse): it takes 0xffffffff as the message set size"),
    (11, 0, 5, BOTH, "Wireshark 4.0 reads non-flexible 'bytes' lengths as int16, Kafka writes "
     "int32 (JoinGroup Protocols.Metadata / Members.Metadata)"),
    (14, 0, 3, BOTH, "Wireshark 4.0 reads non-flexible 'bytes' lengths as int16, Kafka writes "
     "int32 (SyncGroup Assignment)"),
    (15, 0, 4, (RESP,), "Wireshark 4.0 reads non-flexible 'bytes' lengths as int16, Kafka writes "
     "int32 (DescribeGroups MemberMetadata/MemberAssignment)"),
    (19, 0, 5, (REQ,), "Wireshark 4.0 does not advance past Assignments[].PartitionIndex "
     "(CreateTopics request): it reads the partition index as the BrokerIds count"),
    (20, 1, 2, (RESP,), "Wireshark 4.0 reads DeleteTopics ThrottleTimeMs from v3, Kafka has it "
     "from v1"),
    (27, 0, 0, (RESP,), "Wireshark 4.0 reads a ThrottleTimeMs that WriteTxnMarkersResponse does "
     "not have"),
    (31, 0, 1, (RESP,), "Wireshark 4.0 decodes DeleteAcls FilterResults as a compact array in "
     "every version (api_version >= 0), Kafka: only from v2"),
    (36, 0, 1, BOTH, "Wireshark 4.0 reads non-flexible 'bytes' lengths as int16, Kafka writes "
     "int32 (SaslAuthenticate AuthBytes)"),
    (37, 0, 2, (REQ,), "Wireshark 4.0 decodes CreatePartitions Assignments as one []int32, "
     "Kafka has [][]int32 (an array of CreatePartitionsAssignment{BrokerIds})"),
]

API_NAMES = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit",
    9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup",
    14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake",
    18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics", 21: "DeleteRecords",
    22: "InitProducerId", 23: "OffsetForLeaderEpoch", 24: "AddPartitionsToTxn",
    25: "AddOffsetsToTxn", 26: "EndTxn", 27: "WriteTxnMarkers", 28: "TxnOffsetCommit",
    29: "DescribeAcls", 30: "CreateAcls", 31: "DeleteAcls", 32: "DescribeConfigs",
    33: "AlterConfigs", 36: "SaslAuthenticate", 37: "CreatePartitions", 42: "DeleteGroups",
    44: "IncrementalAlterConfigs", 47: "OffsetDelete", 60: "DescribeCluster",
    61: "DescribeProducers", 65: "DescribeTransactions", 66: "ListTransactions",
}

API_VERSIONS_KEY = 18
# In an ApiVersions response the dissector flags every advertised entry it does not know; these
# describe the (random) content, not a decoding problem.
API_VERSIONS_ENTRY_NOTE = re.compile(r"^(Unknown -?\d+ API key|Unsupported \w+ version\..*)$")
REQUEST_MISSING = "Request missing"
SEVERITY_WARN = 6291456   # PI_WARN
SEVERITY_ERROR = 8388608  # PI_ERROR


def tcp_packet(src_port, dst_port, seq, ack, payload):
    tcp = struct.pack("!HHIIBBHHH", src_port, dst_port, seq, ack, 5 << 4, 0x18, 65535, 0, 0)
    length = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, 0, 0x4000, 64, 6, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    eth = b"\x00" * 12 + b"\x08\x00"
    return eth + ip + tcp + payload


def write_pcap(frames, path):
    """Writes the pcap; returns, for each pcap packet (1-based number - 1), its frame index."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    seq = {0: 1000, 1: 5000}
    ts = 0
    packet_frame = []
    for index, (direction, frame) in enumerate(frames):
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
            packet_frame.append(index)
    path.write_bytes(bytes(out))
    return packet_frame


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


class Frame:
    def __init__(self, index, kind, key, version, correlation):
        self.index = index          # 0-based position in frames.bin
        self.kind = kind            # REQ or RESP
        self.key = key
        self.version = version
        self.correlation = correlation
        self.packets = []           # pcap frame numbers carrying it
        self.messages = []          # (severity, message) expert infos of those packets
        self.malformed = False
        self.kafka_seen = False     # the Kafka dissector produced a PDU for it
        self.problems = []          # expert messages that count against it
        self.status = None          # "clean" | "limitation" | "problem"
        self.reason = None

    def where(self):
        """The pcap frame number tshark reports it on (its last TCP segment)."""
        return self.packets[-1] if self.packets else f"?{self.index + 1}"

    def label(self):
        name = API_NAMES.get(self.key, f"api {self.key}")
        return f"{name} ({self.key}) v{self.version} {self.kind}"


def describe_frames(frames):
    """Identifies every frame: requests from their header, responses from the request before."""
    described = []
    request = None
    for index, (direction, frame) in enumerate(frames):
        if direction == 0:
            key, version, correlation = struct.unpack_from("!hhi", frame, 4)
            request = Frame(index, REQ, key, version, correlation)
            described.append(request)
        else:
            if request is None or described[-1] is not request:
                raise SystemExit(f"frame {index + 1}: a response that does not follow its request")
            (correlation,) = struct.unpack_from("!i", frame, 4)
            if correlation != request.correlation:
                raise SystemExit(f"frame {index + 1}: correlation id {correlation} does not match "
                                 f"its request's {request.correlation}")
            described.append(Frame(index, RESP, request.key, request.version, correlation))
    return described


def allowlisted(frame):
    for entry in KNOWN_DISSECTOR_LIMITATIONS:
        key, first, last, kinds, reason = entry
        if frame.key == key and first <= frame.version <= last and frame.kind in kinds:
            return entry
    return None


def run_tshark(pcap):
    sep, agg = "\x1e", "\x1f"
    fields = ["frame.number", "kafka.len", "_ws.expert.severity", "_ws.expert.message",
              "_ws.malformed"]
    cmd = ["tshark", "-r", str(pcap), "-o", "kafka.tcp.ports:9092", "-T", "fields",
           "-E", f"separator={sep}", "-E", f"aggregator={agg}"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.split("\n"):  # not splitlines(): it also splits at \x1e
        cols = line.split(sep)
        if len(cols) < len(fields) or not cols[0].isdigit():
            continue
        number, kafka_len, severities, messages, malformed = cols[:5]
        sev = [int(s) for s in severities.split(agg) if s]
        msg = [m for m in messages.split(agg) if m]
        rows[int(number)] = (bool(kafka_len), list(zip(sev, msg)), bool(malformed))
    return rows


def tshark_version():
    try:
        out = subprocess.run(["tshark", "--version"], check=True, capture_output=True,
                             text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.search(r"TShark \(Wireshark\) (\d+\.\d+\.\d+)", out)
    return m.group(1) if m else None


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    binary, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    raw = work / "frames.bin"
    subprocess.run([binary, str(raw)] + sys.argv[3:4], check=True)
    frames = read_frames(raw)
    pcap = work / "frames.pcap"
    packet_frame = write_pcap(frames, pcap)
    described = describe_frames(frames)

    version = tshark_version()
    if version is None or not version.startswith("4.0."):
        print(f"tshark: note: the allowlist describes Wireshark 4.0.x, this is {version}")

    for number, (kafka_seen, messages, malformed) in run_tshark(pcap).items():
        frame = described[packet_frame[number - 1]]
        frame.packets.append(number)
        frame.kafka_seen |= kafka_seen
        frame.messages += messages
        frame.malformed |= malformed

    # Judge each frame on its own first.
    for frame in described:
        for severity, message in frame.messages:
            if severity < SEVERITY_WARN:
                continue
            if (frame.key == API_VERSIONS_KEY and frame.kind == RESP
                    and API_VERSIONS_ENTRY_NOTE.match(message)):
                continue
            frame.problems.append(message)
        if frame.malformed and not frame.problems:
            frame.problems.append("Malformed Packet")
        if not frame.kafka_seen:
            frame.problems.append("not dissected as Kafka")
        if not frame.problems:
            frame.status = "clean"
        elif (entry := allowlisted(frame)) is not None:
            frame.status, frame.reason = "limitation", entry[4]
        else:
            frame.status = "problem"

    # A response left undecoded because its request (the frame before it) was a known
    # limitation is one too.
    for i, frame in enumerate(described):
        if (frame.kind == RESP and frame.status == "problem"
                and set(frame.problems) == {REQUEST_MISSING}
                and described[i - 1].status == "limitation"):
            request = described[i - 1]
            frame.status = "limitation"
            frame.reason = (f"undecoded because its request (frame {request.where()}) is a "
                            f"known limitation: {request.reason}")

    pairs = [(described[i], described[i + 1]) for i in range(0, len(described), 2)]
    clean, limited, bad = [], [], []
    for pair in pairs:
        statuses = {f.status for f in pair}
        if "problem" in statuses:
            bad.append(pair)
        elif "limitation" in statuses:
            limited.append(pair)
        else:
            clean.append(pair)

    print(f"tshark: {len(clean)} of {len(pairs)} API versions decoded cleanly; "
          f"{len(limited)} known dissector limitations"
          + (f"; {len(bad)} with problems" if bad else ""))
    for pair in limited:
        hit = [f for f in pair if f.status == "limitation"]
        if len(hit) == 2 and hit[0].reason == hit[1].reason:
            request, response = hit
            print(f"  known dissector limitation: {request.label()}+response (frames "
                  f"{request.where()}, {response.where()}): {request.reason} "
                  f"[{'; '.join(dict.fromkeys(request.problems + response.problems))}]")
            continue
        for frame in hit:
            print(f"  known dissector limitation: {frame.label()} (frame {frame.where()}): "
                  f"{frame.reason} [{'; '.join(dict.fromkeys(frame.problems))}]")
    for pair in bad:
        for frame in pair:
            if frame.status == "problem":
                follows = (" (follows from its request's problem)"
                           if frame.kind == RESP and set(frame.problems) == {REQUEST_MISSING}
                           and pair[0].status == "problem" else "")
                print(f"  PROBLEM {frame.label()} (frame {frame.where()}): "
                      f"{'; '.join(dict.fromkeys(frame.problems))}{follows}")
            elif frame.status == "limitation":
                print(f"  ({frame.label()} (frame {frame.where()}): known dissector "
                      f"limitation: {frame.reason})")
    used = {id(allowlisted(f)) for f in described if f.status == "limitation" and f.reason
            and not f.reason.startswith("undecoded because")}
    for entry in KNOWN_DISSECTOR_LIMITATIONS:
        if id(entry) not in used:
            key, first, last, kinds, reason = entry
            print(f"  note: allowlist entry not triggered in this run: api {key} "
                  f"v{first}-{last} {'/'.join(kinds)}: {reason}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
