"""Shared confluent-kafka helpers for the integration tests."""

import os
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition


def message_count():
    """MS_IT_MESSAGES wins; MS_IT_QUICK means 200k; otherwise 1M."""
    if os.environ.get("MS_IT_MESSAGES"):
        return int(os.environ["MS_IT_MESSAGES"])
    if os.environ.get("MS_IT_QUICK"):
        return 200_000
    return 1_000_000


def producer_config(bootstrap, **extra):
    conf = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "enable.idempotence": False,
        "linger.ms": 5,
        "message.timeout.ms": 60000,
    }
    conf.update(extra)
    return conf


def consumer_config(bootstrap, **extra):
    # group.id is required to construct a Consumer; the tests never subscribe or
    # commit (the broker has no group coordinator yet), they assign() partitions.
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": "ms-it-assign-only",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
        "fetch.wait.max.ms": 100,
    }
    conf.update(extra)
    return conf


def wait_for_topic(bootstrap, topic, partitions, timeout=20.0):
    """Metadata for `topic` (auto-creating it) until it has `partitions` partitions
    with a leader and no errors. Returns the TopicMetadata."""
    p = Producer({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + timeout
    last = None
    try:
        while time.monotonic() < deadline:
            try:
                md = p.list_topics(topic, timeout=5)
            except Exception as e:  # noqa: BLE001
                last = repr(e)
                time.sleep(0.2)
                continue
            t = md.topics.get(topic)
            if t is not None and t.error is None and len(t.partitions) == partitions and all(
                    pm.error is None and pm.leader >= 0 for pm in t.partitions.values()):
                return t
            last = ("topic %r: error=%s partitions=%s" % (
                topic, t and t.error, t and {k: (v.leader, v.error) for k, v in t.partitions.items()}))
            time.sleep(0.2)
    finally:
        del p  # destroy the client now, not when a failure traceback is released
    raise AssertionError("topic %r never reached %d healthy partitions within %.0f s; last metadata: %s"
                         % (topic, partitions, timeout, last))


def watermarks(bootstrap, topic, partitions, timeout=10.0):
    c = Consumer(consumer_config(bootstrap))
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout, cached=False)
                for p in partitions}
    finally:
        c.close()


def consume_all(bootstrap, topic, partitions, timeout=60.0, **conf):
    """Read every partition from the beginning up to its high watermark (queried
    first). Returns {partition: [Message, ...]} in the order received; fails on
    consumer errors or if the end is not reached in time."""
    partitions = list(partitions)
    c = Consumer(consumer_config(bootstrap, **conf))
    try:
        high = {}
        for p in partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)
            high[p] = hi
        out = {p: [] for p in partitions}
        nxt = {p: 0 for p in partitions}
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        while any(nxt[p] < high[p] for p in partitions):
            if time.monotonic() > deadline:
                raise AssertionError("consume_all(%s): timed out; next offsets %r, high watermarks %r"
                                     % (topic, nxt, high))
            for m in c.consume(num_messages=10000, timeout=0.5):
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise AssertionError("consumer error on %s: %s" % (topic, m.error()))
                out[m.partition()].append(m)
                nxt[m.partition()] = m.offset() + 1
        return out
    finally:
        c.close()


# ---------------------------------------------------------------------------
# Consumer groups.

# Broker flags that make group tests fast: no initial rebalance delay, short sessions allowed.
FAST_GROUP_ARGS = ("--group-initial-rebalance-delay-ms", "0", "--group-min-session-timeout-ms", "1000")


def quick():
    return bool(os.environ.get("MS_IT_QUICK"))


def group_consumer_config(bootstrap, group, **extra):
    """A subscribing consumer: manual commits, short session so crash tests finish fast."""
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 300,
        "fetch.wait.max.ms": 100,
        "enable.partition.eof": False,
    }
    conf.update(extra)
    return conf


def produce_keyed(bootstrap, topic, items, timeout=120.0, **conf):
    """Produce [(key, value)] with acks=all; returns {(partition, offset): (key, value)} from the
    delivery reports. Fails on any delivery error or on an unflushed queue at the deadline."""
    acked = {}
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            acked[(msg.partition(), msg.offset())] = (msg.key(), msg.value())

    p = Producer(producer_config(bootstrap, **conf))
    deadline = time.monotonic() + timeout
    for n, (k, v) in enumerate(items):
        while True:
            try:
                p.produce(topic, key=k, value=v, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
                assert time.monotonic() < deadline, "producer queue never drained"
        if n % 5000 == 0:
            p.poll(0)
    while len(p) > 0:
        assert time.monotonic() < deadline, "%d messages undelivered at the deadline" % len(p)
        p.flush(1.0)
    assert not errors, "delivery errors: %r" % errors[:10]
    return acked


def wait_until(pred, timeout, what, interval=0.1):
    """Poll pred() (returning a truthy value when done) until it holds; fail naming `what` and the
    last value of pred when it does not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last and last is not None:
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s (last: %r)" % (timeout, what, last))
        time.sleep(interval)


def healthy_group_roundtrip(bootstrap, topic, group, n=20, timeout=30.0):
    """A well-behaved librdkafka group consumer in a fresh group: subscribe, read `n` fresh
    messages produced to `topic`, commit synchronously, and see the commit via committed().
    Fails on any error or when it does not finish within `timeout`."""
    acked = produce_keyed(bootstrap, topic, [(b"h%d" % i, b"healthy-%d" % i) for i in range(n)])
    want = set(acked)
    c = Consumer(group_consumer_config(bootstrap, group))
    try:
        c.subscribe([topic])
        seen = set()
        deadline = time.monotonic() + timeout
        while not want <= seen:
            assert time.monotonic() < deadline, "healthy group %s: read %d of %d messages in %.0f s" % (
                group, len(want & seen), len(want), timeout)
            for m in c.consume(num_messages=1000, timeout=0.5):
                assert not m.error(), "healthy group %s: consumer error %s" % (group, m.error())
                seen.add((m.partition(), m.offset()))
        c.commit(asynchronous=False)
        parts = sorted({p for p, _ in want})
        ends = {p: max(o for q, o in want if q == p) + 1 for p in parts}
        got = c.committed([TopicPartition(topic, p) for p in parts], timeout=10)
        for tp in got:
            assert tp.error is None and tp.offset >= ends[tp.partition], (
                "healthy group %s: committed %s, expected at least %d" % (group, tp, ends[tp.partition]))
    finally:
        c.close()


_HELP_TEXT = []


def broker_help_has(flag):
    """Whether `memorystreamer serve --help` lists `flag` (for settings that may not exist yet)."""
    import pathlib
    import subprocess
    if not _HELP_TEXT:
        binary = os.environ.get("MEMORYSTREAMER_BIN") or str(
            pathlib.Path(__file__).resolve().parents[2] / "build" / "release" / "src" / "cli" / "memorystreamer")
        try:
            _HELP_TEXT.append(subprocess.run([binary, "serve", "--help"], capture_output=True, timeout=30).stdout.decode())
        except (OSError, subprocess.TimeoutExpired):
            _HELP_TEXT.append("")
    return flag in _HELP_TEXT[0]
