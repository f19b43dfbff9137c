"""confluent-kafka (librdkafka 2.0.2): bulk acks=all produce over 8 partitions and a
full read-back, every compression codec, timestamps/offsets_for_times, watermarks
and topic creation through the AdminClient."""

import time

import pytest
from confluent_kafka import (OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME, Consumer, KafkaError, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

from clients import consume_all, consumer_config, message_count, producer_config, wait_for_topic

BULK_PARTITIONS = 8
BULK_DEADLINE_S = 1200


def _value(i):
    return b"%010d|bulk-payload" % i


def _flush_all(producer, deadline, what):
    while len(producer) > 0:
        if time.monotonic() > deadline:
            raise AssertionError("%s: %d messages still undelivered at the deadline" % (what, len(producer)))
        producer.flush(1.0)


@pytest.mark.slow
def test_bulk_produce_acks_all_then_read_everything(broker):
    n = message_count()
    b = broker(num_partitions=BULK_PARTITIONS)
    topic = "bulk"
    wait_for_topic(b.bootstrap, topic, BULK_PARTITIONS)
    deadline = time.monotonic() + BULK_DEADLINE_S

    # delivered[p][offset] = message index, from the delivery reports.
    delivered = [dict() for _ in range(BULK_PARTITIONS)]
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            if len(errors) < 20:
                errors.append((err, msg.partition()))
            return
        i = int(msg.value()[:10])
        prev = delivered[msg.partition()].setdefault(msg.offset(), i)
        if prev != i:
            errors.append(("offset %d of partition %d acknowledged twice (messages %d and %d)"
                           % (msg.offset(), msg.partition(), prev, i), msg.partition()))

    p = Producer(producer_config(b.bootstrap, **{
        "linger.ms": 5,
        "batch.num.messages": 10000,
        "queue.buffering.max.messages": 2_000_000,
        "queue.buffering.max.kbytes": 1_048_576,
        "message.timeout.ms": 300_000,
    }))
    for i in range(n):
        while True:
            try:
                p.produce(topic, value=_value(i), partition=i % BULK_PARTITIONS, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
                assert time.monotonic() < deadline, "producer queue never drained (at message %d)" % i
        if i % 10000 == 0:
            p.poll(0)
    _flush_all(p, deadline, "bulk produce")

    assert not errors, "delivery errors (first ones): %r" % errors[:20]
    counts = [len(d) for d in delivered]
    assert sum(counts) == n, "%d delivery reports for %d messages" % (sum(counts), n)
    for part, d in enumerate(delivered):
        assert sorted(d) == list(range(len(d))), (
            "partition %d: acknowledged offsets are not dense from 0 (min %s max %s count %d)"
            % (part, min(d, default=None), max(d, default=None), len(d)))

    # Watermarks match what was acknowledged.
    c = Consumer(consumer_config(b.bootstrap, **{"fetch.max.bytes": 52_428_800,
                                                   "max.partition.fetch.bytes": 4_194_304}))
    try:
        for part in range(BULK_PARTITIONS):
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, part), timeout=10, cached=False)
            assert (lo, hi) == (0, counts[part]), "partition %d watermarks (%d, %d), expected (0, %d)" % (
                part, lo, hi, counts[part])

        c.assign([TopicPartition(topic, part, OFFSET_BEGINNING) for part in range(BULK_PARTITIONS)])
        nxt = [0] * BULK_PARTITIONS
        seen = bytearray(n)
        while nxt != counts:
            assert time.monotonic() < deadline, "read-back timed out; next offsets %r, expected %r" % (nxt, counts)
            for m in c.consume(num_messages=10000, timeout=1.0):
                if m.error():
                    assert m.error().code() == KafkaError._PARTITION_EOF, "consumer error: %s" % m.error()
                    continue
                part, off = m.partition(), m.offset()
                assert off == nxt[part], "partition %d: got offset %d, expected %d (offsets must be dense and in order)" % (
                    part, off, nxt[part])
                i = delivered[part][off]
                assert m.value() == _value(i), "partition %d offset %d: value %r, expected %r" % (
                    part, off, m.value(), _value(i))
                assert not seen[i], "message %d read twice" % i
                seen[i] = 1
                nxt[part] = off + 1
        assert seen.count(1) == n, "read %d distinct messages of %d" % (seen.count(1), n)
    finally:
        c.close()


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compression_roundtrip(broker, codec):
    b = broker(num_partitions=2)
    topic = "codec-" + codec
    wait_for_topic(b.bootstrap, topic, 2)
    n = 1000
    expected = {0: [], 1: []}
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)

    p = Producer(producer_config(b.bootstrap, **{"compression.type": codec, "linger.ms": 20}))
    for i in range(n):
        part = i % 2
        key = b"key-%d" % i
        # Compressible, but not trivially: repeated text with a varying part.
        value = (b"%s message %06d " % (codec.encode(), i)) * (1 + i % 17) + bytes([i % 256]) * (i % 50)
        headers = [("i", str(i).encode()), ("codec", codec.encode())]
        p.produce(topic, key=key, value=value, partition=part, headers=headers, on_delivery=on_delivery)
        expected[part].append((key, value, headers))
    _flush_all(p, time.monotonic() + 60, codec)
    assert not errors, "%s: delivery errors %r" % (codec, errors[:10])

    got = consume_all(b.bootstrap, topic, [0, 1])
    for part in (0, 1):
        msgs = got[part]
        assert [m.offset() for m in msgs] == list(range(len(expected[part]))), (
            "%s partition %d: offsets %r..." % (codec, part, [m.offset() for m in msgs][:20]))
        for m, (key, value, headers) in zip(msgs, expected[part]):
            assert m.key() == key, "%s p%d o%d key" % (codec, part, m.offset())
            assert m.value() == value, "%s p%d o%d value" % (codec, part, m.offset())
            assert m.headers() == headers, "%s p%d o%d headers %r" % (codec, part, m.offset(), m.headers())


def test_timestamps_offsets_for_times_and_watermarks(broker):
    b = broker(num_partitions=1)
    topic = "times"
    wait_for_topic(b.bootstrap, topic, 1)
    n = 300
    base = int(time.time() * 1000) - 3_600_000  # an hour ago, 1 s apart
    stamps = [base + 1000 * i for i in range(n)]
    acked = {}

    def on_delivery(err, msg):
        assert err is None, err
        acked[msg.offset()] = msg.timestamp()

    p = Producer(producer_config(b.bootstrap, **{"linger.ms": 50}))
    # Several batches of varying size so the lookup has to search inside batches.
    i = 0
    for chunk in (1, 7, 50, 100, 42, 100):
        for _ in range(chunk):
            p.produce(topic, value=b"t%d" % i, partition=0, timestamp=stamps[i], on_delivery=on_delivery)
            i += 1
        _flush_all(p, time.monotonic() + 30, "timestamps")
    assert i == n and sorted(acked) == list(range(n)), "acknowledged offsets %r" % sorted(acked)[:20]

    c = Consumer(consumer_config(b.bootstrap))
    try:
        tp = TopicPartition(topic, 0)
        assert c.get_watermark_offsets(tp, timeout=10, cached=False) == (0, n)

        def lookup(ts):
            (res,) = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)
            assert res.error is None, "offsets_for_times(%d): %s" % (ts, res.error)
            return res.offset

        assert lookup(base - 10_000) == 0, "timestamp before everything -> first offset"
        for k in (0, 1, 7, 8, 57, 58, 157, 158, 199, 200, n - 1):
            assert lookup(stamps[k]) == k, "exact timestamp of offset %d -> %d" % (k, lookup(stamps[k]))
            assert lookup(stamps[k] - 1) == k, "just before offset %d's timestamp -> %d" % (k, lookup(stamps[k] - 1))
            if k < n - 1:
                assert lookup(stamps[k] + 1) == k + 1, "just after offset %d's timestamp" % k
        assert lookup(stamps[-1] + 1) == -1, "timestamp after everything -> -1 (end)"

        # The stored create-time timestamps come back unchanged.
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        got = []
        deadline = time.monotonic() + 30
        while len(got) < n and time.monotonic() < deadline:
            for m in c.consume(num_messages=1000, timeout=0.5):
                assert not m.error(), m.error()
                got.append((m.offset(), m.timestamp()))
        assert got == [(k, (TIMESTAMP_CREATE_TIME, stamps[k])) for k in range(n)]
    finally:
        c.close()


def test_admin_create_topic_with_partitions(broker):
    b = broker(num_partitions=1)
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    futures = admin.create_topics([NewTopic("admin-created", num_partitions=5, replication_factor=1)],
                                  operation_timeout=10)
    futures["admin-created"].result(timeout=30)  # raises on error
    md = admin.list_topics(timeout=10)
    assert "admin-created" in md.topics, sorted(md.topics)
    assert sorted(md.topics["admin-created"].partitions) == [0, 1, 2, 3, 4]

    again = admin.create_topics([NewTopic("admin-created", num_partitions=5, replication_factor=1)])
    with pytest.raises(Exception) as exc:
        again["admin-created"].result(timeout=30)
    assert exc.value.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS, exc.value
