"""Durability: acknowledged acks=all messages survive SIGKILL, and a clean
SIGTERM/SIGINT shutdown keeps topics and data across restarts."""

import os
import random
import signal
import threading
import time

import pytest
from confluent_kafka import Producer

from clients import consume_all, producer_config, wait_for_topic, watermarks

PARTITIONS = 4


class LoadProducer(threading.Thread):
    """Produces continuously with acks=all and records every successful delivery
    report as (partition, offset) -> value. Bounded by message count and time."""

    def __init__(self, bootstrap, topic, rng, max_messages=2_000_000, max_seconds=300):
        super().__init__(daemon=True)
        self.topic = topic
        self.rng = rng
        self.max_messages = max_messages
        self.max_seconds = max_seconds
        self.stop_event = threading.Event()
        self.acked = {}
        self.conflicts = []
        self.failed = 0
        self.produced = 0
        self.unflushed = None
        self.exc = None
        self.producer = Producer(producer_config(bootstrap, **{
            "linger.ms": 2,
            "message.timeout.ms": 120_000,
            "retries": 1_000_000,
            "retry.backoff.ms": 100,
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 500,
            "queue.buffering.max.messages": 200_000,
        }))

    def _on_delivery(self, err, msg):
        if err is not None:
            self.failed += 1
            return
        key = (msg.partition(), msg.offset())
        if key in self.acked and self.acked[key] != msg.value():
            self.conflicts.append((key, self.acked[key], msg.value()))
        self.acked[key] = msg.value()

    def run(self):
        try:
            deadline = time.monotonic() + self.max_seconds
            seq = 0
            while not self.stop_event.is_set() and seq < self.max_messages and time.monotonic() < deadline:
                value = b"%012d:" % seq + bytes([seq % 251]) * self.rng.randint(0, 600)
                try:
                    self.producer.produce(self.topic, value=value, partition=seq % PARTITIONS,
                                          on_delivery=self._on_delivery)
                    seq += 1
                except BufferError:
                    self.producer.poll(0.05)
                    continue
                if seq % 100 == 0:
                    self.producer.poll(0)
                if seq % 2000 == 0:
                    time.sleep(0.005)  # leave the broker some CPU on a 2-core box
            self.produced = seq
            flush_deadline = time.monotonic() + 150
            while len(self.producer) > 0 and time.monotonic() < flush_deadline:
                self.producer.flush(1.0)
            self.unflushed = len(self.producer)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.exc = e


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_message(broker):
    seed = int(os.environ.get("MS_IT_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    print("durability seed: MS_IT_SEED=%d" % seed)
    b = broker(num_partitions=PARTITIONS)
    topic = "durable"
    wait_for_topic(b.bootstrap, topic, PARTITIONS)

    load = LoadProducer(b.bootstrap, topic, random.Random(seed + 1))
    load.start()
    cycles = rng.randint(3, 5)
    acked_at_kill = []
    try:
        for cycle in range(cycles):
            time.sleep(rng.uniform(1.0, 3.0))
            assert b.alive(), "broker died on its own during cycle %d\n%s" % (cycle, b.log_tail())
            acked_at_kill.append(len(load.acked))
            b.kill()
            time.sleep(rng.uniform(0.0, 0.5))
            b.restart()
        time.sleep(1.0)  # some load against the final incarnation
    finally:
        load.stop_event.set()
        load.join(240)
    assert not load.is_alive(), "producer thread did not finish"
    if load.exc is not None:
        raise load.exc
    assert load.unflushed == 0, "%d messages never got a delivery report" % load.unflushed
    assert not load.conflicts, "%d (partition, offset) pairs acknowledged twice with different values; first: %r" % (
        len(load.conflicts), [(k, old[:13], new[:13]) for k, old, new in load.conflicts[:5]])
    acked = load.acked
    assert len(acked) >= 1000, "only %d messages acknowledged; the load was too small to mean anything" % len(acked)
    assert acked_at_kill[-1] > acked_at_kill[0], "no progress between kills: %r" % acked_at_kill

    hw = watermarks(b.bootstrap, topic, range(PARTITIONS))
    for part in range(PARTITIONS):
        mine = [o for (p, o) in acked if p == part]
        if mine:
            assert hw[part][1] > max(mine), "partition %d high watermark %d but offset %d was acknowledged" % (
                part, hw[part][1], max(mine))

    got = consume_all(b.bootstrap, topic, range(PARTITIONS), timeout=180)
    stored = {}
    for part, msgs in got.items():
        offs = [m.offset() for m in msgs]
        assert offs == sorted(set(offs)), "partition %d: offsets out of order or repeated" % part
        for m in msgs:
            stored[(part, m.offset())] = m.value()
    lost = [(k, v[:13]) for k, v in sorted(acked.items()) if stored.get(k) != v]
    assert not lost, "%d of %d acknowledged messages missing or different after %d SIGKILLs (seed %d); first: %r" % (
        len(lost), len(acked), cycles, seed, [(k, v, stored.get(k, b"<absent>")[:13]) for k, v in lost[:10]])

    b.stop()  # and after all that, a clean shutdown


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_clean_shutdown_and_restart_keep_topics_and_data(broker, sig):
    b = broker(num_partitions=3)
    topic = "persist"
    wait_for_topic(b.bootstrap, topic, 3)
    p = Producer(producer_config(b.bootstrap))
    sent = {0: [], 1: [], 2: []}
    for i in range(300):
        v = b"persist-%d" % i
        p.produce(topic, key=b"%d" % i, value=v, partition=i % 3)
        sent[i % 3].append(v)
    assert p.flush(30) == 0

    b.stop(sig)  # asserts exit code 0
    b.restart()

    # The topic is still there with the same partition count, nothing new was auto-created,
    # and the data is intact.
    wait_for_topic(b.bootstrap, topic, 3)
    got = consume_all(b.bootstrap, topic, range(3))
    for part in range(3):
        assert [m.offset() for m in got[part]] == list(range(len(sent[part]))), "partition %d offsets" % part
        assert [m.value() for m in got[part]] == sent[part], "partition %d values after restart" % part

    # Appends continue at the right offsets after the restart.
    p = Producer(producer_config(b.bootstrap))
    offsets = []
    p.produce(topic, value=b"after-restart", partition=0,
              on_delivery=lambda err, msg: offsets.append((err, msg.offset())))
    assert p.flush(30) == 0
    assert offsets == [(None, len(sent[0]))], offsets
    b.stop(sig)
