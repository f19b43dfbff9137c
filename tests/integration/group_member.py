#!/usr/bin/python3
"""One consumer-group member in its own process, so a test can SIGKILL it.

Subscribes to a topic with confluent-kafka (librdkafka), processes messages in batches and commits
synchronously after every batch (commit-after-process: when a rebalance callback runs, everything
this member has seen is already committed). Everything it observes goes to --out as JSON lines,
each flushed at once, with time.monotonic() stamps (system-wide on Linux, so comparable between
processes):

  {"ev": "start", "t", "pid"}
  {"ev": "assign", "t", "parts": [...]}      rebalance callback entry (incremental with cooperative)
  {"ev": "revoke", "t", "parts": [...]}      written when the callback returns
  {"ev": "lost", "t", "parts": [...]}
  {"ev": "seen", "t", "m": [[partition, offset], ...]}   written before the batch is committed
  {"ev": "commit", "t", "o": {partition: next offset}}   after a successful synchronous commit
  {"ev": "commit_error", "t", "err", "o"}
  {"ev": "error", "t", "err"}                consumer errors
  {"ev": "closing", "t"}                     consumption stopped (everything seen is committed)
  {"ev": "closed", "t"}                      after a clean close() on SIGTERM

SIGTERM (or --max-seconds) makes it close() cleanly and exit 0.
"""

import argparse
import json
import os
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--strategy", default="range")
    ap.add_argument("--instance-id")
    ap.add_argument("--session-ms", type=int, default=3000)
    ap.add_argument("--heartbeat-ms", type=int, default=300)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--sleep-ms", type=int, default=5)
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()

    out = open(args.out, "a", buffering=1)

    def log(ev, **kw):
        kw["ev"] = ev
        kw["t"] = time.monotonic()
        out.write(json.dumps(kw) + "\n")
        out.flush()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "client.id": "member-%d" % os.getpid(),
        "partition.assignment.strategy": args.strategy,
        "session.timeout.ms": args.session_ms,
        "heartbeat.interval.ms": args.heartbeat_ms,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 100,
        "enable.partition.eof": False,
    }
    if args.instance_id:
        conf["group.instance.id"] = args.instance_id
    c = Consumer(conf)
    log("start", pid=os.getpid())

    def on_assign(consumer, parts):
        log("assign", parts=sorted(tp.partition for tp in parts))

    def on_revoke(consumer, parts):
        log("revoke", parts=sorted(tp.partition for tp in parts))

    def on_lost(consumer, parts):
        log("lost", parts=sorted(tp.partition for tp in parts))

    c.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    deadline = time.monotonic() + args.max_seconds
    while not stop and time.monotonic() < deadline:
        msgs = c.consume(num_messages=args.batch, timeout=0.2)
        seen = []
        nxt = {}
        for m in msgs:
            if m.error():
                log("error", err=str(m.error()))
                continue
            seen.append([m.partition(), m.offset()])
            nxt[m.partition()] = max(nxt.get(m.partition(), 0), m.offset() + 1)
        if not seen:
            continue
        log("seen", m=seen)
        try:
            c.commit(offsets=[TopicPartition(args.topic, p, o) for p, o in sorted(nxt.items())],
                     asynchronous=False)
            log("commit", o=nxt)
        except KafkaException as e:
            log("commit_error", err=str(e), o=nxt)
        if args.sleep_ms:
            time.sleep(args.sleep_ms / 1000.0)
    log("closing")
    c.close()
    log("closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
