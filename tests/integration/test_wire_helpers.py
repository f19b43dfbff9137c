"""Self-checks of kafka_wire against known vectors and the golden frames captured
from real clients, so a hostile-test failure is the broker's and not the helper's.
Needs no broker."""

import pathlib
import struct

import kafka_wire as w

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "frames"


def test_crc32c_known_vectors():
    assert w.crc32c(b"") == 0
    assert w.crc32c(b"123456789") == 0xE3069283
    assert w.crc32c(b"\x00" * 32) == 0x8A9136AA
    assert w.crc32c(b"\xff" * 32) == 0x62A8AB43


def test_varints():
    assert w.varint(0) == b"\x00"
    assert w.varint(-1) == b"\x01"
    assert w.varint(1) == b"\x02"
    assert w.varint(300) == b"\xd8\x04"
    assert w.varint(-2 ** 63) == b"\xff" * 9 + b"\x01"
    assert w.uvarint(127) == b"\x7f" and w.uvarint(128) == b"\x80\x01"


def test_record_batch_matches_librdkafka_golden_frame():
    req = (GOLDEN / "kcat" / "0006_Produce_v7.req").read_bytes()
    pos = req.index(b"golden") + len(b"golden") + 4 + 4  # partitions count, partition index
    (size,) = struct.unpack_from(">i", req, pos)
    batch = req[pos + 4:pos + 4 + size]
    assert w.batch_crc_ok(batch)
    (base_ts,) = struct.unpack_from(">q", batch, 27)
    mine = w.record_batch([(b"k1", b"v1", [("h1", b"x"), ("h2", b"y")]),
                           (b"k2", b"v2", [("h1", b"x"), ("h2", b"y")])],
                          base_timestamp=base_ts, partition_leader_epoch=0)
    assert mine == batch
    assert not w.batch_crc_ok(w.record_batch([(None, b"v", [])], corrupt_crc=True))


def test_request_header_matches_golden_frames():
    # kcat's ApiVersions v3 request (header v2) and kafka-python's ApiVersions v0 request.
    v3 = (GOLDEN / "kcat" / "0001_ApiVersions_v3.req").read_bytes()
    assert v3.startswith(w.request_header(w.API_VERSIONS, 3, 1, "rdkafka"))
    v0 = (GOLDEN / "kafka-python" / "0001_ApiVersions_v0.req").read_bytes()
    (corr,) = struct.unpack_from(">i", v0, 4)
    (n,) = struct.unpack_from(">h", v0, 8)
    assert v0 == w.request_header(w.API_VERSIONS, 0, corr, v0[10:10 + n].decode())


def test_response_parsers_on_golden_frames():
    resp = (GOLDEN / "confluent-kafka" / "0001_ApiVersions_v3.resp").read_bytes()
    err, apis, trailing = w.parse_api_versions_v3(resp[4:])
    assert err == 0 and trailing == 0 and apis[w.API_VERSIONS] == (0, 3)
    resp = (GOLDEN / "kafka-python" / "0001_ApiVersions_v0.resp").read_bytes()
    err, apis, trailing = w.parse_api_versions_v0(resp[4:])
    assert err == 0 and trailing == 0 and w.PRODUCE in apis and w.API_VERSIONS in apis
