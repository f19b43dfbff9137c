"""Log compaction (cleanup.policy=compact).

- Many updates over a small key set plus tombstones into a compacted topic with 16 KiB segments:
  once the cleaner has run, a full read has strictly increasing offsets, the latest value of every
  live key equal to the model's, no trace of deleted keys after delete.retention.ms, far fewer
  records than produced and a much smaller partition directory; the same records come back after
  a SIGTERM restart and after a SIGKILL restart; once the cleaner has settled no key appears twice
  below the active segment. (While compaction is still in progress the invariants that must always
  hold are checked on every read: increasing offsets, the latest value of each key intact, a
  deleted key's last record a tombstone.)
- A record with a null key sent to a compacted topic is refused with INVALID_RECORD (87).
- __consumer_offsets is compacted too: thousands of commits of the same keys leave it small, and
  the latest commits survive a restart.
"""

import bisect
import collections
import pathlib
import signal
import time

from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

import kafka_wire as w
from clients import (consume_all, produce_keyed, producer_config, quick, wait_for_topic, watermarks,
                     broker_help_has)

CLEANER_ARGS = ("--log-cleaner-backoff-ms", "200")
DELETE_RETENTION_MS = 2000
COMPACT_CONFIG = {"cleanup.policy": "compact", "segment.bytes": "16384",
                  "delete.retention.ms": str(DELETE_RETENTION_MS), "min.cleanable.dirty.ratio": "0.01"}
KEYS = 40
DELETED = range(10)   # keys 0..9 get tombstones
LIVE = range(10, KEYS)


def create_topic(b, name, config, partitions=1):
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    fut = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1, config=config)],
                              operation_timeout=10)
    fut[name].result(timeout=30)
    wait_for_topic(b.bootstrap, name, partitions)


def dir_bytes(path):
    """Bytes of the partition's segment files (*.log; indexes may be preallocated)."""
    path = pathlib.Path(path)
    return sum(f.stat().st_size for f in path.glob("*.log") if f.is_file()) if path.is_dir() else 0


def key(k):
    return b"key-%03d" % k


def read_all(b, topic):
    msgs = consume_all(b.bootstrap, topic, [0], timeout=60)[0]
    return [(m.offset(), m.key(), m.value()) for m in msgs]


def check_invariants(records, model, what):
    """What must hold at any moment: increasing offsets, every key's last record is the model's
    latest (a tombstone for deleted keys)."""
    offs = [o for o, _, _ in records]
    assert all(a < b for a, b in zip(offs, offs[1:])), "%s: offsets not strictly increasing" % what
    last = {}
    for _, k, v in records:
        last[k] = v
    for k, v in model.items():
        if v is not None:
            assert last.get(k) == v, "%s: key %r last value %r, expected %r" % (what, k, last.get(k), v)
        elif k in last:
            assert last[k] is None, "%s: deleted key %r ends with value %r" % (what, k, last[k])


def anchors(records, part_dir):
    """Offsets of records that are the only record of their segment, and of the tombstones of keys
    such a record holds a value of. Segment boundaries never move, so an emptied segment keeps one
    record; the cleaner picks one whose key is live, but a segment emptied before its key was
    deleted holds just that key's older value, and then the tombstone hiding it must stay too
    (docs/compaction.md). Kafka merges such segments instead."""
    bases = sorted(int(f.name.split(".")[0]) for f in pathlib.Path(part_dir).glob("*.log"))
    seg = [bisect.bisect_right(bases, o) for o, _, _ in records]
    count = collections.Counter(seg)
    single = {o for (o, _, _), s in zip(records, seg) if count[s] == 1 and s < len(bases)}
    pinned = {k for o, k, v in records if o in single and v is not None}
    return single | {o for o, k, v in records if v is None and k in pinned}


def compacted_enough(records, model, produced, part_dir):
    kept = anchors(records, part_dir)
    deleted_present = [k for o, k, _ in records if model.get(k, b"") is None and o not in kept]
    return not deleted_present and len(records) * 5 < produced


def test_compaction_keeps_latest_values_and_drops_tombstones(broker):
    b = broker(num_partitions=1, extra_args=CLEANER_ARGS)
    topic = "compacted"
    create_topic(b, topic, COMPACT_CONFIG)
    updates = 4000 if quick() else 20000
    model = {}
    produced = 0
    conf = {"batch.size": 4096, "linger.ms": 2}

    def produce(items):
        nonlocal produced
        produce_keyed(b.bootstrap, topic, items, **conf)
        for k, v in items:
            model[k] = v
        produced += len(items)

    produce([(key(i % KEYS), b"v%06d-" % i + b"x" * 60) for i in range(updates)])
    produce([(key(k), None) for k in DELETED])
    seq = [updates]

    def filler(n):
        items = [(key(LIVE[(seq[0] + j) % len(LIVE)]), b"f%06d-" % (seq[0] + j) + b"y" * 60) for j in range(n)]
        seq[0] += n
        produce(items)

    filler(600)   # the tombstones leave the active segment
    part_dir = b.data_dir / (topic + "-0")
    deadline = time.monotonic() + 90
    rounds = 0
    while True:
        rounds += 1
        records = read_all(b, topic)
        check_invariants(records, model, "read %d" % rounds)
        if compacted_enough(records, model, produced, part_dir):
            break
        assert time.monotonic() < deadline, (
            "compaction not done in 90 s: %d records of %d produced, dir %d bytes; records of deleted keys still "
            "there (offset, key, tombstone?): %r" % (
                len(records), produced, dir_bytes(part_dir),
                [(o, k, v is None) for o, k, v in records
                 if model.get(k, b"") is None and o not in anchors(records, part_dir)][:20]))
        time.sleep(1.0)
        filler(100)   # new dirty data keeps the cleaner going past the tombstones' delete horizon
    produced_bytes = produced * 75
    assert dir_bytes(part_dir) * 3 < produced_bytes, "partition dir %d bytes after compaction, produced ~%d" % (
        dir_bytes(part_dir), produced_bytes)
    last = {k: v for _, k, v in records}
    live_keys = {k for k, v in last.items() if v is not None}
    assert live_keys == {key(k) for k in LIVE}, "keys present: %r" % sorted(live_keys)
    # Let the cleaner finish with the last filler: two reads 2.5 s apart (many backoff periods) agree.
    deadline = time.monotonic() + 30
    while True:
        time.sleep(2.5)
        again = read_all(b, topic)
        check_invariants(again, model, "settling")
        if again == records:
            break
        assert time.monotonic() < deadline, "the compacted log keeps changing without new data"
        records = again
    final = records
    # Below the active segment everything has been cleaned: one record per key at most, but for
    # the single record an emptied segment keeps (and a tombstone it needs), see anchors().
    active_base = max(int(f.name.split(".")[0]) for f in part_dir.glob("*.log"))
    kept = anchors(final, part_dir)
    below = [k for o, k, _ in final if o < active_base and o not in kept]
    repeated = sorted({k for k in below if below.count(k) > 1})
    assert not repeated, ("keys with superseded records still below the active segment (base %d): %r; "
                          "%d segment files" % (active_base, repeated[:10], len(list(part_dir.glob("*.log")))))
    hw = watermarks(b.bootstrap, topic, [0])[0][1]
    assert final[-1][0] == hw - 1, "the last offset %d must stay (high watermark %d)" % (final[-1][0], hw)

    b.stop(signal.SIGTERM)
    b.restart()
    assert read_all(b, topic) == final, "compacted log differs after a SIGTERM restart"
    b.kill()
    b.restart()
    assert read_all(b, topic) == final, "compacted log differs after a SIGKILL restart"
    b.assert_healthy("compaction")


def test_null_key_to_compacted_topic_is_invalid_record(broker):
    b = broker(num_partitions=1, extra_args=CLEANER_ARGS)
    create_topic(b, "compacted-nokey", COMPACT_CONFIG)
    reports = []
    p = Producer(producer_config(b.bootstrap, **{"linger.ms": 0, "retries": 0}))
    p.produce("compacted-nokey", key=None, value=b"no key", on_delivery=lambda err, msg: reports.append(err))
    assert p.flush(30) == 0
    assert len(reports) == 1 and reports[0] is not None, "null key accepted on a compacted topic: %r" % reports
    assert reports[0].code() == KafkaError.INVALID_RECORD, "error %s, expected INVALID_RECORD (87)" % reports[0]
    assert watermarks(b.bootstrap, "compacted-nokey", [0])[0] == (0, 0), "the null-key record was appended"
    # Keyed records are fine, and a delete-policy topic still takes null keys.
    produce_keyed(b.bootstrap, "compacted-nokey", [(b"k", b"v")])
    produce_keyed(b.bootstrap, "plain-topic", [(None, b"v")])
    b.assert_healthy("null key")


def test_consumer_offsets_topic_stays_compact(broker):
    extra = list(CLEANER_ARGS) + ["--offsets-topic-num-partitions", "1",
                                  "--group-initial-rebalance-delay-ms", "0"]
    # Small segments so the cleaner has closed segments to work on.
    if broker_help_has("--offsets-topic-segment-bytes"):
        extra += ["--offsets-topic-segment-bytes", "16384"]
    else:
        extra += ["--log-segment-bytes", "16384"]
    b = broker(num_partitions=8, extra_args=extra)
    wait_for_topic(b.bootstrap, "oc", 8)
    # The topic exists once a group committed; then ask for small segments the Kafka way too (a
    # broker without per-topic overrides for it may refuse; the flags above then decide). AlterConfigs
    # replaces the whole set, hence cleanup.policy too.
    with w.Client(b.port) as c:
        assert c.commit("oc-group-0", {"oc": [(0, 0, "")]}) == {("oc", 0): 0}
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        res = ConfigResource(ConfigResource.Type.TOPIC, "__consumer_offsets", set_config={"segment.bytes": "16384",
                                                                                  "cleanup.policy": "compact"})
        admin.alter_configs([res])[res].result(timeout=10)
    except Exception:  # noqa: BLE001 - optional, see above
        pass
    rounds = 600 if quick() else 3000
    meta = "m" * 100
    bodies = [w.offset_commit_body("oc-group-%d" % (i % 4), {"oc": [(p, i, meta) for p in range(8)]})
              for i in range(rounds)]
    for body in w.pipelined_calls(b.port, w.OFFSET_COMMIT, 2, bodies, timeout=180):
        res = w.parse_offset_commit(body, 2)
        assert set(res.values()) == {0}, res
    written = rounds * 8 * 150
    odir = b.data_dir / "__consumer_offsets-0"
    assert odir.is_dir(), "no %s (data dir: %r)" % (odir, sorted(p.name for p in b.data_dir.iterdir()))
    deadline = time.monotonic() + 60
    while dir_bytes(odir) * 4 > written:
        assert time.monotonic() < deadline, (
            "__consumer_offsets-0 still %d bytes after 60 s (~%d written) in segments %r (a single segment never "
            "gets compacted: __consumer_offsets needs small segments here, e.g. --offsets-topic-segment-bytes)"
            % (dir_bytes(odir), written, sorted(f.name for f in odir.glob("*.log"))[:10]))
        time.sleep(0.5)
    expected = {}
    for i in range(rounds - 4, rounds):
        expected["oc-group-%d" % (i % 4)] = i
    for sig_restart in ("term", "kill"):
        if sig_restart == "term":
            b.stop(signal.SIGTERM)
        else:
            b.kill()
        b.restart()
        with w.Client(b.port) as c:
            for g, off in expected.items():
                top, res = c.fetch_offsets(g, {"oc": list(range(8))})
                assert res == {("oc", p): (off, meta, 0) for p in range(8)}, "%s after %s restart: %r" % (
                    g, sig_restart, res)
    b.assert_healthy("__consumer_offsets compaction")
