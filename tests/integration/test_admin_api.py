"""Admin requests over Kafka: DescribeConfigs, AlterConfigs, IncrementalAlterConfigs,
CreatePartitions, DeleteRecords and DescribeCluster, through confluent-kafka's and kafka-python's
admin clients where they have them and raw wire otherwise. Dynamic topic configs take effect
without a restart and survive one."""

import pathlib
import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewPartitions, NewTopic

import kafka_wire as w
from clients import consumer_config, producer_config, wait_for_topic, wait_until, watermarks

INVALID_PARTITIONS = 37
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_CONFIG = 40
INVALID_REQUEST = 42
POLICY_VIOLATION = 44
OFFSET_OUT_OF_RANGE = 1


def _admin(b):
    # One client per broker start, kept alive: a destroyed client fails its pending futures.
    key = (b.bootstrap, b.starts)
    if getattr(b, "_admin_key", None) != key:
        b._admin_client = AdminClient({"bootstrap.servers": b.bootstrap})
        b._admin_key = key
    return b._admin_client


def _create(b, topic, partitions=1, config=None):
    fs = _admin(b).create_topics([NewTopic(topic, partitions, 1, config=config or {})], request_timeout=15)
    fs[topic].result(timeout=30)
    wait_for_topic(b.bootstrap, topic, partitions)


def _describe(b, topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return _admin(b).describe_configs([res], request_timeout=15)[res].result(timeout=30)


def _produce(b, topic, n, partition=0, size=200):
    """n messages in batches of at most 10 (flushed in between), so small segments roll often."""
    p = Producer(producer_config(b.bootstrap, **{"linger.ms": 0}))
    for i in range(n):
        p.produce(topic, value=b"%06d" % i + b"x" * size, partition=partition)
        if i % 10 == 9:
            assert p.flush(30) == 0, "messages left undelivered"
    assert p.flush(60) == 0, "messages left undelivered"


def _segment_files(b, topic, partition=0):
    d = pathlib.Path(b.data_dir) / ("%s-%d" % (topic, partition))
    return sorted(f.name for f in d.glob("*.log"))


def test_describe_configs_reports_values_sources_and_synonyms(broker):
    b = broker(extra_args=("--log-retention-ms", "3600000"))
    _create(b, "described", config={"retention.bytes": "1048576"})
    configs = _describe(b, "described")
    assert configs["retention.bytes"].value == "1048576"
    assert configs["retention.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert not configs["retention.bytes"].is_read_only
    # retention.ms comes from the broker setting given as a flag: static broker config.
    assert configs["retention.ms"].value == "3600000"
    assert configs["retention.ms"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert configs["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
    assert configs["segment.bytes"].value == "1073741824"
    assert configs["cleanup.policy"].value == "delete"
    # (Kafka lists log.retention.ms twice, static and default; this client keeps one per name.)
    assert "log.retention.ms" in configs["retention.ms"].synonyms, configs["retention.ms"].synonyms

    # Raw v1 with synonyms and a key filter, and the broker resource.
    err, _, raw = w.describe_configs_v1(b.port, w.RESOURCE_TOPIC, "described", keys=["retention.ms"])
    assert err == 0 and list(raw) == ["retention.ms"], raw
    value, read_only, source, sensitive, syn = raw["retention.ms"]
    assert (value, read_only, source, sensitive) == ("3600000", False, 4, False)
    assert ("log.retention.ms", "3600000", 4) in syn and ("log.retention.ms", "604800000", 5) in syn, syn
    err, _, broker_cfg = w.describe_configs_v1(b.port, w.RESOURCE_BROKER, "0")
    assert err == 0
    assert broker_cfg["log.retention.ms"][:3] == ("3600000", True, 4)
    assert broker_cfg["log.segment.bytes"][:3] == ("1073741824", True, 5)

    # Errors per resource: unknown topic, another broker's id, an unknown resource type.
    err, message, _ = w.describe_configs_v1(b.port, w.RESOURCE_TOPIC, "no-such-topic")
    assert err == w.UNKNOWN_TOPIC_OR_PARTITION and "no-such-topic" in message
    err, _, _ = w.describe_configs_v1(b.port, w.RESOURCE_BROKER, "7")
    assert err == INVALID_REQUEST
    err, _, _ = w.describe_configs_v1(b.port, 99, "x")
    assert err == INVALID_REQUEST

    # kafka-python's admin client (DescribeConfigs v0/v1) sees the same values.
    from kafka.admin import ConfigResource as KConfigResource, ConfigResourceType, KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=15000)
    try:
        [resp] = admin.describe_configs([KConfigResource(ConfigResourceType.TOPIC, "described")])
        [(error, _, _, _, entries)] = resp.resources
        assert error == 0
        values = {e[0]: e[1] for e in entries}
        assert values["retention.bytes"] == "1048576" and values["retention.ms"] == "3600000"
    finally:
        admin.close()
    b.assert_healthy("describe configs")


def test_alter_configs_take_effect_without_restart_and_survive_one(broker):
    # Retention runs every 10 minutes here: a shortened retention must act without waiting for it.
    b = broker(extra_args=("--log-retention-check-interval-ms", "600000"))
    topic = "shrinking"
    _create(b, topic, config={"segment.bytes": "4096"})
    _produce(b, topic, 300)
    segments_before = _segment_files(b, topic)
    assert len(segments_before) > 5, segments_before
    assert watermarks(b.bootstrap, topic, [0])[0] == (0, 300)

    res = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"segment.bytes": "4096", "retention.ms": "1"})
    _admin(b).alter_configs([res], request_timeout=15)[res].result(timeout=30)
    # Every segment's newest record is older than 1 ms: retention deletes them all at once.
    wait_until(lambda: watermarks(b.bootstrap, topic, [0])[0][0] == 300, 20, "log start to reach 300")
    assert len(_segment_files(b, topic)) == 1
    configs = _describe(b, topic)
    assert configs["retention.ms"].value == "1"
    assert configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value

    # AlterConfigs replaces the overrides: segment.bytes left out goes back to its default.
    res = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "86400000"})
    _admin(b).alter_configs([res], request_timeout=15)[res].result(timeout=30)
    configs = _describe(b, topic)
    assert configs["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
    assert configs["retention.ms"].value == "86400000"

    b.stop()
    b.restart()
    configs = _describe(b, topic)
    assert configs["retention.ms"].value == "86400000"
    assert configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert watermarks(b.bootstrap, topic, [0])[0] == (300, 300)

    # Bad values and unknown keys are refused, and nothing changes.
    for bad in ({"retention.ms": "soon"}, {"no.such.config": "1"}, {"cleanup.policy": "sometimes"}):
        res = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config=bad)
        with pytest.raises(Exception) as e:
            _admin(b).alter_configs([res], request_timeout=15)[res].result(timeout=30)
        assert "INVALID_CONFIG" in str(e.value) or "Invalid config" in str(e.value), e.value
    assert _describe(b, topic)["retention.ms"].value == "86400000"
    # validate_only checks without applying.
    res = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "5"})
    _admin(b).alter_configs([res], request_timeout=15, validate_only=True)[res].result(timeout=30)
    assert _describe(b, topic)["retention.ms"].value == "86400000"
    b.assert_healthy("alter configs")


def test_incremental_alter_configs_operations_and_errors(broker):
    b = broker()
    topic = "incremental"
    _create(b, topic, config={"retention.bytes": "1000000"})
    T = w.RESOURCE_TOPIC
    [(err, msg, _, _)] = w.incremental_alter_configs(b.port, [(T, topic, [("retention.ms", w.OP_SET, "60000"),
                                                                          ("retention.bytes", w.OP_DELETE, None)])])
    assert err == 0, msg
    configs = _describe(b, topic)
    assert configs["retention.ms"].value == "60000"
    assert configs["retention.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
    # APPEND and SUBTRACT on the list config cleanup.policy.
    [(err, msg, _, _)] = w.incremental_alter_configs(b.port, [(T, topic, [("cleanup.policy", w.OP_APPEND, "compact")])])
    assert err == 0, msg
    assert _describe(b, topic)["cleanup.policy"].value == "compact,delete"
    [(err, msg, _, _)] = w.incremental_alter_configs(b.port, [(T, topic, [("cleanup.policy", w.OP_SUBTRACT, "delete")])])
    assert err == 0, msg
    assert _describe(b, topic)["cleanup.policy"].value == "compact"
    # Errors, each for its own resource, the others applied.
    results = w.incremental_alter_configs(b.port, [
        (T, topic, [("retention.ms", w.OP_APPEND, "5")]),          # not a list
        (T, "no-such-topic", [("retention.ms", w.OP_SET, "5")]),
        (T, topic, [("retention.ms", 9, "5")]),                    # unknown operation
        (w.RESOURCE_BROKER, "0", [("log.retention.ms", w.OP_SET, "5")]),
        (T, "incremental-2", [("segment.ms", w.OP_SET, "0")]),   # unknown topic too
    ])
    codes = [r[0] for r in results]
    assert codes == [INVALID_CONFIG, w.UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST, INVALID_REQUEST,
                     w.UNKNOWN_TOPIC_OR_PARTITION], results
    assert all(r[1] for r in results), "every error carries a message: %r" % results
    [(err, _, _, _)] = w.incremental_alter_configs(b.port, [(T, topic, [("segment.ms", w.OP_SET, "0")])])
    assert err == INVALID_CONFIG
    [(err, _, _, _)] = w.incremental_alter_configs(b.port, [(T, topic, [("retention.ms", w.OP_SET, "1"),
                                                                        ("retention.ms", w.OP_SET, "2")])])
    assert err == INVALID_REQUEST
    [(err, _, _, _)] = w.incremental_alter_configs(b.port, [(T, topic, [("retention.ms", w.OP_SET, "7")])],
                                                   validate_only=True)
    assert err == 0
    assert _describe(b, topic)["retention.ms"].value == "60000"
    b.assert_healthy("incremental alter configs")


def test_create_partitions_grows_topics_durably(broker):
    b = broker()
    topic = "growing"
    _create(b, topic, partitions=2)
    fs = _admin(b).create_partitions([NewPartitions(topic, 5)], request_timeout=15)
    fs[topic].result(timeout=30)
    wait_for_topic(b.bootstrap, topic, 5)
    for p in range(5):
        _produce(b, topic, 10, partition=p, size=10)
    assert watermarks(b.bootstrap, topic, range(5)) == {p: (0, 10) for p in range(5)}

    # Fewer or equal, too many new replicas, other brokers: refused with Kafka's codes.
    for count, code in ((5, INVALID_PARTITIONS), (3, INVALID_PARTITIONS)):
        fs = _admin(b).create_partitions([NewPartitions(topic, count)], request_timeout=15)
        with pytest.raises(Exception) as e:
            fs[topic].result(timeout=30)
        assert e.value.args[0].code() == code, e.value
    fs = _admin(b).create_partitions([NewPartitions(topic, 7, replica_assignment=[[0], [3]])], request_timeout=15)
    with pytest.raises(Exception) as e:
        fs[topic].result(timeout=30)
    assert e.value.args[0].code() == INVALID_REPLICA_ASSIGNMENT
    fs = _admin(b).create_partitions([NewPartitions("nope", 3)], request_timeout=15)
    with pytest.raises(Exception) as e:
        fs["nope"].result(timeout=30)
    assert e.value.args[0].code() == w.UNKNOWN_TOPIC_OR_PARTITION
    fs = _admin(b).create_partitions([NewPartitions(topic, 9)], request_timeout=15, validate_only=True)
    fs[topic].result(timeout=30)
    wait_for_topic(b.bootstrap, topic, 5)

    # kafka-python's admin client, then a restart: the new count and the data stay.
    from kafka.admin import KafkaAdminClient, NewPartitions as KNewPartitions
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=15000)
    try:
        resp = admin.create_partitions({topic: KNewPartitions(total_count=6)})
        assert [t[1] for t in resp.topic_errors] == [0], resp
    finally:
        admin.close()
    wait_for_topic(b.bootstrap, topic, 6)
    b.kill()
    b.restart()
    wait_for_topic(b.bootstrap, topic, 6)
    marks = watermarks(b.bootstrap, topic, range(6))
    assert marks == {**{p: (0, 10) for p in range(5)}, 5: (0, 0)}, marks
    b.assert_healthy("create partitions")


def test_delete_records_moves_the_log_start_durably(broker):
    b = broker()
    topic = "trimmed"
    _create(b, topic, partitions=2, config={"segment.bytes": "4096"})
    _produce(b, topic, 200, partition=0)
    _produce(b, topic, 50, partition=1)
    files_before = _segment_files(b, topic)
    out = w.delete_records(b.port, topic, {0: 120, 1: -1})
    assert out == {0: (0, 120), 1: (0, 50)}, out
    assert len(_segment_files(b, topic)) < len(files_before)
    assert watermarks(b.bootstrap, topic, [0, 1]) == {0: (120, 200), 1: (50, 50)}

    # A consumer from the beginning starts at the new log start.
    c = Consumer(consumer_config(b.bootstrap))
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = time.monotonic() + 30
        first = None
        while first is None and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                first = m.offset()
        assert first == 120
    finally:
        c.close()

    # Errors: past the high watermark, unknown partition, lower than the start (no change, no error).
    out = w.delete_records(b.port, topic, {0: 500, 7: 1})
    assert out == {0: (OFFSET_OUT_OF_RANGE, -1), 7: (w.UNKNOWN_TOPIC_OR_PARTITION, -1)}, out
    assert w.delete_records(b.port, topic, {0: 10}) == {0: (0, 120)}

    # SIGKILL: the answer meant durable.
    b.kill()
    b.restart()
    assert watermarks(b.bootstrap, topic, [0, 1]) == {0: (120, 200), 1: (50, 50)}

    # Compacted topics refuse it, as Kafka does.
    _create(b, "compacted", config={"cleanup.policy": "compact"})
    assert w.delete_records(b.port, "compacted", {0: 0}) == {0: (POLICY_VIOLATION, -1)}
    b.assert_healthy("delete records")


def test_describe_cluster(broker):
    b = broker()
    d = w.describe_cluster(b.port)
    assert d["error"] == 0 and d["message"] is None
    assert d["cluster_id"] and d["controller"] == 0
    assert d["brokers"] == [(0, "127.0.0.1", b.port, None)]
    assert d["operations"] == -2147483648
    d = w.describe_cluster(b.port, include_operations=True)
    assert d["operations"] > 0 and d["operations"] & (1 << 10), d  # DESCRIBE_CONFIGS among them
    # The same cluster id as Metadata v2+ reports (kafka-python reads it from there).
    from kafka.admin import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=15000)
    try:
        assert admin.describe_cluster()["cluster_id"] == d["cluster_id"]
    finally:
        admin.close()
