"""Hand-written Kafka wire helpers for the integration tests (stdlib only).

Just enough of the protocol to send well-formed and deliberately malformed frames
from raw sockets: primitive encoders, request headers, record batches v2 with
CRC-32C, and parsers for the few responses the tests look at.
"""

import socket
import struct
import time

# ---------------------------------------------------------------------------
# CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, table driven.

_CRC32C_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)
del _n, _c


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ---------------------------------------------------------------------------
# Primitive encoders.

def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def u32(v):
    return struct.pack(">I", v)


def string(s):
    """Non-nullable STRING (i16 length)."""
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def nullable_string(s):
    if s is None:
        return i16(-1)
    return string(s)


def kbytes(b):
    """BYTES / RECORDS (i32 length); None encodes as null (-1)."""
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def uvarint(v):
    assert v >= 0
    out = bytearray()
    while True:
        byte = v & 0x7F
        v >>= 7
        if v:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint(v):
    """Zig-zag signed varint/varlong (Kafka record fields)."""
    return uvarint((v << 1) ^ (v >> 63))


def compact_string(s):
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


def array(items):
    """ARRAY with i32 count; items are already encoded bytes."""
    items = list(items)
    return i32(len(items)) + b"".join(items)


# ---------------------------------------------------------------------------
# Requests.

# API keys used by the tests.
PRODUCE = 0
FETCH = 1
LIST_OFFSETS = 2
METADATA = 3
FIND_COORDINATOR = 10
API_VERSIONS = 18
CREATE_TOPICS = 19
DELETE_TOPICS = 20

# First flexible (header v2 / compact encodings) request version per API key.
FIRST_FLEXIBLE = {
    PRODUCE: 9,
    FETCH: 12,
    LIST_OFFSETS: 6,
    METADATA: 9,
    FIND_COORDINATOR: 3,
    API_VERSIONS: 3,
    CREATE_TOPICS: 5,
    DELETE_TOPICS: 4,
}

# What the broker is specified to support (api key -> (min, max)).
SUPPORTED = {
    API_VERSIONS: (0, 3),
    METADATA: (0, 8),
    PRODUCE: (3, 9),
    FETCH: (4, 12),
    LIST_OFFSETS: (0, 4),
    CREATE_TOPICS: (0, 7),
    DELETE_TOPICS: (0, 6),
    FIND_COORDINATOR: (0, 3),
    # Consumer groups (KAFKA-PROTOCOL.md stage "consumer groups").
    8: (0, 8),    # OffsetCommit
    9: (0, 7),    # OffsetFetch
    11: (0, 6),   # JoinGroup
    12: (0, 4),   # Heartbeat
    13: (0, 4),   # LeaveGroup
    14: (0, 4),   # SyncGroup
    15: (0, 5),   # DescribeGroups
    16: (0, 4),   # ListGroups
    42: (0, 2),   # DeleteGroups
    47: (0, 0),   # OffsetDelete
    # Admin (KAFKA-PROTOCOL.md stage "admin, security").
    21: (0, 2),   # DeleteRecords
    32: (0, 4),   # DescribeConfigs
    33: (0, 2),   # AlterConfigs
    37: (0, 3),   # CreatePartitions
    44: (0, 1),   # IncrementalAlterConfigs
    60: (0, 0),   # DescribeCluster
}

# Error codes.
NONE = 0
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
UNSUPPORTED_VERSION = 35
INVALID_RECORD = 87


def request_header(api_key, api_version, correlation_id, client_id="ms-it", flexible=None):
    """Request header v1 (v2 = v1 + empty tagged fields when `flexible`)."""
    if flexible is None:
        first = FIRST_FLEXIBLE.get(api_key)
        flexible = first is not None and api_version >= first
    hdr = i16(api_key) + i16(api_version) + i32(correlation_id) + nullable_string(client_id)
    if flexible:
        hdr += uvarint(0)
    return hdr


def frame(payload):
    return i32(len(payload)) + payload


def request(api_key, api_version, correlation_id, body=b"", client_id="ms-it", flexible=None):
    return frame(request_header(api_key, api_version, correlation_id, client_id, flexible) + body)


def api_versions_request(correlation_id, version=0):
    if version >= 3:
        body = compact_string("ms-it") + compact_string("1.0") + uvarint(0)
    else:
        body = b""
    return request(API_VERSIONS, version, correlation_id, body)


def metadata_v1_request(correlation_id, topics):
    """Metadata v1; topics=None asks for all topics (null array)."""
    body = i32(-1) if topics is None else array(string(t) for t in topics)
    return request(METADATA, 1, correlation_id, body)


def produce_v3_request(correlation_id, topic, partition, records, acks=-1, timeout_ms=5000):
    body = (nullable_string(None) + i16(acks) + i32(timeout_ms)
            + array([string(topic) + array([i32(partition) + kbytes(records)])]))
    return request(PRODUCE, 3, correlation_id, body)


def fetch_v4_request(correlation_id, positions, max_wait_ms, min_bytes=1, max_bytes=1 << 20,
                     partition_max_bytes=1 << 20):
    """Fetch v4 (read_uncommitted) of [(topic, partition, fetch_offset)], in that order."""
    by_topic = {}
    for topic, partition, offset in positions:
        by_topic.setdefault(topic, []).append(i32(partition) + i64(offset) + i32(partition_max_bytes))
    body = (i32(-1) + i32(max_wait_ms) + i32(min_bytes) + i32(max_bytes) + i8(0)
            + array(string(t) + array(parts) for t, parts in by_topic.items()))
    return request(FETCH, 4, correlation_id, body)


# ---------------------------------------------------------------------------
# Record batch v2.

def encode_record(offset_delta, timestamp_delta, key, value, headers=()):
    body = bytearray()
    body += i8(0)                       # attributes
    body += varint(timestamp_delta)
    body += varint(offset_delta)
    if key is None:
        body += varint(-1)
    else:
        body += varint(len(key)) + key
    if value is None:
        body += varint(-1)
    else:
        body += varint(len(value)) + value
    body += varint(len(headers))
    for hk, hv in headers:
        hk = hk.encode() if isinstance(hk, str) else hk
        body += varint(len(hk)) + hk
        if hv is None:
            body += varint(-1)
        else:
            body += varint(len(hv)) + hv
    return varint(len(body)) + bytes(body)


def record_batch(records, base_offset=0, base_timestamp=None, attributes=0,
                 producer_id=-1, producer_epoch=-1, base_sequence=-1,
                 partition_leader_epoch=-1, corrupt_crc=False, batch_length_delta=0,
                 records_count=None):
    """Build a v2 record batch.

    records: list of (key, value, headers) or (key, value, headers, timestamp_delta).
    corrupt_crc flips one bit of the stored CRC; batch_length_delta is added to the
    batchLength field (to make it lie); records_count overrides the count field.
    """
    if base_timestamp is None:
        base_timestamp = int(time.time() * 1000)
    encoded = []
    max_ts_delta = 0
    for idx, rec in enumerate(records):
        key, value, headers = rec[0], rec[1], rec[2]
        ts_delta = rec[3] if len(rec) > 3 else 0
        max_ts_delta = max(max_ts_delta, ts_delta)
        encoded.append(encode_record(idx, ts_delta, key, value, headers))
    count = len(records) if records_count is None else records_count
    after_crc = (i16(attributes) + i32(max(len(records) - 1, 0)) + i64(base_timestamp)
                 + i64(base_timestamp + max_ts_delta) + i64(producer_id) + i16(producer_epoch)
                 + i32(base_sequence) + i32(count) + b"".join(encoded))
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0x00000001
    # batchLength counts everything after the batchLength field itself.
    batch_length = 4 + 1 + 4 + len(after_crc) + batch_length_delta
    return (i64(base_offset) + i32(batch_length) + i32(partition_leader_epoch) + i8(2)
            + u32(crc) + after_crc)


def batch_crc_ok(batch):
    """Check the CRC of one v2 batch given as bytes (for self tests)."""
    (stored,) = struct.unpack_from(">I", batch, 17)
    return stored == crc32c(batch[21:])


# ---------------------------------------------------------------------------
# Response parsing.

class Reader:
    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def _take(self, fmt):
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def i8(self):
        return self._take(">b")

    def i16(self):
        return self._take(">h")

    def i32(self):
        return self._take(">i")

    def i64(self):
        return self._take(">q")

    def string(self):
        n = self.i16()
        if n < 0:
            return None
        b = self.data[self.pos:self.pos + n]
        if len(b) != n:
            raise ValueError("string runs past the end of the response")
        self.pos += n
        return b.decode()

    def uvarint(self):
        shift = 0
        value = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def skip_tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            size = self.uvarint()
            self.pos += size
            if self.pos > len(self.data):
                raise ValueError("tagged field runs past the end")

    def remaining(self):
        return len(self.data) - self.pos


def parse_api_versions_v0(body):
    """ApiVersions v0 response body -> (error_code, {api_key: (min, max)})."""
    r = Reader(body)
    err = r.i16()
    n = r.i32()
    if n < 0 or n > 10000:
        raise ValueError("implausible api_keys count %d" % n)
    apis = {}
    for _ in range(n):
        key = r.i16()
        apis[key] = (r.i16(), r.i16())
    return err, apis, r.remaining()


def parse_api_versions_v3(body):
    """ApiVersions v3 (flexible) response body -> (error_code, {api_key: (min, max)}, trailing)."""
    r = Reader(body)
    err = r.i16()
    n = r.uvarint() - 1
    if n < 0 or n > 10000:
        raise ValueError("implausible api_keys count %d" % n)
    apis = {}
    for _ in range(n):
        key = r.i16()
        apis[key] = (r.i16(), r.i16())
        r.skip_tagged_fields()
    r.i32()  # throttle_time_ms
    r.skip_tagged_fields()
    return err, apis, r.remaining()


def _read_per_partition(r, read_partition):
    """[topic string, [partition i32, ...]] -> {(topic, partition): read_partition(r)}."""
    out = {}
    for _ in range(r.i32()):
        topic = r.string()
        for _ in range(r.i32()):
            partition = r.i32()
            out[(topic, partition)] = read_partition(r)
    return out


def parse_produce_v3(body):
    """Produce v3 response -> {(topic, partition): (error_code, base_offset)}."""
    r = Reader(body)

    def partition(r):
        err, base_offset = r.i16(), r.i64()
        r.i64()  # log_append_time
        return err, base_offset

    out = _read_per_partition(r, partition)
    r.i32()  # throttle_time_ms
    _no_trailing(r, "Produce v3")
    return out


def parse_fetch_v4(body):
    """Fetch v4 response -> {(topic, partition): (error_code, high_watermark, record bytes)}."""
    r = Reader(body)
    r.i32()  # throttle_time_ms

    def partition(r):
        err, high_watermark = r.i16(), r.i64()
        r.i64()  # last_stable_offset
        for _ in range(max(r.i32(), 0)):  # aborted transactions (null: -1)
            r.i64()
            r.i64()
        return err, high_watermark, _read_bytes(r) or b""

    out = _read_per_partition(r, partition)
    _no_trailing(r, "Fetch v4")
    return out


def parse_or_fail(parser, body, what):
    """Run a response parser; a malformed response becomes an AssertionError with a hex dump."""
    try:
        return parser(body)
    except (ValueError, IndexError, struct.error) as e:
        raise AssertionError("%s: malformed response (%s); %d bytes: %s"
                             % (what, e, len(body), body[:256].hex()))


# ---------------------------------------------------------------------------
# Sockets.

class Timeout(Exception):
    pass


class Conn:
    """A raw client connection with explicit outcomes: response, closed, or timeout."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @classmethod
    def wrap(cls, sock):
        """A Conn around an already connected socket."""
        c = cls.__new__(cls)
        c.sock = sock
        return c

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv_exact(self, n, deadline):
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("waited for %d bytes, got %d" % (n, len(buf)))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise Timeout("waited for %d bytes, got %d" % (n, len(buf)))
            except (ConnectionResetError, BrokenPipeError):
                return None if not buf else bytes(buf)
            if not chunk:
                return None if not buf else bytes(buf)
            buf += chunk
        return bytes(buf)

    def recv_response(self, timeout=10.0):
        """-> (correlation_id, body) or None if the peer closed. Raises Timeout."""
        deadline = time.monotonic() + timeout
        hdr = self._recv_exact(4, deadline)
        if hdr is None or len(hdr) < 4:
            return None
        (size,) = struct.unpack(">i", hdr)
        if size < 4 or size > 64 * 1024 * 1024:
            raise ValueError("implausible response size %d" % size)
        payload = self._recv_exact(size, deadline)
        if payload is None or len(payload) < size:
            raise ValueError("response truncated: size %d, got %r" % (size, payload))
        (corr,) = struct.unpack_from(">i", payload, 0)
        return corr, payload[4:]

    def outcome(self, timeout=5.0):
        """What happens next on this connection: 'closed', ('response', corr, body)
        or 'timeout' (neither within `timeout`)."""
        try:
            r = self.recv_response(timeout)
        except Timeout:
            return "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return "closed"
        if r is None:
            return "closed"
        return ("response",) + r

    def wait_closed(self, timeout=5.0):
        """True when the peer closes (EOF/RST) within timeout, discarding any data."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True


def api_versions_roundtrip(port, correlation_id=4242, timeout=10.0):
    """Fresh connection, ApiVersions v0 -> (error_code, apis). Raises on failure."""
    with Conn(port, timeout=timeout) as c:
        c.send(api_versions_request(correlation_id, 0))
        r = c.recv_response(timeout)
        if r is None:
            raise AssertionError("broker closed the connection instead of answering ApiVersions v0")
        corr, body = r
        if corr != correlation_id:
            raise AssertionError("ApiVersions v0: correlation id %d, expected %d" % (corr, correlation_id))
        err, apis, trailing = parse_or_fail(parse_api_versions_v0, body, "ApiVersions v0")
        if trailing:
            raise AssertionError("ApiVersions v0 response has %d trailing bytes" % trailing)
        return err, apis


# ---------------------------------------------------------------------------
# Consumer groups and committed offsets (non-flexible versions only).
#
# Field layouts follow schemas/kafka/*.schema (apache/kafka's message definitions).

OFFSET_COMMIT = 8
OFFSET_FETCH = 9
JOIN_GROUP = 11
HEARTBEAT = 12
LEAVE_GROUP = 13
SYNC_GROUP = 14
DESCRIBE_GROUPS = 15
LIST_GROUPS = 16
DELETE_GROUPS = 42
OFFSET_DELETE = 47

FIRST_FLEXIBLE.update({
    OFFSET_COMMIT: 8, OFFSET_FETCH: 6, JOIN_GROUP: 6, HEARTBEAT: 4, LEAVE_GROUP: 4, SYNC_GROUP: 4,
    DESCRIBE_GROUPS: 5, LIST_GROUPS: 3, DELETE_GROUPS: 2, OFFSET_DELETE: 99,
})

# What the group coordinator is specified to advertise (api key -> (min, max)).
GROUP_SUPPORTED = {
    FIND_COORDINATOR: (0, 3), JOIN_GROUP: (0, 6), SYNC_GROUP: (0, 4), HEARTBEAT: (0, 4),
    LEAVE_GROUP: (0, 4), OFFSET_COMMIT: (0, 8), OFFSET_FETCH: (0, 7), LIST_GROUPS: (0, 4),
    DESCRIBE_GROUPS: (0, 5), DELETE_GROUPS: (0, 2), OFFSET_DELETE: (0, 0),
}

OFFSET_METADATA_TOO_LARGE = 12
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
INVALID_GROUP_ID = 24
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
REBALANCE_IN_PROGRESS = 27
NON_EMPTY_GROUP = 68
GROUP_ID_NOT_FOUND = 69
MEMBER_ID_REQUIRED = 79
GROUP_SUBSCRIBED_TO_TOPIC = 86


def kbool(v):
    return b"\x01" if v else b"\x00"


def find_coordinator_body(key, version=1, key_type=0):
    """FindCoordinator v0-2 body."""
    return string(key) + (i8(key_type) if version >= 1 else b"")


def join_group_body(group, member_id="", protocols=(("range", b""),), protocol_type="consumer",
                    session_timeout_ms=10000, rebalance_timeout_ms=10000, instance_id=None, version=5):
    """JoinGroup v0-5 body; protocols = [(name, metadata bytes)]. A protocols value of the form
    ('raw', bytes) is spliced in verbatim (for lying array counts)."""
    body = string(group) + i32(session_timeout_ms)
    if version >= 1:
        body += i32(rebalance_timeout_ms)
    body += string(member_id)
    if version >= 5:
        body += nullable_string(instance_id)
    body += string(protocol_type)
    if isinstance(protocols, tuple) and len(protocols) == 2 and protocols[0] == "raw":
        body += protocols[1]
    else:
        body += array(string(n) + kbytes(m) for n, m in protocols)
    return body


def parse_join_group(body, version):
    """-> dict(error, generation, protocol, leader, member_id, members=[(id, instance, metadata)])."""
    r = Reader(body)
    if version >= 2:
        r.i32()
    out = {"error": r.i16(), "generation": r.i32(), "protocol": r.string(), "leader": r.string(),
           "member_id": r.string(), "members": []}
    for _ in range(r.i32()):
        mid = r.string()
        inst = r.string() if version >= 5 else None
        out["members"].append((mid, inst, _read_bytes(r)))
    _no_trailing(r, "JoinGroup v%d" % version)
    return out


def sync_group_body(group, generation, member_id, assignments=(), instance_id=None, version=3):
    """SyncGroup v0-3; assignments = [(member_id, assignment bytes)]."""
    body = string(group) + i32(generation) + string(member_id)
    if version >= 3:
        body += nullable_string(instance_id)
    return body + array(string(m) + kbytes(a) for m, a in assignments)


def parse_sync_group(body, version):
    """-> (error, assignment bytes)."""
    r = Reader(body)
    if version >= 1:
        r.i32()
    err = r.i16()
    a = _read_bytes(r)
    _no_trailing(r, "SyncGroup v%d" % version)
    return err, a


def heartbeat_body(group, generation, member_id, instance_id=None, version=3):
    body = string(group) + i32(generation) + string(member_id)
    if version >= 3:
        body += nullable_string(instance_id)
    return body


def parse_error_only(body, version, throttle_from=1, what="response"):
    """Heartbeat / (v0-2) LeaveGroup style: [throttle] error."""
    r = Reader(body)
    if version >= throttle_from:
        r.i32()
    err = r.i16()
    return err


def leave_group_body(group, member_id, version=1):
    """LeaveGroup v0-2 (one member) ."""
    return string(group) + string(member_id)


def leave_group_v3_body(group, members):
    """LeaveGroup v3; members = [(member_id, instance_id or None)]."""
    return string(group) + array(string(m) + nullable_string(i) for m, i in members)


def parse_leave_group_v3(body):
    r = Reader(body)
    r.i32()
    err = r.i16()
    members = []
    for _ in range(r.i32()):
        members.append((r.string(), r.string(), r.i16()))
    _no_trailing(r, "LeaveGroup v3")
    return err, members


def offset_commit_body(group, offsets, generation=-1, member_id="", version=2, instance_id=None):
    """OffsetCommit v2-7 body. offsets: {topic: [(partition, offset, metadata)]}; metadata None
    encodes as a null string; a str/bytes metadata is sent as is (bytes may lie about UTF-8)."""
    body = string(group) + i32(generation) + string(member_id)
    if version >= 7:
        body += nullable_string(instance_id)
    if 2 <= version <= 4:
        body += i64(-1)  # retention time: the broker default
    topics = []
    for topic, parts in offsets.items():
        enc = []
        for p, off, meta in parts:
            e = i32(p) + i64(off)
            if version >= 6:
                e += i32(-1)  # leader epoch
            enc.append(e + nullable_string(meta))
        topics.append(string(topic) + array(enc))
    return body + array(topics)


def parse_offset_commit(body, version):
    """-> {(topic, partition): error}."""
    r = Reader(body)
    if version >= 3:
        r.i32()
    out = _read_partition_errors(r)
    _no_trailing(r, "OffsetCommit v%d" % version)
    return out


def offset_fetch_body(group, topics, version=3):
    """OffsetFetch v1-5; topics: {topic: [partitions]} or None (all, v2+)."""
    if topics is None:
        return string(group) + i32(-1)
    return string(group) + _topic_partitions(topics)


def parse_offset_fetch(body, version):
    """-> (top-level error or None, {(topic, partition): (offset, metadata, error)})."""
    r = Reader(body)
    if version >= 3:
        r.i32()
    out = {}
    for _ in range(r.i32()):
        t = r.string()
        for _ in range(r.i32()):
            p = r.i32()
            off = r.i64()
            if version >= 5:
                r.i32()
            meta = r.string()
            out[(t, p)] = (off, meta, r.i16())
    top = r.i16() if version >= 2 else None
    _no_trailing(r, "OffsetFetch v%d" % version)
    return top, out


def describe_groups_body(groups, version=3):
    body = array(string(g) for g in groups)
    if version >= 3:
        body += kbool(False)
    return body


def parse_describe_groups(body, version):
    """-> [dict(error, group, state, protocol_type, protocol, members=[dict(member_id, instance_id,
    client_id, client_host, metadata, assignment)])]."""
    r = Reader(body)
    if version >= 1:
        r.i32()
    groups = []
    for _ in range(r.i32()):
        g = {"error": r.i16(), "group": r.string(), "state": r.string(), "protocol_type": r.string(),
             "protocol": r.string(), "members": []}
        for _ in range(r.i32()):
            m = {"member_id": r.string()}
            m["instance_id"] = r.string() if version >= 4 else None
            m["client_id"] = r.string()
            m["client_host"] = r.string()
            m["metadata"] = _read_bytes(r)
            m["assignment"] = _read_bytes(r)
            g["members"].append(m)
        if version >= 3:
            r.i32()
        groups.append(g)
    _no_trailing(r, "DescribeGroups v%d" % version)
    return groups


def parse_list_groups(body, version):
    """ListGroups v0-2 -> (error, [(group, protocol_type)])."""
    r = Reader(body)
    if version >= 1:
        r.i32()
    err = r.i16()
    groups = [(r.string(), r.string()) for _ in range(r.i32())]
    _no_trailing(r, "ListGroups v%d" % version)
    return err, groups


def delete_groups_body(groups):
    return array(string(g) for g in groups)


def parse_delete_groups(body):
    """DeleteGroups v0-1 -> {group: error}."""
    r = Reader(body)
    r.i32()
    out = {}
    for _ in range(r.i32()):
        g = r.string()
        out[g] = r.i16()
    _no_trailing(r, "DeleteGroups")
    return out


def offset_delete_body(group, topics):
    """OffsetDelete v0; topics: {topic: [partitions]}."""
    return string(group) + _topic_partitions(topics)


def parse_offset_delete(body):
    """-> (top-level error, {(topic, partition): error})."""
    r = Reader(body)
    err = r.i16()
    r.i32()
    out = _read_partition_errors(r)
    _no_trailing(r, "OffsetDelete")
    return err, out


def parse_find_coordinator(body, version):
    """FindCoordinator v0-2 -> (error, node_id, host, port)."""
    r = Reader(body)
    if version >= 1:
        r.i32()
    err = r.i16()
    if version >= 1:
        r.string()
    node, host, port = r.i32(), r.string(), r.i32()
    _no_trailing(r, "FindCoordinator v%d" % version)
    return err, node, host, port


def consumer_subscription(topics, user_data=b""):
    """ConsumerProtocolSubscription v0 (JoinGroup protocol metadata of protocol type 'consumer')."""
    return i16(0) + array(string(t) for t in topics) + kbytes(user_data)


def consumer_assignment(assignment, user_data=b""):
    """ConsumerProtocolAssignment v0; assignment = {topic: [partitions]}."""
    return (i16(0) + array(string(t) + array(i32(p) for p in ps) for t, ps in assignment.items())
            + kbytes(user_data))


def parse_consumer_assignment(data):
    """ConsumerProtocolAssignment (any version; fields after the partitions are ignored)
    -> {topic: [partitions]}; empty bytes -> {}."""
    if not data:
        return {}
    r = Reader(data)
    r.i16()
    out = {}
    for _ in range(r.i32()):
        t = r.string()
        out[t] = [r.i32() for _ in range(r.i32())]
    return out


def parse_consumer_subscription(data):
    """ConsumerProtocolSubscription -> [topics]."""
    r = Reader(data)
    r.i16()
    return [r.string() for _ in range(r.i32())]


def _topic_partitions(topics):
    """[topic string, [partition i32]] from {topic: [partitions]}."""
    return array(string(t) + array(i32(p) for p in ps) for t, ps in topics.items())


def _read_partition_errors(r):
    """[topic string, [partition i32, error i16]] -> {(topic, partition): error}."""
    out = {}
    for _ in range(r.i32()):
        t = r.string()
        for _ in range(r.i32()):
            p = r.i32()
            out[(t, p)] = r.i16()
    return out


def _read_bytes(r):
    n = r.i32()
    if n < 0:
        return None
    b = r.data[r.pos:r.pos + n]
    if len(b) != n:
        raise ValueError("bytes field runs past the end of the response")
    r.pos += n
    return bytes(b)


def _no_trailing(r, what):
    if r.remaining() != 0:
        raise ValueError("%d trailing bytes in %s response" % (r.remaining(), what))


class Client:
    """One raw connection with sequential correlation ids: call() sends a request and returns the
    response body (asserting the correlation id), or raises AssertionError when the broker closes
    the connection instead."""

    def __init__(self, port, timeout=10.0, client_id="ms-it-raw"):
        self.conn = Conn(port, timeout=timeout)
        self.corr = 0
        self.client_id = client_id
        self.timeout = timeout

    def send(self, api_key, version, body):
        self.corr += 1
        self.conn.send(request(api_key, version, self.corr, body, client_id=self.client_id))
        return self.corr

    def recv(self, corr, timeout=None):
        r = self.conn.recv_response(self.timeout if timeout is None else timeout)
        if r is None:
            raise AssertionError("broker closed the connection instead of answering request %d" % corr)
        if r[0] != corr:
            raise AssertionError("response correlation id %d, expected %d" % (r[0], corr))
        return r[1]

    def call(self, api_key, version, body, timeout=None):
        return self.recv(self.send(api_key, version, body), timeout)

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- typed helpers ---------------------------------------------------------

    def join(self, group, member_id="", version=5, timeout=None, **kw):
        body = self.call(JOIN_GROUP, version, join_group_body(group, member_id, version=version, **kw), timeout)
        return parse_or_fail(lambda b: parse_join_group(b, version), body, "JoinGroup v%d" % version)

    def join_dynamic(self, group, topics=("t",), version=5, **kw):
        """A dynamic member's full join (repeating after MEMBER_ID_REQUIRED); -> JoinGroup result."""
        kw.setdefault("protocols", (("range", consumer_subscription(topics)),))
        res = self.join(group, "", version=version, **kw)
        if res["error"] == MEMBER_ID_REQUIRED:
            res = self.join(group, res["member_id"], version=version, **kw)
        return res

    def sync(self, group, generation, member_id, assignments=(), version=3, timeout=None, **kw):
        body = self.call(SYNC_GROUP, version, sync_group_body(group, generation, member_id, assignments,
                                                              version=version, **kw), timeout)
        return parse_or_fail(lambda b: parse_sync_group(b, version), body, "SyncGroup v%d" % version)

    def heartbeat(self, group, generation, member_id, version=3, **kw):
        body = self.call(HEARTBEAT, version, heartbeat_body(group, generation, member_id, version=version, **kw))
        return parse_or_fail(lambda b: parse_error_only(b, version), body, "Heartbeat v%d" % version)

    def leave(self, group, member_id, version=1):
        body = self.call(LEAVE_GROUP, version, leave_group_body(group, member_id, version))
        return parse_or_fail(lambda b: parse_error_only(b, version), body, "LeaveGroup v%d" % version)

    def commit(self, group, offsets, version=2, **kw):
        body = self.call(OFFSET_COMMIT, version, offset_commit_body(group, offsets, version=version, **kw))
        return parse_or_fail(lambda b: parse_offset_commit(b, version), body, "OffsetCommit v%d" % version)

    def fetch_offsets(self, group, topics, version=3):
        body = self.call(OFFSET_FETCH, version, offset_fetch_body(group, topics, version))
        return parse_or_fail(lambda b: parse_offset_fetch(b, version), body, "OffsetFetch v%d" % version)

    def describe(self, groups, version=3):
        body = self.call(DESCRIBE_GROUPS, version, describe_groups_body(groups, version))
        return parse_or_fail(lambda b: parse_describe_groups(b, version), body, "DescribeGroups v%d" % version)

    def list_groups(self, version=2):
        body = self.call(LIST_GROUPS, version, b"")
        return parse_or_fail(lambda b: parse_list_groups(b, version), body, "ListGroups v%d" % version)

    def delete_groups(self, groups, version=1):
        body = self.call(DELETE_GROUPS, version, delete_groups_body(groups))
        return parse_or_fail(parse_delete_groups, body, "DeleteGroups v%d" % version)

    def offset_delete(self, group, topics):
        body = self.call(OFFSET_DELETE, 0, offset_delete_body(group, topics))
        return parse_or_fail(parse_offset_delete, body, "OffsetDelete v0")

    def find_coordinator(self, key, version=1, key_type=0):
        body = self.call(FIND_COORDINATOR, version, find_coordinator_body(key, version, key_type))
        return parse_or_fail(lambda b: parse_find_coordinator(b, version), body, "FindCoordinator v%d" % version)


def advertised_apis(port):
    """{api_key: (min, max)} from ApiVersions v0."""
    return api_versions_roundtrip(port)[1]


def missing_group_apis(port):
    """Group APIs (name list) the broker does not advertise at the specified range."""
    apis = advertised_apis(port)
    return sorted("%d:%r!=%r" % (k, apis.get(k), v) for k, v in GROUP_SUPPORTED.items() if apis.get(k) != v)


def pipelined_calls(port, api_key, version, bodies, timeout=120.0, window=256):
    """Send `bodies` as pipelined requests on one connection (at most `window` unanswered) and
    return the response bodies in order. A reader thread drains responses while the writer sends,
    so neither side blocks on full socket buffers. Raises AssertionError on close or timeout."""
    import threading

    bodies = list(bodies)
    out = [None] * len(bodies)
    failure = []
    sem = threading.Semaphore(window)
    with Client(port, timeout=timeout) as c:
        def reader():
            try:
                for i in range(len(bodies)):
                    out[i] = c.recv(i + 1, timeout)
                    sem.release()
            except Exception as e:  # noqa: BLE001 - reported by the caller's thread
                failure.append(e)
                for _ in range(window):
                    sem.release()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        deadline = time.monotonic() + timeout
        for i, body in enumerate(bodies):
            if not sem.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise AssertionError("pipelined_calls: no answer to request %d within %.0f s" % (i, timeout))
            if failure:
                break
            c.conn.send(request(api_key, version, i + 1, body, client_id=c.client_id))
        t.join(max(0.0, deadline - time.monotonic()))
        if failure:
            raise AssertionError("pipelined_calls: %r" % failure[0])
        if t.is_alive():
            raise AssertionError("pipelined_calls: only %d of %d answers within %.0f s"
                                 % (sum(1 for o in out if o is not None), len(bodies), timeout))
    return out


# ---------------------------------------------------------------------------
# Admin requests: IncrementalAlterConfigs v0, DeleteRecords v0, DescribeCluster v0 (flexible),
# DescribeConfigs v1 (the ones the Debian clients cannot send).

DELETE_RECORDS = 21
DESCRIBE_CONFIGS = 32
INCREMENTAL_ALTER_CONFIGS = 44
DESCRIBE_CLUSTER = 60
FIRST_FLEXIBLE.update({DELETE_RECORDS: 2, DESCRIBE_CONFIGS: 4, INCREMENTAL_ALTER_CONFIGS: 1, DESCRIBE_CLUSTER: 0,
                       33: 2, 37: 2})

RESOURCE_TOPIC = 2
RESOURCE_BROKER = 4
OP_SET, OP_DELETE, OP_APPEND, OP_SUBTRACT = 0, 1, 2, 3


def _call(port, api_key, version, body, timeout=15.0):
    with Conn(port, timeout=timeout) as c:
        c.send(request(api_key, version, 77, body))
        r = c.recv_response(timeout)
        if r is None:
            raise AssertionError("broker closed the connection instead of answering api %d v%d" % (api_key, version))
        corr, payload = r
        assert corr == 77, "correlation id %d, expected 77" % corr
        return payload


def incremental_alter_configs(port, resources, validate_only=False):
    """resources: [(type, name, [(key, op, value-or-None)])] -> [(error, message, type, name)]."""
    body = array([i8(t) + string(n) + array([string(k) + i8(op) + nullable_string(v) for k, op, v in cfgs])
                  for t, n, cfgs in resources]) + i8(1 if validate_only else 0)
    r = Reader(_call(port, INCREMENTAL_ALTER_CONFIGS, 0, body))
    r.i32()  # throttle
    return [(r.i16(), r.string(), r.i8(), r.string()) for _ in range(r.i32())]


def delete_records(port, topic, offsets, timeout_ms=10000):
    """offsets: {partition: offset} -> {partition: (error, low_watermark)}."""
    body = array([string(topic) + array([i32(p) + i64(o) for p, o in offsets.items()])]) + i32(timeout_ms)
    r = Reader(_call(port, DELETE_RECORDS, 0, body))
    r.i32()  # throttle
    out = {}
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            p = r.i32()
            low = r.i64()
            out[p] = (r.i16(), low)
    return out


def _compact_string(r):
    n = r.uvarint() - 1
    if n < 0:
        return None
    s = r.data[r.pos:r.pos + n].decode()
    r.pos += n
    return s


def describe_cluster(port, include_operations=False):
    """-> dict(error, cluster_id, controller, brokers=[(id, host, port, rack)], operations)."""
    r = Reader(_call(port, DESCRIBE_CLUSTER, 0, i8(1 if include_operations else 0) + uvarint(0)))
    r.skip_tagged_fields()  # response header v1
    out = {"throttle": r.i32(), "error": r.i16(), "message": _compact_string(r), "cluster_id": _compact_string(r),
           "controller": r.i32(), "brokers": []}
    for _ in range(r.uvarint() - 1):
        broker_id = r.i32()
        host = _compact_string(r)
        port_ = r.i32()
        rack = _compact_string(r)
        r.skip_tagged_fields()
        out["brokers"].append((broker_id, host, port_, rack))
    out["operations"] = r.i32()
    r.skip_tagged_fields()
    assert r.remaining() == 0, "DescribeCluster: %d trailing bytes" % r.remaining()
    return out


def describe_configs_v1(port, resource_type, name, keys=None, synonyms=True):
    """-> (error, message, {key: (value, read_only, source, sensitive, [(name, value, source)])})."""
    body = array([i8(resource_type) + string(name) + (i32(-1) if keys is None else array(string(k) for k in keys))])
    body += i8(1 if synonyms else 0)
    r = Reader(_call(port, DESCRIBE_CONFIGS, 1, body))
    r.i32()
    n = r.i32()
    assert n == 1, "one resource asked, %d answered" % n
    err, message = r.i16(), r.string()
    r.i8()
    r.string()
    configs = {}
    for _ in range(r.i32()):
        key, value, read_only, source, sensitive = r.string(), r.string(), r.i8(), r.i8(), r.i8()
        syn = [(r.string(), r.string(), r.i8()) for _ in range(r.i32())]
        configs[key] = (value, bool(read_only), source, bool(sensitive), syn)
    assert r.remaining() == 0, "DescribeConfigs v1: %d trailing bytes" % r.remaining()
    return err, message, configs
