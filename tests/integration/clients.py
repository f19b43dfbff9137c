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
