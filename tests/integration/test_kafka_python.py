"""kafka-python 2.0.2 against the broker: version auto-detection, produce/flush,
a group-less consumer with assign + seek_to_beginning, and the admin client
(create with error cases, list, delete)."""

import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import InvalidPartitionsError, InvalidTopicError, TopicAlreadyExistsError


def test_producer_and_groupless_consumer(broker):
    b = broker(num_partitions=2)
    topic = "kp-roundtrip"
    n = 500

    producer = KafkaProducer(bootstrap_servers=b.bootstrap, acks="all", linger_ms=5,
                             request_timeout_ms=30000, max_block_ms=30000)
    try:
        # Version auto-detection ran against our ApiVersions; it must have found a modern broker.
        assert producer.config["api_version"] >= (0, 11), producer.config["api_version"]
        futures = []
        for i in range(n):
            futures.append(producer.send(topic, key=b"k%d" % i, value=b"value-%d" % i, partition=i % 2,
                                         headers=[("idx", str(i).encode())]))
        producer.flush(timeout=60)
        metas = [f.get(timeout=30) for f in futures]
    finally:
        producer.close(timeout=10)

    per_part = {0: [], 1: []}
    for i, md in enumerate(metas):
        assert md.topic == topic and md.partition == i % 2
        per_part[md.partition].append((md.offset, i))
    for part, lst in per_part.items():
        assert [o for o, _ in lst] == list(range(len(lst))), "partition %d offsets %r" % (part, lst[:10])

    consumer = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None, enable_auto_commit=False,
                             consumer_timeout_ms=2000, request_timeout_ms=30000)
    try:
        tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        assert consumer.end_offsets(tps) == {tps[0]: n // 2, tps[1]: n // 2}
        got = []
        deadline = time.monotonic() + 60
        while len(got) < n and time.monotonic() < deadline:
            for recs in consumer.poll(timeout_ms=500, max_records=1000).values():
                got.extend(recs)
    finally:
        consumer.close()

    assert len(got) == n, "consumed %d of %d" % (len(got), n)
    expected = {(i % 2, off): i for part, lst in per_part.items() for off, i in lst}
    seen = set()
    for r in got:
        i = expected[(r.partition, r.offset)]
        assert r.key == b"k%d" % i and r.value == b"value-%d" % i, (r.partition, r.offset, r.key, r.value)
        assert list(r.headers) == [("idx", str(i).encode())], r.headers
        seen.add(i)
    assert seen == set(range(n))


def _wait_topics(admin, present=(), absent=(), timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        topics = set(admin.list_topics())
        if set(present) <= topics and not (set(absent) & topics):
            return topics
        if time.monotonic() > deadline:
            raise AssertionError("list_topics() = %r; wanted present %r absent %r" % (
                sorted(topics), sorted(present), sorted(absent)))
        time.sleep(0.2)


def test_admin_create_list_delete(broker):
    b = broker(num_partitions=1)
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=30000)
    try:
        admin.create_topics([NewTopic("kp-admin-a", num_partitions=3, replication_factor=1),
                             NewTopic("kp-admin-b", num_partitions=1, replication_factor=1)],
                            timeout_ms=10000)
        _wait_topics(admin, present=["kp-admin-a", "kp-admin-b"])

        # Partition count is what was asked for.
        consumer = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None)
        try:
            assert consumer.partitions_for_topic("kp-admin-a") == {0, 1, 2}
        finally:
            consumer.close()

        with pytest.raises(TopicAlreadyExistsError):
            admin.create_topics([NewTopic("kp-admin-a", num_partitions=3, replication_factor=1)], timeout_ms=10000)
        for bad in ("bad topic name!", "..", "x" * 250):
            with pytest.raises(InvalidTopicError):
                admin.create_topics([NewTopic(bad, num_partitions=1, replication_factor=1)], timeout_ms=10000)
        with pytest.raises(InvalidPartitionsError):
            admin.create_topics([NewTopic("kp-admin-zero", num_partitions=0, replication_factor=1)], timeout_ms=10000)

        topics = _wait_topics(admin, present=["kp-admin-a", "kp-admin-b"])
        assert not {"..", "bad topic name!", "x" * 250, "kp-admin-zero"} & topics, sorted(topics)

        admin.delete_topics(["kp-admin-a"], timeout_ms=10000)
        _wait_topics(admin, present=["kp-admin-b"], absent=["kp-admin-a"])
    finally:
        admin.close()
