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


def parse_produce_v3(body):
    """Produce v3 response -> {(topic, partition): (error_code, base_offset)}."""
    r = Reader(body)
    out = {}
    for _ in range(r.i32()):
        topic = r.string()
        for _ in range(r.i32()):
            partition = r.i32()
            err = r.i16()
            base_offset = r.i64()
            r.i64()  # log_append_time
            out[(topic, partition)] = (err, base_offset)
    r.i32()  # throttle_time_ms
    if r.remaining() != 0:
        raise ValueError("%d trailing bytes in Produce v3 response" % r.remaining())
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
