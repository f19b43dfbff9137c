"""Hostile and malformed input on raw sockets. After every case the broker must
still be alive, serve a fresh well-behaved client, and keep its RSS bounded
(Broker.assert_healthy)."""

import random
import resource
import socket
import struct
import time

import pytest
from confluent_kafka import Producer

import kafka_wire as w
from clients import consume_all, producer_config, wait_for_topic, watermarks

OUTCOME_TIMEOUT_S = 5.0


def describe(outcome):
    if isinstance(outcome, tuple):
        return "response corr=%d body=%r" % (outcome[1], outcome[2][:64])
    return outcome


def send_and_expect_close(b, data, what, half_close=False):
    with w.Conn(b.port) as c:
        try:
            c.send(data)
            if half_close:
                c.sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # already closed on us: fine
        outcome = c.outcome(OUTCOME_TIMEOUT_S)
    assert outcome == "closed", "%s: expected the broker to close the connection, got %s" % (what, describe(outcome))
    b.assert_healthy(what)


# ---------------------------------------------------------------------------
# Supported versions, pipelining, slow senders.

def test_api_versions_advertises_the_supported_ranges(broker):
    b = broker()
    err, apis = w.api_versions_roundtrip(b.port)
    assert err == 0
    for key, rng in w.SUPPORTED.items():
        assert apis.get(key) == rng, "api key %d: advertised %r, expected %r (all: %r)" % (key, apis.get(key), rng, apis)
    # Documented as not supported yet: idempotence/transactions, ACLs, SASL; nothing else either.
    for key, name in ((22, "InitProducerId"), (24, "AddPartitionsToTxn"), (29, "DescribeAcls"),
                      (17, "SaslHandshake")):
        assert key not in apis, "%s (%d) advertised but not supported" % (name, key)
    assert set(apis) == set(w.SUPPORTED), "advertised %r, expected exactly %r" % (sorted(apis), sorted(w.SUPPORTED))


def test_pipelined_requests_answered_in_order(broker):
    b = broker()
    with w.Conn(b.port) as c:
        c.send(w.api_versions_request(101, 0) + w.metadata_v1_request(102, None)
               + w.api_versions_request(103, 1) + w.api_versions_request(104, 3))
        corrs = []
        for _ in range(4):
            r = c.recv_response(10)
            assert r is not None, "connection closed after responses %r" % corrs
            corrs.append(r[0])
            if r[0] == 104:
                err, apis, trailing = w.parse_or_fail(w.parse_api_versions_v3, r[1], "ApiVersions v3")
                assert err == 0 and trailing == 0 and apis.get(w.API_VERSIONS) == (0, 3)
    assert corrs == [101, 102, 103, 104], "responses out of order: %r" % corrs
    b.assert_healthy("pipelined requests")


@pytest.mark.parametrize("version", [0, 3])
def test_byte_at_a_time_sender_gets_a_correct_answer(broker, version):
    b = broker()
    req = w.api_versions_request(777, version)
    with w.Conn(b.port) as c:
        for i in range(len(req)):
            c.send(req[i:i + 1])
            time.sleep(0.02)
        r = c.recv_response(10)
    assert r is not None, "closed instead of answering a slowly sent ApiVersions v%d" % version
    corr, body = r
    assert corr == 777
    parse = w.parse_api_versions_v3 if version == 3 else w.parse_api_versions_v0
    err, apis, trailing = w.parse_or_fail(parse, body, "ApiVersions v%d" % version)
    assert err == 0 and trailing == 0, (err, trailing)
    assert apis.get(w.API_VERSIONS) == (0, 3), apis
    b.assert_healthy("byte-at-a-time sender")


# ---------------------------------------------------------------------------
# Broken framing.

@pytest.mark.parametrize("size, payload", [
    (-1, b"\x00" * 16),
    (-2 ** 31, b"\x00" * 16),
    (0, b""),
    (0, b"\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00"),   # zero size followed by what looks like a request
    (1, b"\x00"),
    (3, b"\x00\x12\x00"),                                 # shorter than any request header
    (2 ** 31 - 1, b"\x00\x12\x00\x00" + b"A" * 1000),     # 2 GiB claimed
], ids=["minus1", "int32min", "zero", "zero-then-bytes", "one", "three", "int32max"])
def test_bad_frame_size_closes_connection(broker, size, payload):
    b = broker()
    send_and_expect_close(b, struct.pack(">i", size) + payload, "frame size %d" % size)


@pytest.mark.parametrize("data", [
    b"\x00\x00",                                          # half a size field
    struct.pack(">i", 100) + b"\x00\x12\x00\x00\x00\x00",  # truncated header
    w.api_versions_request(5, 0)[:-3],                      # everything but the last bytes
    struct.pack(">i", 1000) + w.request_header(w.METADATA, 1, 6) + b"\x00\x00",  # truncated body
], ids=["half-size", "truncated-header", "almost-complete", "truncated-body"])
def test_truncated_frame_then_close(broker, data):
    b = broker()
    with w.Conn(b.port) as c:
        c.send(data)
    b.assert_healthy("truncated frame then close")
    # Same again, but half-close: the broker must notice EOF and close its side.
    send_and_expect_close(b, data, "truncated frame then EOF", half_close=True)


def test_client_id_longer_than_frame_closes(broker):
    b = broker()
    payload = w.i16(w.API_VERSIONS) + w.i16(0) + w.i32(9) + w.i16(5000) + b"abc"
    send_and_expect_close(b, w.frame(payload), "client_id length past the frame")


def test_null_client_id_is_served(broker):
    b = broker()
    with w.Conn(b.port) as c:
        c.send(w.request(w.API_VERSIONS, 0, 31, client_id=None))
        r = c.recv_response(10)
    assert r is not None, "closed on a request with a null client_id (legal in Kafka)"
    assert r[0] == 31
    err, apis, _ = w.parse_or_fail(w.parse_api_versions_v0, r[1], "ApiVersions v0, null client_id")
    assert err == 0 and w.API_VERSIONS in apis
    b.assert_healthy("null client_id")


# ---------------------------------------------------------------------------
# Unknown keys and versions.

@pytest.mark.parametrize("api_key", [9999, -1, 32767])
def test_unknown_api_key_closes_connection(broker, api_key):
    b = broker()
    send_and_expect_close(b, w.request(api_key, 0, 11, b"\x00" * 8, flexible=False), "api key %d" % api_key)


@pytest.mark.parametrize("api_key, version", [
    (w.METADATA, 99), (w.METADATA, -1), (w.METADATA, 9), (w.PRODUCE, 2), (w.FETCH, 3), (w.FETCH, 13),
    (w.LIST_OFFSETS, 5), (w.CREATE_TOPICS, 8), (w.DELETE_TOPICS, 7), (w.FIND_COORDINATOR, 4),
])
def test_unsupported_version_closes_connection(broker, api_key, version):
    b = broker()
    send_and_expect_close(b, w.request(api_key, version, 12, b"\x00" * 16, flexible=False),
                          "api key %d version %d" % (api_key, version))


@pytest.mark.parametrize("version", [99, 4, 32767])
def test_api_versions_unsupported_version_answers_error_35(broker, version):
    b = broker()
    with w.Conn(b.port) as c:
        # Sent like a modern client would: header v2 and a v3-shaped body.
        body = w.compact_string("ms-it") + w.compact_string("9.9") + w.uvarint(0)
        c.send(w.request(w.API_VERSIONS, version, 35, body, flexible=True))
        r = c.recv_response(10)
        assert r is not None, "ApiVersions v%d: connection closed instead of an UNSUPPORTED_VERSION answer" % version
        corr, resp = r
        assert corr == 35
        err, apis, _ = w.parse_or_fail(w.parse_api_versions_v0, resp,
                                       "ApiVersions v%d answer (must be a v0 body)" % version)
        assert err == w.UNSUPPORTED_VERSION, "ApiVersions v%d: error %d, expected 35" % (version, err)
        assert w.API_VERSIONS in apis, "error response must still list ApiVersions: %r" % apis
        assert apis[w.API_VERSIONS][1] == 3, "ApiVersions range in error response: %r" % (apis[w.API_VERSIONS],)
        # The connection stays usable: the client retries with a version it now knows.
        c.send(w.api_versions_request(36, 0))
        r = c.recv_response(10)
        assert r is not None, "connection closed after the UNSUPPORTED_VERSION answer"
        assert r[0] == 36 and w.parse_or_fail(w.parse_api_versions_v0, r[1], "ApiVersions v0 retry")[0] == 0
    b.assert_healthy("ApiVersions v%d" % version)


# ---------------------------------------------------------------------------
# Garbage bodies.

GARBAGE_TARGETS = [
    (w.PRODUCE, 3), (w.PRODUCE, 9), (w.FETCH, 4), (w.FETCH, 12), (w.LIST_OFFSETS, 0), (w.LIST_OFFSETS, 4),
    (w.METADATA, 1), (w.METADATA, 8), (w.API_VERSIONS, 0), (w.API_VERSIONS, 3), (w.CREATE_TOPICS, 0),
    (w.CREATE_TOPICS, 5), (w.DELETE_TOPICS, 0), (w.DELETE_TOPICS, 4), (w.FIND_COORDINATOR, 0),
    (w.FIND_COORDINATOR, 3),
]


def garbage_patterns(seed):
    rng = random.Random(seed)
    return [
        ("empty", b""),
        ("ff", b"\xff" * 64),
        ("7f", b"\x7f" * 64),
        ("80", b"\x80" * 64),          # endless varint continuation bytes
        ("zeros", b"\x00" * 64),
        ("random-short", bytes(rng.getrandbits(8) for _ in range(7))),
        ("random-64", bytes(rng.getrandbits(8) for _ in range(64))),
        ("random-4k", bytes(rng.getrandbits(8) for _ in range(4096))),
    ]


@pytest.mark.parametrize("api_key, version", GARBAGE_TARGETS, ids=["%d-v%d" % t for t in GARBAGE_TARGETS])
def test_garbage_body(broker, api_key, version):
    b = broker()
    for name, body in garbage_patterns(api_key * 100 + version):
        what = "garbage %s body for api key %d v%d" % (name, api_key, version)
        with w.Conn(b.port) as c:
            c.send(w.request(api_key, version, 4711, body))
            outcome = c.outcome(OUTCOME_TIMEOUT_S)
        if isinstance(outcome, tuple):
            assert outcome[1] == 4711, "%s: response with correlation id %d" % (what, outcome[1])
        elif outcome == "timeout":
            # Only an acks=0 produce may legitimately stay silent.
            assert api_key == w.PRODUCE, "%s: neither answered nor closed within %.0f s" % (what, OUTCOME_TIMEOUT_S)
        b.assert_healthy(what)


# ---------------------------------------------------------------------------
# Lying counts and lengths.

@pytest.mark.parametrize("case", ["metadata-topics", "metadata-topics-one-present", "metadata-string-len",
                                  "produce-records-len", "produce-topics", "createtopics-count",
                                  "fetch-partitions"])
def test_huge_counts_and_lengths(broker, case):
    b = broker()
    big = 2 ** 31 - 1
    if case == "metadata-topics":
        req = w.request(w.METADATA, 1, 1, w.i32(big))
    elif case == "metadata-topics-one-present":
        req = w.request(w.METADATA, 1, 1, w.i32(big) + w.string("t"))
    elif case == "metadata-string-len":
        req = w.request(w.METADATA, 1, 1, w.i32(1) + w.i16(32767) + b"abc")
    elif case == "produce-records-len":
        req = w.request(w.PRODUCE, 3, 1, w.nullable_string(None) + w.i16(-1) + w.i32(1000)
                        + w.i32(1) + w.string("t") + w.i32(1) + w.i32(0) + w.i32(big) + b"\x00" * 61)
    elif case == "produce-topics":
        req = w.request(w.PRODUCE, 3, 1, w.nullable_string(None) + w.i16(-1) + w.i32(1000) + w.i32(big))
    elif case == "createtopics-count":
        req = w.request(w.CREATE_TOPICS, 0, 1, w.i32(big) + w.i32(1000))
    else:  # fetch v4: one topic claiming 2^31-1 partitions
        req = w.request(w.FETCH, 4, 1, w.i32(-1) + w.i32(100) + w.i32(1) + w.i32(1 << 20) + w.i8(0)
                        + w.i32(1) + w.string("t") + w.i32(big))
    with w.Conn(b.port) as c:
        c.send(req)
        outcome = c.outcome(OUTCOME_TIMEOUT_S)
    assert outcome != "timeout", "%s: neither answered nor closed" % case
    if isinstance(outcome, tuple):
        assert outcome[1] == 1
    b.assert_healthy(case)


# ---------------------------------------------------------------------------
# Corrupt record batches in Produce v3.

RECORDS = [(b"k%d" % i, b"value %d" % i, [("h", b"x")]) for i in range(3)]


def produce_raw(b, topic, records, corr):
    with w.Conn(b.port) as c:
        c.send(w.produce_v3_request(corr, topic, 0, records))
        r = c.recv_response(15)
    assert r is not None, "Produce v3 (corr %d): connection closed instead of a response" % corr
    assert r[0] == corr
    res = w.parse_or_fail(w.parse_produce_v3, r[1], "Produce v3 response")
    assert list(res) == [(topic, 0)], res
    return res[(topic, 0)]


def assert_only_the_valid_batch_landed(b, topic):
    err, base = produce_raw(b, topic, w.record_batch(RECORDS), 90)
    assert (err, base) == (0, 0), "valid batch after the bad one: error %d base offset %d (expected 0, 0)" % (err, base)
    got = consume_all(b.bootstrap, topic, [0])[0]
    assert [(m.offset(), m.key(), m.value(), m.headers()) for m in got] == [
        (i, k, v, h) for i, (k, v, h) in enumerate(RECORDS)], got


@pytest.mark.parametrize("corruption", ["crc", "crc-bitflip-in-value"])
def test_produce_corrupt_crc_rejected(broker, corruption):
    b = broker()
    topic = "hostile-crc"
    wait_for_topic(b.bootstrap, topic, 1)
    batch = w.record_batch(RECORDS)
    if corruption == "crc":
        batch = w.record_batch(RECORDS, corrupt_crc=True)
    else:
        pos = batch.rindex(b"value 2")
        batch = batch[:pos] + b"V" + batch[pos + 1:]   # payload changed after the CRC was computed
    err, _ = produce_raw(b, topic, batch, 80)
    assert err == w.CORRUPT_MESSAGE, "corrupt batch: per-partition error %d, expected 2 (CORRUPT_MESSAGE)" % err
    assert watermarks(b.bootstrap, topic, [0])[0] == (0, 0), "the corrupt batch was appended"
    b.assert_healthy("corrupt CRC")
    assert_only_the_valid_batch_landed(b, topic)


@pytest.mark.parametrize("lie", ["batch-length-past-frame", "batch-length-short", "records-count-high",
                                 "records-count-low", "magic-1", "truncated"])
def test_produce_malformed_batch_rejected(broker, lie):
    b = broker()
    topic = "hostile-batch"
    wait_for_topic(b.bootstrap, topic, 1)
    if lie == "batch-length-past-frame":
        batch = w.record_batch(RECORDS, batch_length_delta=1000)
    elif lie == "batch-length-short":
        batch = w.record_batch(RECORDS, batch_length_delta=-10)
    elif lie == "records-count-high":
        batch = w.record_batch(RECORDS, records_count=5)     # CRC is valid over the lying count
    elif lie == "records-count-low":
        batch = w.record_batch(RECORDS, records_count=1)
    elif lie == "magic-1":
        good = w.record_batch(RECORDS)
        batch = good[:16] + b"\x01" + good[17:]
    else:
        batch = w.record_batch(RECORDS)[:40]
    err, _ = produce_raw(b, topic, batch, 81)
    assert err != 0, "%s: batch accepted (error 0)" % lie
    assert err in (w.CORRUPT_MESSAGE, w.INVALID_RECORD, 43), (
        "%s: error %d, expected CORRUPT_MESSAGE(2), INVALID_RECORD(87) or UNSUPPORTED_FOR_MESSAGE_FORMAT(43)" % (lie, err))
    assert watermarks(b.bootstrap, topic, [0])[0] == (0, 0), "%s: the malformed batch was appended" % lie
    b.assert_healthy(lie)
    assert_only_the_valid_batch_landed(b, topic)


# ---------------------------------------------------------------------------
# Many idle connections.

IDLE_CONNECTIONS = 2000


def test_many_idle_connections_do_not_starve_clients(broker):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = IDLE_CONNECTIONS + 512
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.fail("RLIMIT_NOFILE hard limit %d is below the %d this test needs" % (hard, need))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

    b = broker(num_partitions=2)
    topic = "busy"
    wait_for_topic(b.bootstrap, topic, 2)
    idle = []
    try:
        for i in range(IDLE_CONNECTIONS):
            s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
            idle.append(s)
        assert b.alive(), "broker died while accepting %d connections\n%s" % (len(idle), b.log_tail())

        # A well-behaved client still produces and consumes.
        p = Producer(producer_config(b.bootstrap))
        errors = []
        for i in range(500):
            p.produce(topic, value=b"busy-%d" % i, partition=i % 2,
                      on_delivery=lambda err, msg: err and errors.append(err))
        assert p.flush(60) == 0, "messages undelivered with %d idle connections open" % len(idle)
        assert not errors, errors[:5]
        got = consume_all(b.bootstrap, topic, [0, 1])
        values = sorted(m.value() for part in got.values() for m in part)
        assert values == sorted(b"busy-%d" % i for i in range(500))
        b.assert_healthy("%d idle connections" % len(idle))

        # The idle connections were really accepted: a sample of them is served.
        for idx in range(0, IDLE_CONNECTIONS, 97):
            s = idle[idx]
            s.settimeout(10)
            s.sendall(w.api_versions_request(idx, 0))
            r = w.Conn.wrap(s).recv_response(10)
            assert r is not None and r[0] == idx, "idle connection #%d not served: %r" % (idx, r)
    finally:
        for s in idle:
            s.close()
    time.sleep(0.5)
    b.assert_healthy("closing %d connections" % IDLE_CONNECTIONS)
