"""`memorystreamer produce` and `consume` against the real broker, checked against what
librdkafka (confluent-kafka) reads and writes."""
import json
import signal
import subprocess

import pytest
from confluent_kafka import Producer

from cli import failed, json_lines, ms, ok, ok_json
from clients import consume_all, wait_until
from cli import cli_binary


def create(b, topic, partitions=1):
    ok(["topic", "create", topic, "-p", partitions, "--brokers", b.bootstrap])


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_produce_keys_headers_compression_read_back_by_librdkafka(broker, codec):
    b = broker()
    create(b, "pk", 4)
    lines = ["key%d:value %d: with colon" % (i, i) for i in range(200)]
    # (No null-valued header here: confluent-kafka's Message.headers() corrupts None's refcount on
    # them; null header values are checked through `consume --format json` below.)
    res = ok_json(["produce", "pk", "--key-delim", ":", "-H", "source=cli", "-H", "trace=", "-z", codec,
                   "--brokers", b.bootstrap], input="\n".join(lines) + "\n")
    assert res["topic"] == "pk" and res["records"] == 200
    assert sum(p["records"] for p in res["partitions"]) == 200
    got = consume_all(b.bootstrap, "pk", range(4))
    seen = {}
    for p, msgs in got.items():
        for m in msgs:
            seen[m.key().decode()] = (p, m.value().decode(), m.headers())
    assert len(seen) == 200
    for i in range(200):
        p, value, headers = seen["key%d" % i]
        assert value == "value %d: with colon" % i
        assert headers == [("source", b"cli"), ("trace", b"")]
    # The offsets reported are the ones the records got.
    for part in res["partitions"]:
        msgs = got[part["partition"]]
        assert part["first_offset"] == msgs[0].offset() and part["last_offset"] == msgs[-1].offset()

    # A header without '=' has a null value.
    create(b, "pkn", 1)
    ok(["produce", "pkn", "-H", "flag", "-H", "k=v", "-z", codec, "--brokers", b.bootstrap], input="x\n")
    [r] = json_lines(ok(["consume", "pkn", "-e", "--format", "json", "--brokers", b.bootstrap]).stdout)
    assert r["headers"] == [{"key": "flag", "value": None}, {"key": "k", "value": "v"}] and r["value"] == "x"

    # Keyed records land where librdkafka's murmur2 partitioner (Kafka's default) puts them.
    create(b, "pk2", 4)
    p = Producer({"bootstrap.servers": b.bootstrap, "partitioner": "murmur2"})
    for i in range(200):
        p.produce("pk2", key="key%d" % i, value=b"x")
    assert p.flush(30) == 0
    theirs = {m.key().decode(): part for part, msgs in consume_all(b.bootstrap, "pk2", range(4)).items()
              for m in msgs}
    assert {k: v[0] for k, v in seen.items()} == theirs


def test_consume_json_matches_what_librdkafka_produced(broker):
    b = broker()
    create(b, "cj", 2)
    p = Producer({"bootstrap.servers": b.bootstrap, "compression.type": "lz4", "linger.ms": 5})
    sent = []
    for i in range(50):
        key = None if i % 10 == 0 else ("k%d" % i).encode()
        value = None if i == 7 else ("v%d \u00e9 \"quoted\"\n" % i).encode()
        headers = [("h", ("x%d" % i).encode()), ("n", None)] if i % 3 == 0 else None
        p.produce("cj", key=key, value=value, headers=headers, partition=i % 2, timestamp=1700000000000 + i)
        sent.append((i % 2, key, value, headers or [], 1700000000000 + i))
    assert p.flush(30) == 0
    out = ok(["consume", "cj", "-e", "--format", "json", "--brokers", b.bootstrap])
    records = json_lines(out.stdout)
    assert len(records) == 50
    by_partition = {0: [], 1: []}
    for r in records:
        assert r["topic"] == "cj"
        by_partition[r["partition"]].append(r)
    for part in (0, 1):
        assert [r["offset"] for r in by_partition[part]] == list(range(25))
        expected = [s for s in sent if s[0] == part]
        for r, (_, key, value, headers, ts) in zip(by_partition[part], expected):
            assert r["key"] == (key.decode() if key is not None else None)
            assert r["value"] == (value.decode() if value is not None else None)
            assert r["headers"] == [{"key": k, "value": v.decode() if v is not None else None} for k, v in headers]
            assert r["timestamp"] == ts


def test_consume_offsets_templates_and_limits(broker):
    b = broker()
    create(b, "co", 1)
    br = ["--brokers", b.bootstrap]
    p = Producer({"bootstrap.servers": b.bootstrap})
    for i in range(10):
        p.produce("co", key="k%d" % i, value="v%d" % i, timestamp=1700000000000 + 1000 * i,
                  headers=[("a", b"1")])
    assert p.flush(30) == 0
    out = ok(["consume", "co", "-e", "-f", "%t|%p|%o|%k|%v|%K|%V|%h|%T\\n"] + br).stdout.splitlines()
    assert out[3] == "co|0|3|k3|v3|2|2|a=1|1700000003000"
    assert len(out) == 10
    # Default output: the value per line.
    assert ok(["consume", "co", "-e"] + br).stdout == "".join("v%d\n" % i for i in range(10))
    assert ok(["consume", "co", "-e", "--offset", "7", "-f", "%o\\n"] + br).stdout == "7\n8\n9\n"
    assert ok(["consume", "co", "-e", "--offset", "@1700000004500", "-f", "%o\\n"] + br).stdout == \
        "5\n6\n7\n8\n9\n"
    assert ok(["consume", "co", "-e", "--offset", "end"] + br).stdout == ""
    assert ok(["consume", "co", "--num", "3", "-f", "%v,"] + br).stdout == "v0,v1,v2,"
    # An offset past the end starts at the end; a timestamp after every record too.
    assert ok(["consume", "co", "-e", "--offset", "1000"] + br).stdout == ""
    assert ok(["consume", "co", "-e", "--offset", "@1800000000000"] + br).stdout == ""


def test_consume_follows_new_records_by_default(broker):
    b = broker()
    create(b, "cf", 2)
    proc = subprocess.Popen([str(cli_binary()), "consume", "cf", "--num", "4", "-f", "%v\\n",
                             "--brokers", b.bootstrap], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL)
    try:
        p = Producer({"bootstrap.servers": b.bootstrap})
        for i in range(4):
            p.produce("cf", value="late%d" % i, partition=i % 2)
        assert p.flush(30) == 0
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert sorted(stdout.split()) == ["late0", "late1", "late2", "late3"]


def test_produce_files_partition_acks_and_tombstones(broker, tmp_path):
    b = broker()
    create(b, "pf", 3)
    br = ["--brokers", b.bootstrap]
    f1 = tmp_path / "a.txt"
    f1.write_text("one\ntwo\n")
    f2 = tmp_path / "b.txt"
    f2.write_text("three\n\nfour")  # an empty line, no final newline
    res = ok_json(["produce", "pf", str(f1), str(f2), "-p", "2", "-k", "fixed", "--tombstone", "--acks", "1"] + br)
    assert res["records"] == 5 and [p["partition"] for p in res["partitions"]] == [2]
    msgs = consume_all(b.bootstrap, "pf", [2])[2]
    assert [m.value() for m in msgs] == [b"one", b"two", b"three", None, b"four"]
    assert all(m.key() == b"fixed" for m in msgs)
    # acks=0: nothing to report but the records arrive.
    res = ok_json(["produce", "pf", "-p", "0", "--acks", "0"] + br, input="z1\nz2\n")
    assert res["records"] == 2 and res["partitions"][0]["first_offset"] is None
    wait_until(lambda: len(consume_all(b.bootstrap, "pf", [0])[0]) == 2, 30, "acks=0 records")
    # NUL-delimited input keeps newlines inside values.
    ok(["produce", "pf", "-p", "1", "--delimiter", "\\0"] + br, input="multi\nline\0second")
    assert [m.value() for m in consume_all(b.bootstrap, "pf", [1])[1]] == [b"multi\nline", b"second"]
    text = ok(["produce", "pf", "-p", "1"] + br, input="t\n").stdout
    assert "Produced 1 records" in text and "PARTITION" in text


def test_produce_and_consume_errors(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    create(b, "pe", 2)
    out = failed(["produce", "nope"] + br, input="x\n")
    assert "topic 'nope' does not exist" in out.stderr
    out = failed(["consume", "nope", "-e"] + br)
    assert "topic 'nope' does not exist" in out.stderr
    out = failed(["produce", "pe", "-p", "5"] + br, input="x\n")
    assert "no partition 5" in out.stderr
    out = failed(["produce", "pe", "--key-delim", ":"] + br, input="k:v\nnodelim\n")
    assert "key delimiter" in out.stderr
    out = failed(["produce", "pe", "/nonexistent/file"] + br)
    assert "cannot open '/nonexistent/file'" in out.stderr
    out = failed(["consume", "pe", "-e", "-p", "7"] + br)
    assert "no partition 7" in out.stderr
    for args in (["produce", "pe", "-z", "brotli"], ["produce", "pe", "--acks", "2"],
                 ["produce", "pe", "-H", "=v"], ["produce", "pe", "--key-delim", ":", "-k", "k"],
                 ["produce", "pe", "--delimiter", "ab"], ["consume", "pe", "-f", "%q"],
                 ["consume", "pe", "--offset", "soon"], ["consume", "pe", "--offset", "-5"],
                 ["consume", "pe", "-g", "g", "-p", "0"], ["consume"], ["produce"]):
        failed(args + br, code=2, input="x\n")


def test_binary_values_in_json_stay_parseable(broker):
    b = broker()
    create(b, "bin", 1)
    p = Producer({"bootstrap.servers": b.bootstrap})
    p.produce("bin", key=b"\xff\x00k", value=b"\x80abc\xc3\xa9")
    assert p.flush(30) == 0
    [r] = json_lines(ok(["consume", "bin", "-e", "--format", "json", "--brokers", b.bootstrap]).stdout)
    assert r["key"] == "\u00ff\u0000k" and r["value"] == "\u0080abc\u00e9"
