"""kcat (librdkafka 2.0.2) against the broker: metadata listing, produce with keys
and headers, and a byte-exact consume of text and binary messages."""

import json
import random
import re
import subprocess
import time

KCAT = "kcat"
KCAT_TIMEOUT_S = 60

# Consume format: one header line with sizes, then exactly K key bytes and S value
# bytes, then a line with the headers. Sizes make the parse exact for binary data.
CONSUME_FORMAT = r"REC %p %o %K %S\n%k%s\nHDR %h\n"


def kcat(args, input_bytes=None, check=True):
    cmd = [KCAT, "-m", "10"] + list(args)
    r = subprocess.run(cmd, input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=KCAT_TIMEOUT_S)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d\nstderr:\n%s" % (cmd, r.returncode,
                                                             r.stderr.decode("utf-8", "replace")))
    return r


def parse_consumed(out):
    """Parse CONSUME_FORMAT output -> list of dicts (partition, offset, key, value, headers)."""
    recs = []
    pos = 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        head = out[pos:nl].split(b" ")
        assert head[0] == b"REC" and len(head) == 5, "bad record header %r at byte %d" % (out[pos:nl], pos)
        p, o, klen, vlen = (int(x) for x in head[1:])
        pos = nl + 1
        key = None if klen < 0 else out[pos:pos + klen]
        pos += max(klen, 0)
        value = None if vlen < 0 else out[pos:pos + vlen]
        pos += max(vlen, 0)
        assert out[pos:pos + 1] == b"\n", "record at offset %d: value not followed by newline" % o
        pos += 1
        nl = out.index(b"\n", pos)
        hline = out[pos:nl]
        assert hline.startswith(b"HDR "), "bad headers line %r" % hline
        recs.append({"partition": p, "offset": o, "key": key, "value": value, "headers": hline[4:]})
        pos = nl + 1
    return recs


def consume(bootstrap, topic, partition):
    r = kcat(["-C", "-q", "-b", bootstrap, "-t", topic, "-p", str(partition), "-o", "beginning", "-e",
              "-f", CONSUME_FORMAT])
    return parse_consumed(r.stdout)


def metadata_json(bootstrap, topic=None, timeout=15.0):
    """kcat -L -J, retried until the topic (if given) has partitions and no error."""
    args = ["-L", "-J", "-b", bootstrap] + (["-t", topic] if topic else [])
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        r = kcat(args, check=False)
        last = (r.returncode, r.stdout, r.stderr)
        if r.returncode == 0:
            md = json.loads(r.stdout)
            if topic is None:
                return md
            ts = [t for t in md.get("topics", []) if t.get("topic") == topic]
            if ts and not ts[0].get("error") and ts[0].get("partitions"):
                return md
        time.sleep(0.3)
    raise AssertionError("kcat -L never showed a healthy topic %r: rc=%s stdout=%r stderr=%r"
                         % (topic, last[0], last[1][:2000], last[2][-2000:]))


def test_metadata_lists_broker_and_topic(broker):
    b = broker(num_partitions=3)
    topic = "kcat-meta"
    md = metadata_json(b.bootstrap, topic)  # auto-creates the topic

    brokers = md["brokers"]
    assert len(brokers) == 1, "expected exactly one broker, got %r" % brokers
    node_id = brokers[0]["id"]
    assert brokers[0]["name"] == b.bootstrap, "advertised address %r, expected %r" % (brokers[0]["name"], b.bootstrap)

    (t,) = [t for t in md["topics"] if t["topic"] == topic]
    parts = sorted(t["partitions"], key=lambda p: p["partition"])
    assert [p["partition"] for p in parts] == [0, 1, 2], "partitions of %s: %r" % (topic, parts)
    for p in parts:
        assert p["leader"] == node_id, "partition %d leader %r, expected broker %r" % (p["partition"], p["leader"], node_id)
        assert not p.get("error"), "partition %d error %r" % (p["partition"], p.get("error"))
        assert [r["id"] for r in p["replicas"]] == [node_id]
        assert [r["id"] for r in p["isrs"]] == [node_id]

    # The plain-text listing of all topics names the broker and includes the topic.
    r = kcat(["-L", "-b", b.bootstrap])
    text = r.stdout.decode()
    assert re.search(r"broker %d at %s" % (node_id, re.escape(b.bootstrap)), text), text
    assert 'topic "%s" with 3 partitions' % topic in text, text


def test_produce_keys_and_headers_then_consume(broker):
    b = broker(num_partitions=2)
    topic = "kcat-text"
    metadata_json(b.bootstrap, topic)

    lines0 = [b"k1:value one", b"k2:value:with:colons", b"no key delimiter here", b"k4:\tTAB and spaces  "]
    lines1 = [b"p1-k%d:p1 value %d" % (i, i) for i in range(20)]
    hdr_args = ["-H", "a=b", "-H", "trace=xyz 1"]
    kcat(["-P", "-b", b.bootstrap, "-t", topic, "-p", "0", "-K:"] + hdr_args, b"\n".join(lines0) + b"\n")
    kcat(["-P", "-b", b.bootstrap, "-t", topic, "-p", "1", "-K:"] + hdr_args, b"\n".join(lines1) + b"\n")

    for partition, lines in ((0, lines0), (1, lines1)):
        got = consume(b.bootstrap, topic, partition)
        assert len(got) == len(lines), "partition %d: consumed %d records, produced %d: %r" % (
            partition, len(got), len(lines), got)
        for i, (line, rec) in enumerate(zip(lines, got)):
            if b":" in line:
                key, value = line.split(b":", 1)
            else:
                key, value = None, line
            assert rec["partition"] == partition
            assert rec["offset"] == i, "partition %d: record %d has offset %d" % (partition, i, rec["offset"])
            assert rec["key"] == key, "p%d o%d key %r != %r" % (partition, i, rec["key"], key)
            assert rec["value"] == value, "p%d o%d value %r != %r" % (partition, i, rec["value"], value)
            assert rec["headers"] == b"a=b,trace=xyz 1", "p%d o%d headers %r" % (partition, i, rec["headers"])


MSG_DELIM = b"<#M#>"   # no proper prefix equals a suffix, so the first match is the boundary
KEY_DELIM = b"<#K#>"


def _binary_messages(rng, n):
    fixed = [
        (b"\x00", bytes(range(256)) * 4),
        (b"\xff\xfe:\n\r", b"\n"),
        (b"nl", b"\r\n\r\n\x00\x00\n"),
        (b"zeros", b"\x00" * 1000),
        (b"colon", b":::" + bytes(range(255, -1, -1))),
    ]
    msgs = list(fixed)
    while len(msgs) < n:
        key = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 24)))
        value = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096)))
        msgs.append((key, value))
    for k, v in msgs:
        assert MSG_DELIM not in k + v and KEY_DELIM not in k + v and v
    return msgs


def test_binary_values_byte_exact(broker, tmp_path):
    b = broker(num_partitions=2)
    topic = "kcat-binary"
    metadata_json(b.bootstrap, topic)
    rng = random.Random(1234)

    # Partition 0: many binary key/value pairs from one delimited file.
    msgs = _binary_messages(rng, 60)
    src = tmp_path / "messages.bin"
    src.write_bytes(b"".join(k + KEY_DELIM + v + MSG_DELIM for k, v in msgs))
    kcat(["-P", "-b", b.bootstrap, "-t", topic, "-p", "0", "-K", KEY_DELIM.decode(), "-D", MSG_DELIM.decode(),
          "-H", "kind=binary", "-l", str(src)])

    # Partition 1: whole files as single messages (one of them large) with a fixed key.
    big = bytes(rng.getrandbits(8) for _ in range(300_000))
    small = b"\x00\n\x00"
    (tmp_path / "big.bin").write_bytes(big)
    (tmp_path / "small.bin").write_bytes(small)
    kcat(["-P", "-b", b.bootstrap, "-t", topic, "-p", "1", "-k", "fixed\x01key", "-H", "kind=file",
          "-X", "message.max.bytes=1000000",
          str(tmp_path / "big.bin"), str(tmp_path / "small.bin")])

    got0 = consume(b.bootstrap, topic, 0)
    assert len(got0) == len(msgs), "partition 0: consumed %d, produced %d" % (len(got0), len(msgs))
    for i, ((k, v), rec) in enumerate(zip(msgs, got0)):
        assert rec["offset"] == i and rec["partition"] == 0
        assert rec["key"] == k, "offset %d: key %r != %r" % (i, rec["key"], k)
        assert rec["value"] == v, "offset %d: value differs (len %d vs %d)" % (i, len(rec["value"] or b""), len(v))
        assert rec["headers"] == b"kind=binary"

    got1 = consume(b.bootstrap, topic, 1)
    assert [r["offset"] for r in got1] == [0, 1], got1
    assert got1[0]["key"] == b"fixed\x01key" and got1[1]["key"] == b"fixed\x01key"
    assert got1[0]["value"] == big, "300 KB binary value differs (got %d bytes)" % len(got1[0]["value"] or b"")
    assert got1[1]["value"] == small
    assert got1[0]["headers"] == b"kind=file"
