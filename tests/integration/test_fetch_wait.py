"""Long-polling fetches on a broker with two shards, on raw sockets.

A fetch parked at the log end of partitions that both shards own must answer as soon as any of
them gets data, with every partition's high watermark, and at max_wait_ms when none does. From the
second fetch on, a shard parks on the other shard's partitions from their published log ends,
without asking (broker/published_offsets.h): each test runs enough fetches to go through both the
asking and the published path, and the owner's recheck when the log moved in between."""

import time

from confluent_kafka.admin import AdminClient, NewTopic

import kafka_wire as w

TOPIC = "fetch-wait"
PARTITIONS = 8  # spread over both shards


class Clients:
    def __init__(self, b):
        self.producer = w.Conn(b.port)
        self.consumer = w.Conn(b.port)
        self.corr = 0

    def next_corr(self):
        self.corr += 1
        return self.corr

    def produce(self, partition, value):
        corr = self.next_corr()
        self.producer.send(w.produce_v3_request(corr, TOPIC, partition,
                                                w.record_batch([(None, value, ())]), acks=1))
        r = self.producer.recv_response(15)
        assert r is not None and r[0] == corr, "Produce (corr %d): no answer" % corr
        res = w.parse_or_fail(w.parse_produce_v3, r[1], "Produce v3 response")
        assert res[(TOPIC, partition)][0] == 0, res

    def send_fetch(self, ends, max_wait_ms):
        corr = self.next_corr()
        positions = [(TOPIC, p, ends[p]) for p in range(PARTITIONS)]
        self.consumer.send(w.fetch_v4_request(corr, positions, max_wait_ms))
        return corr

    def fetch_answer(self, corr, timeout):
        r = self.consumer.recv_response(timeout)
        assert r is not None, "the broker closed the fetching connection"
        assert r[0] == corr, (r[0], corr)
        return w.parse_or_fail(w.parse_fetch_v4, r[1], "Fetch v4 response")

    def close(self):
        self.producer.close()
        self.consumer.close()


def seeded(broker):
    b = broker(smp=2)
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    created = admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)],
                                  operation_timeout=10)
    created[TOPIC].result(timeout=15)
    c = Clients(b)
    for p in range(PARTITIONS):
        c.produce(p, b"seed")
    return b, c, [1] * PARTITIONS


def assert_answer(res, ends, target, value):
    for p in range(PARTITIONS):
        err, high_watermark, records = res[(TOPIC, p)]
        assert err == 0, (p, err)
        assert high_watermark == ends[p], "partition %d: high watermark %d, log end %d" % (
            p, high_watermark, ends[p])
        if p == target:
            assert value in records, "partition %d: the new record is missing" % p
        else:
            assert records == b"", "partition %d: records at its log end" % p


def test_parked_fetch_wakes_on_either_shard(broker):
    b, c, ends = seeded(broker)
    try:
        for round_ in range(2):
            for target in range(PARTITIONS):
                corr = c.send_fetch(ends, max_wait_ms=20000)
                assert c.consumer.outcome(timeout=0.2) == "timeout", "answered with nothing to read"
                value = b"round %d partition %d" % (round_, target)
                c.produce(target, value)
                ends[target] += 1
                # Woken by the append: an answer at max_wait_ms (20 s) would come too late here.
                assert_answer(c.fetch_answer(corr, timeout=10), ends, target, value)
    finally:
        c.close()


def test_append_racing_the_park_is_not_missed(broker):
    # The produce goes out just before the fetch, on another connection (so on the other shard):
    # the append often lands after the fetch's shard read the published log end but before the
    # fetch parks on the owner, which must then see the new end itself and wake the fetch.
    b, c, ends = seeded(broker)
    try:
        for i in range(200):
            target = i % PARTITIONS
            value = b"race %d" % i
            produce_corr = c.next_corr()
            c.producer.send(w.produce_v3_request(produce_corr, TOPIC, target,
                                                 w.record_batch([(None, value, ())]), acks=1))
            corr = c.send_fetch(ends, max_wait_ms=20000)
            ends[target] += 1
            assert_answer(c.fetch_answer(corr, timeout=10), ends, target, value)
            r = c.producer.recv_response(15)
            assert r is not None and r[0] == produce_corr
    finally:
        c.close()


def test_fetch_behind_the_published_end_answers_at_once(broker):
    b, c, ends = seeded(broker)
    try:
        corr = c.send_fetch(ends, max_wait_ms=300)  # learns the other shard's partitions
        c.fetch_answer(corr, timeout=10)
        corr = c.send_fetch([0] * PARTITIONS, max_wait_ms=20000)
        res = c.fetch_answer(corr, timeout=10)
        for p in range(PARTITIONS):
            err, high_watermark, records = res[(TOPIC, p)]
            assert (err, high_watermark) == (0, 1) and b"seed" in records, (p, res[(TOPIC, p)])
    finally:
        c.close()


def test_nothing_arrives_answers_at_max_wait_with_high_watermarks(broker):
    b, c, ends = seeded(broker)
    try:
        for _ in range(3):  # the first asks the owners, the others park from published ends
            started = time.monotonic()
            corr = c.send_fetch(ends, max_wait_ms=300)
            res = c.fetch_answer(corr, timeout=10)
            waited = time.monotonic() - started
            assert waited >= 0.29, "answered after %.3f s, before max_wait_ms" % waited
            assert_answer(res, ends, None, None)
    finally:
        c.close()


def test_parked_fetch_on_a_deleted_topic_answers_unknown_partition(broker):
    b, c, ends = seeded(broker)
    try:
        corr = c.send_fetch(ends, max_wait_ms=300)
        c.fetch_answer(corr, timeout=10)
        corr = c.send_fetch(ends, max_wait_ms=20000)
        assert c.consumer.outcome(timeout=0.2) == "timeout"
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.delete_topics([TOPIC], operation_timeout=10)[TOPIC].result(timeout=15)
        # Woken by the first owner that deletes its partitions (not at max_wait_ms); the other
        # shard's may still be there when the fetch reads again.
        res = c.fetch_answer(corr, timeout=10)
        errors = [res[(TOPIC, p)][0] for p in range(PARTITIONS)]
        assert w.UNKNOWN_TOPIC_OR_PARTITION in errors, res
        for p in range(PARTITIONS):
            assert res[(TOPIC, p)] in ((w.UNKNOWN_TOPIC_OR_PARTITION, -1, b""), (0, 1, b"")), (p, res)
        res = c.fetch_answer(c.send_fetch(ends, max_wait_ms=20000), timeout=10)
        for p in range(PARTITIONS):
            assert res[(TOPIC, p)][0] == w.UNKNOWN_TOPIC_OR_PARTITION, (p, res[(TOPIC, p)])
    finally:
        c.close()
    b.assert_healthy()
