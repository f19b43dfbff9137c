"""Consumer groups and committed offsets with real clients.

- librdkafka group members in separate processes (group_member.py), with the range, roundrobin and
  cooperative-sticky assignors: three members join, one leaves cleanly, one is SIGKILLed and must be
  expired after session.timeout.ms. Proves: every message is consumed at least once; duplicates
  only where the killed member had seen messages it had not committed; no partition is ever owned
  by two members at once (callback timestamps); at every stable point the live members' assignments
  (client view and DescribeGroups) are disjoint and cover all partitions; a fresh member of the
  group resumes exactly at the committed offsets.
- static membership (group.instance.id): a member killed and restarted within the session timeout
  gets its partitions back without the other members being rebalanced.
- kafka-python's group consumer (JoinGroup v0-2, OffsetCommit v2) and `kcat -G` commit offsets that
  a reopened consumer, OffsetFetch and the admin clients see.
- committed offsets and their metadata strings (empty, null, unicode, 4096 bytes; 4097 is refused
  with OFFSET_METADATA_TOO_LARGE) come back exactly after a SIGTERM and after a SIGKILL restart.
- admin: ListGroups, DescribeGroups, DeleteGroups (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND) and
  OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC for a consumed topic).
"""

import json
import pathlib
import signal
import subprocess
import threading
import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

import kafka_wire as w
from clients import (FAST_GROUP_ARGS, group_consumer_config, produce_keyed, quick, wait_for_topic, wait_until,
                     watermarks)

HERE = pathlib.Path(__file__).resolve().parent
MEMBER_SCRIPT = HERE / "group_member.py"
PYTHON = "/usr/bin/python3"
PARTITIONS = 6
SESSION_MS = 3000


def require_group_apis(b):
    missing = w.missing_group_apis(b.port)
    assert not missing, "group APIs not advertised as specified (key:advertised!=spec): %s" % missing


# ---------------------------------------------------------------------------
# Member processes and what they logged.

class Member:
    def __init__(self, tmp_path, name, bootstrap, topic, group, strategy="range", instance_id=None,
                 session_ms=SESSION_MS, batch=200, sleep_ms=5):
        self.name = name
        self.out = tmp_path / ("member-%s.jsonl" % name)
        self.stderr_path = tmp_path / ("member-%s.stderr" % name)
        cmd = [PYTHON, str(MEMBER_SCRIPT), "--bootstrap", bootstrap, "--topic", topic, "--group", group,
               "--out", str(self.out), "--strategy", strategy, "--session-ms", str(session_ms),
               "--batch", str(batch), "--sleep-ms", str(sleep_ms), "--max-seconds", "240"]
        if instance_id:
            cmd += ["--instance-id", instance_id]
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         start_new_session=True)
        self.killed_at = None

    def events(self):
        try:
            lines = self.out.read_text().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                break  # a line cut short by SIGKILL
        return out

    def owned(self):
        """Partitions this member owns now, from its rebalance callbacks."""
        own = set()
        for e in self.events():
            if e["ev"] == "assign":
                own |= set(e["parts"])
            elif e["ev"] in ("revoke", "lost"):
                own -= set(e["parts"])
            elif e["ev"] == "closing":
                own = set()
        if self.killed_at is not None or self.proc.poll() is not None:
            return set()
        return own

    def seen(self):
        return [tuple(m) for e in self.events() if e["ev"] == "seen" for m in e["m"]]

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.killed_at = time.monotonic()

    def close(self, timeout=30):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("member %s did not close within %d s\n%s" % (self.name, timeout, self.stderr()))
        assert rc == 0, "member %s exited with %d\n%s" % (self.name, rc, self.stderr())
        assert any(e["ev"] == "closed" for e in self.events()), "member %s never logged a clean close" % self.name

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def members(tmp_path):
    started = []

    def start(*args, **kw):
        m = Member(tmp_path, *args, **kw)
        started.append(m)
        return m

    try:
        yield start
    finally:
        for m in started:
            m.cleanup()


def ownership_overlaps(all_members):
    """Sweep every member's assign/revoke events (and kill times) in time order; return the
    moments a partition was assigned to a member while another member still owned it."""
    timeline = []
    for m in all_members:
        for e in m.events():
            if e["ev"] == "assign":
                timeline.append((e["t"], 1, m.name, e["parts"]))
            elif e["ev"] in ("revoke", "lost"):
                timeline.append((e["t"], 0, m.name, e["parts"]))
            elif e["ev"] == "closing":
                timeline.append((e["t"], 0, m.name, list(range(PARTITIONS))))
        if m.killed_at is not None:
            timeline.append((m.killed_at, 0, m.name, list(range(PARTITIONS))))
    timeline.sort()
    owner = {}
    bad = []
    for t, kind, name, parts in timeline:
        for p in parts:
            if kind == 0:
                if owner.get(p) == name:
                    del owner[p]
            else:
                if p in owner and owner[p] != name:
                    bad.append("t=%.3f partition %d assigned to %s while %s owned it" % (t, p, name, owner[p]))
                owner[p] = name
    return bad


def describe_one(port, group):
    with w.Client(port) as c:
        (g,) = c.describe([group], version=4)  # v4+: members carry their group.instance.id
    return g


def stable_view(port, group, live, topic):
    """None until the live members' client-side assignments and the coordinator's DescribeGroups
    agree on a disjoint cover of every partition; then a summary."""
    owned = {m.name: m.owned() for m in live}
    if any(not o for o in owned.values()):
        return None
    union = set().union(*owned.values())
    if union != set(range(PARTITIONS)) or sum(len(o) for o in owned.values()) != PARTITIONS:
        return None
    g = describe_one(port, group)
    if g["error"] != 0 or g["state"] != "Stable" or len(g["members"]) != len(live):
        return None
    assigned = [w.parse_consumer_assignment(m["assignment"]).get(topic, []) for m in g["members"]]
    flat = sorted(p for a in assigned for p in a)
    if flat != list(range(PARTITIONS)):
        return None
    return {"owned": {k: sorted(v) for k, v in owned.items()}, "describe": assigned}


def checkpoint(b, group, topic, live, all_members, what, timeout=30):
    view = None
    try:
        view = wait_until(lambda: stable_view(b.port, group, live, topic), timeout, what, interval=0.2)
    except AssertionError as e:
        detail = {m.name: (sorted(m.owned()), m.proc.poll()) for m in all_members}
        raise AssertionError("%s; members (owned, rc): %r; describe: %r\n%s" % (
            e, detail, describe_one(b.port, group), "\n".join(m.stderr() for m in all_members)))
    bad = ownership_overlaps(all_members)
    assert not bad, "%s: partitions owned by two members at once: %s" % (what, bad[:10])
    return view


def committed_offsets(port, group, topic, partitions):
    with w.Client(port) as c:
        top, res = c.fetch_offsets(group, {topic: list(partitions)})
    assert top == 0, "OffsetFetch top-level error %d" % top
    for k, (_, _, err) in res.items():
        assert err == 0, "OffsetFetch %s: error %d" % (k, err)
    return {p: res[(topic, p)][0] for p in partitions}


def wait_all_committed(b, group, topic, what, timeout=90):
    hw = {p: hi for p, (lo, hi) in watermarks(b.bootstrap, topic, range(PARTITIONS)).items()}
    wait_until(lambda: committed_offsets(b.port, group, topic, range(PARTITIONS)) == hw, timeout,
               "%s: committed offsets to reach %r" % (what, hw), interval=0.3)
    return hw


def keyed(start, n):
    return [(b"key-%d" % (i % 997), b"value-%d" % i) for i in range(start, start + n)]


# ---------------------------------------------------------------------------
# 1. Three librdkafka members: join, clean leave, crash.

@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["range", "roundrobin", "cooperative-sticky"])
def test_group_members_join_leave_crash(broker, members, strategy):
    n = 6000 if quick() else 60000
    b = broker(num_partitions=PARTITIONS, extra_args=FAST_GROUP_ARGS)
    require_group_apis(b)
    topic = "grp-" + strategy
    group = "g-" + strategy
    wait_for_topic(b.bootstrap, topic, PARTITIONS)
    acked = {}

    a = members("A", b.bootstrap, topic, group, strategy)
    bm = members("B", b.bootstrap, topic, group, strategy)
    c = members("C", b.bootstrap, topic, group, strategy)
    everyone = [a, bm, c]
    checkpoint(b, group, topic, [a, bm, c], everyone, "three members joined")

    third = n // 3
    acked.update(produce_keyed(b.bootstrap, topic, keyed(0, third)))
    wait_all_committed(b, group, topic, "first third")
    checkpoint(b, group, topic, [a, bm, c], everyone, "three members after consuming")

    bm.close()
    checkpoint(b, group, topic, [a, c], everyone, "B left cleanly")

    c_seen_before = len(c.seen())
    done = threading.Event()
    phase2 = {}

    def produce_phase2():
        phase2.update(produce_keyed(b.bootstrap, topic, keyed(third, third)))
        done.set()

    t = threading.Thread(target=produce_phase2, daemon=True)
    t.start()
    wait_until(lambda: len(c.seen()) > c_seen_before, 60, "C to see messages of the second third", interval=0.01)
    c_owned_at_kill = c.owned()
    c.kill()
    assert c_owned_at_kill, "C owned nothing when it was killed"
    t.join(120)
    assert done.is_set(), "second third never finished producing"
    acked.update(phase2)
    c_parts = c_owned_at_kill
    checkpoint(b, group, topic, [a], everyone, "C crashed and expired", timeout=SESSION_MS / 1000 + 30)
    # C's partitions move only once its session expired (its last heartbeat was at most
    # heartbeat.interval.ms = 300 ms before the kill), and not much later than that.
    moved = [e["t"] for e in a.events() if e["ev"] == "assign" and e["t"] > c.killed_at and set(e["parts"]) & c_parts]
    assert moved, "A never got C's partitions %r" % sorted(c_parts)
    delay = moved[0] - c.killed_at
    assert SESSION_MS / 1000.0 - 0.5 <= delay <= SESSION_MS / 1000.0 + 10, (
        "C's partitions reassigned %.2f s after the kill (session.timeout.ms %d)" % (delay, SESSION_MS))

    acked.update(produce_keyed(b.bootstrap, topic, keyed(2 * third, n - 2 * third)))
    hw = wait_all_committed(b, group, topic, "everything")
    a.close()
    assert sum(hw.values()) == n == len(acked), (hw, n, len(acked))

    # Every message consumed at least once; duplicates only where C had seen without committing.
    counts = {}
    for m in everyone:
        for po in m.seen():
            counts[po] = counts.get(po, 0) + 1
    missing = sorted(set(acked) - set(counts))
    assert not missing, "%d messages never consumed, e.g. %r" % (len(missing), missing[:10])
    unknown = sorted(set(counts) - set(acked))
    assert not unknown, "consumed offsets that were never produced: %r" % unknown[:10]
    c_committed = {}
    for e in c.events():
        if e["ev"] == "commit":
            for p, o in e["o"].items():
                c_committed[int(p)] = o
    allowed = {(p, o) for p, o in c.seen() if o >= c_committed.get(p, -1)}
    failed = set()
    for m in everyone:
        for e in m.events():
            if e["ev"] == "commit_error":
                failed |= {(int(p), o) for p, o in e["o"].items()}
    dups = sorted(po for po, k in counts.items() if k > 1)
    unexplained = [po for po in dups if po not in allowed and not any(
        po[0] == p and po[1] < o for p, o in failed)]
    assert not unexplained, ("%d duplicates outside the crash window (C's uncommitted messages %d), e.g. %r"
                             % (len(unexplained), len(allowed), unexplained[:10]))
    errors = [(m.name, e) for m in everyone for e in m.events() if e["ev"] == "error"]
    assert not errors, "consumer errors: %r" % errors[:10]

    # A fresh member resumes exactly at the committed offsets.
    before = committed_offsets(b.port, group, topic, range(PARTITIONS))
    assert before == hw, (before, hw)
    extra = produce_keyed(b.bootstrap, topic, keyed(n, 60))
    cons = Consumer(group_consumer_config(b.bootstrap, group, **{"partition.assignment.strategy": strategy}))
    try:
        cons.subscribe([topic])
        got = []
        deadline = time.monotonic() + 30
        while len(got) < len(extra) and time.monotonic() < deadline:
            for m in cons.consume(num_messages=1000, timeout=0.3):
                assert not m.error(), m.error()
                got.append((m.partition(), m.offset()))
        quiet = time.monotonic() + 1.0
        while time.monotonic() < quiet:
            for m in cons.consume(num_messages=1000, timeout=0.2):
                assert not m.error(), m.error()
                got.append((m.partition(), m.offset()))
        assert sorted(got) == sorted(extra), (
            "fresh member read %d messages (%r...), expected exactly the %d produced after the commits"
            % (len(got), sorted(got)[:10], len(extra)))
        committed = cons.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
        assert {tp.partition: tp.offset for tp in committed} == before, "committed() %r, expected %r" % (
            committed, before)
        new_hw = {p: hw[p] + sum(1 for q, _ in extra if q == p) for p in range(PARTITIONS)}
        pos = cons.position([TopicPartition(topic, p) for p in range(PARTITIONS)])
        assert {tp.partition: tp.offset for tp in pos} == new_hw, "position %r, expected %r" % (pos, new_hw)
    finally:
        cons.close()
    b.assert_healthy("group %s" % strategy)


# ---------------------------------------------------------------------------
# Static membership.

def by_instance(described, topic):
    """DescribeGroups result -> {instance id: (member id, sorted partitions of topic)}."""
    return {m["instance_id"]: (m["member_id"], sorted(w.parse_consumer_assignment(m["assignment"]).get(topic, [])))
            for m in described["members"]}

def test_static_member_restart_keeps_partitions_without_rebalance(broker, members):
    b = broker(num_partitions=PARTITIONS, extra_args=FAST_GROUP_ARGS)
    require_group_apis(b)
    topic, group = "static", "g-static"
    wait_for_topic(b.bootstrap, topic, PARTITIONS)
    session = 10000
    s = {i: members("s%d" % i, b.bootstrap, topic, group, "range", instance_id="inst-%d" % i, session_ms=session)
         for i in (1, 2, 3)}
    everyone = list(s.values())
    checkpoint(b, group, topic, everyone, everyone, "three static members joined")
    produce_keyed(b.bootstrap, topic, keyed(0, 600))
    wait_all_committed(b, group, topic, "static members consumed")

    before = describe_one(b.port, group)
    by_inst = by_instance(before, topic)
    assert sorted(by_inst) == ["inst-1", "inst-2", "inst-3"], "DescribeGroups instance ids: %r" % by_inst
    owned_before = s[2].owned()
    others_events = {i: len([e for e in s[i].events() if e["ev"] in ("assign", "revoke", "lost")]) for i in (1, 3)}

    t0 = time.monotonic()
    s[2].kill()
    s2b = members("s2-restarted", b.bootstrap, topic, group, "range", instance_id="inst-2", session_ms=session)
    everyone.append(s2b)
    wait_until(lambda: s2b.owned(), 20, "restarted static member to get an assignment")
    assert time.monotonic() - t0 < session / 1000.0, "restart took longer than the session timeout"
    assert s2b.owned() == owned_before, "restarted static member got %r, had %r" % (sorted(s2b.owned()),
                                                                                  sorted(owned_before))
    time.sleep(2.0)  # heartbeats every 300 ms: a rebalance of the others would show by now
    for i in (1, 3):
        evs = [e for e in s[i].events() if e["ev"] in ("assign", "revoke", "lost")]
        assert len(evs) == others_events[i], "member inst-%d was rebalanced by the static restart: %r" % (
            i, evs[others_events[i]:])
    after = describe_one(b.port, group)
    assert after["state"] == "Stable", after["state"]
    by_inst_after = by_instance(after, topic)
    assert sorted(by_inst_after) == ["inst-1", "inst-2", "inst-3"], by_inst_after
    for i in ("inst-1", "inst-3"):
        assert by_inst_after[i] == by_inst[i], "%s changed: %r -> %r" % (i, by_inst[i], by_inst_after[i])
    assert by_inst_after["inst-2"][1] == by_inst["inst-2"][1], "inst-2 assignment changed"
    assert ownership_overlaps(everyone) == []
    # Still consuming: new messages are committed by the three.
    produce_keyed(b.bootstrap, topic, keyed(600, 300))
    wait_all_committed(b, group, topic, "after the static restart")
    b.assert_healthy("static membership")


# ---------------------------------------------------------------------------
# 2. kafka-python and kcat group consumers.

def test_kafka_python_group_consumer_commits_and_resumes(broker):
    from kafka import KafkaConsumer, TopicPartition as KTP
    from kafka.admin import KafkaAdminClient

    b = broker(num_partitions=3, extra_args=FAST_GROUP_ARGS)
    require_group_apis(b)
    topic, group = "kp-grp", "kp-group"
    wait_for_topic(b.bootstrap, topic, 3)
    acked = produce_keyed(b.bootstrap, topic, keyed(0, 300))

    def consumer():
        return KafkaConsumer(topic, bootstrap_servers=b.bootstrap, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=500,
                             max_poll_records=50, request_timeout_ms=30000)

    c = consumer()
    first = []
    deadline = time.monotonic() + 40
    while len(first) < 150:
        assert time.monotonic() < deadline, "kafka-python read only %d messages" % len(first)
        for recs in c.poll(timeout_ms=500, max_records=50).values():
            first.extend((r.partition, r.offset) for r in recs)
    c.commit()
    positions = {tp.partition: c.position(tp) for tp in c.assignment()}
    assert len(positions) == 3, "kafka-python assignment %r" % c.assignment()
    c.close()

    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap)
    try:
        offs = admin.list_consumer_group_offsets(group)
        assert {tp.partition: om.offset for tp, om in offs.items() if tp.topic == topic} == positions, (offs, positions)
    finally:
        admin.close()

    c = consumer()
    try:
        rest = []
        deadline = time.monotonic() + 40
        while len(set(first) | set(rest)) < len(acked):
            assert time.monotonic() < deadline, "kafka-python reopened read %d" % len(rest)
            for recs in c.poll(timeout_ms=500).values():
                rest.extend((r.partition, r.offset) for r in recs)
        for p in range(3):
            mine = [o for q, o in rest if q == p]
            if mine:
                assert min(mine) == positions[p], "partition %d resumed at %d, committed %d" % (p, min(mine), positions[p])
            assert c.committed(KTP(topic, p)) == positions[p]
        assert not set(first) & set(rest), "messages re-read after the commit: %r" % sorted(set(first) & set(rest))[:10]
        assert sorted(set(first) | set(rest)) == sorted(acked)
    finally:
        c.close()
    b.assert_healthy("kafka-python group")


def test_kcat_balanced_consumer_commits(broker):
    b = broker(num_partitions=4, extra_args=FAST_GROUP_ARGS)
    require_group_apis(b)
    topic, group = "kcat-grp", "kcat-group"
    wait_for_topic(b.bootstrap, topic, 4)
    acked = produce_keyed(b.bootstrap, topic, keyed(0, 400))
    proc = subprocess.run(["kcat", "-b", b.bootstrap, "-G", group, "-e", "-q", "-f", "%p %o\\n",
                           "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000", topic],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, "kcat -G rc %d: %s" % (proc.returncode, proc.stderr.decode(errors="replace")[-2000:])
    got = [tuple(int(x) for x in line.split()) for line in proc.stdout.decode().splitlines() if line.strip()]
    assert sorted(set(got)) == sorted(acked), "kcat read %d distinct of %d" % (len(set(got)), len(acked))
    hw = {p: hi for p, (lo, hi) in watermarks(b.bootstrap, topic, range(4)).items()}
    assert committed_offsets(b.port, group, topic, range(4)) == hw, "kcat's commits on close"
    b.assert_healthy("kcat -G")


# ---------------------------------------------------------------------------
# 3. Offsets and metadata survive restarts.

META_CASES = ["", None, "plain", "héllo wörld ✓ 日本語 🚀", "x" * 4096, "é" * 2048, "line\nbreak\ttab\x00nul"]


def test_offsets_and_metadata_survive_sigterm_and_sigkill(broker):
    b = broker(num_partitions=4, extra_args=FAST_GROUP_ARGS)
    require_group_apis(b)
    topics = ["meta-a", "meta-b"]
    for t in topics:
        wait_for_topic(b.bootstrap, t, 4)
    expected = {}  # (group, topic, partition) -> (offset, metadata as fetched)

    def commit_round(salt, version):
        with w.Client(b.port) as c:
            for gi in range(4):
                group = "meta-g%d" % gi
                offsets = {}
                for t in topics:
                    offsets[t] = []
                    for p in range(4):
                        meta = META_CASES[(gi + p + salt) % len(META_CASES)]
                        off = 1000 * gi + 10 * p + salt
                        offsets[t].append((p, off, meta))
                        expected[(group, t, p)] = (off, "" if meta is None else meta)
                res = c.commit(group, offsets, version=version)
                assert res == {(t, p): 0 for t in topics for p in range(4)}, "commit v%d %s: %r" % (version, group, res)
            # 4097 bytes of metadata: refused per partition, the stored value stays.
            res = c.commit("meta-g0", {"meta-a": [(0, 999999, "y" * 4097)]}, version=version)
            assert res == {("meta-a", 0): w.OFFSET_METADATA_TOO_LARGE}, "4097-byte metadata: %r" % res

    def check(what):
        for version in (1, 5):
            with w.Client(b.port) as c:
                for gi in range(4):
                    group = "meta-g%d" % gi
                    top, res = c.fetch_offsets(group, {t: list(range(4)) for t in topics}, version=version)
                    assert top in (None, 0), "%s: OffsetFetch v%d top-level error %r" % (what, version, top)
                    for t in topics:
                        for p in range(4):
                            off, meta, err = res[(t, p)]
                            assert err == 0 and (off, meta) == expected[(group, t, p)], (
                                "%s: OffsetFetch v%d %s %s-%d = %r, expected %r" % (
                                    what, version, group, t, p, (off, meta, err), expected[(group, t, p)]))
        cons = Consumer(group_consumer_config(b.bootstrap, "meta-g1"))
        try:
            got = cons.committed([TopicPartition(t, p) for t in topics for p in range(4)], timeout=10)
            assert {(tp.topic, tp.partition): tp.offset for tp in got} == {
                (t, p): expected[("meta-g1", t, p)][0] for t in topics for p in range(4)}, "%s: committed()" % what
        finally:
            cons.close()

    commit_round(0, 2)
    check("before restart")
    b.stop(signal.SIGTERM)
    b.restart()
    check("after SIGTERM restart")
    commit_round(3, 7)
    check("after recommit")
    b.kill()
    b.restart()
    check("after SIGKILL restart")
    b.assert_healthy("offset restarts")


# ---------------------------------------------------------------------------
# 4. Admin: list, describe, delete groups and offsets.

def test_admin_list_describe_delete_groups_and_offsets(broker):
    from kafka.admin import KafkaAdminClient

    b = broker(num_partitions=2, extra_args=FAST_GROUP_ARGS)
    require_group_apis(b)
    for t in ("adm-consumed", "adm-other"):
        wait_for_topic(b.bootstrap, t, 2)
    produce_keyed(b.bootstrap, "adm-consumed", keyed(0, 20))

    active = Consumer(group_consumer_config(b.bootstrap, "adm-active", **{"client.id": "adm-client"}))
    try:
        active.subscribe(["adm-consumed"])
        got = []
        deadline = time.monotonic() + 30
        while len(got) < 20:
            assert time.monotonic() < deadline, "active consumer read %d of 20" % len(got)
            got += [m for m in active.consume(num_messages=100, timeout=0.3) if not m.error()]
        active.commit(asynchronous=False)
        with w.Client(b.port) as c:
            res = c.commit("adm-empty", {"adm-other": [(0, 5, "m0"), (1, 7, "m1")]})
            assert res == {("adm-other", 0): 0, ("adm-other", 1): 0}, res
            # The active group also has an offset for a topic it is not subscribed to.
            res = c.commit("adm-offsets", {"adm-other": [(0, 3, ""), (1, 4, "")]})
            assert res == {("adm-other", 0): 0, ("adm-other", 1): 0}, res

            err, listed = c.list_groups()
            assert err == 0
            listed = dict(listed)
            assert listed.get("adm-active") == "consumer", listed
            assert listed.get("adm-empty") == "", "simple-commit group must be listed with protocol type '': %r" % listed

            (g,) = c.describe(["adm-active"])
            assert (g["error"], g["state"], g["protocol_type"]) == (0, "Stable", "consumer"), g
            assert g["protocol"] in ("range", "roundrobin"), g["protocol"]
            assert len(g["members"]) == 1 and g["members"][0]["client_id"] == "adm-client", g["members"]
            assert w.parse_consumer_subscription(g["members"][0]["metadata"]) == ["adm-consumed"]
            assert w.parse_consumer_assignment(g["members"][0]["assignment"]) == {"adm-consumed": [0, 1]}
            (g,) = c.describe(["adm-empty"])
            assert (g["error"], g["state"], g["members"]) == (0, "Empty", []), g
            (g,) = c.describe(["adm-never-existed"])
            assert (g["error"], g["state"]) == (0, "Dead"), "unknown group: %r (Kafka: error 0, state Dead)" % g

        # The admin clients see the same.
        kadmin = KafkaAdminClient(bootstrap_servers=b.bootstrap)
        try:
            names = {gid for gid, _ in kadmin.list_consumer_groups()}
            assert {"adm-active", "adm-empty"} <= names, names
            (desc,) = kadmin.describe_consumer_groups(["adm-active"])
            assert desc.state == "Stable" and desc.protocol_type == "consumer" and len(desc.members) == 1, desc
            offs = kadmin.list_consumer_group_offsets("adm-empty")
            assert {(tp.topic, tp.partition): (om.offset, om.metadata) for tp, om in offs.items()} == {
                ("adm-other", 0): (5, "m0"), ("adm-other", 1): (7, "m1")}, offs
        finally:
            kadmin.close()
        cadmin = AdminClient({"bootstrap.servers": b.bootstrap})
        (gm,) = cadmin.list_groups("adm-active", timeout=10)
        assert gm.state == "Stable" and gm.protocol_type == "consumer" and len(gm.members) == 1, gm

        with w.Client(b.port) as c:
            res = c.delete_groups(["adm-active", "adm-empty", "adm-never-existed"])
            assert res == {"adm-active": w.NON_EMPTY_GROUP, "adm-empty": 0, "adm-never-existed": w.GROUP_ID_NOT_FOUND}, res
            top, offs = c.fetch_offsets("adm-empty", {"adm-other": [0, 1]})
            # Kafka answers a partition without a committed offset with offset -1, metadata "", error 0.
            assert (top, offs) == (0, {("adm-other", 0): (-1, "", 0), ("adm-other", 1): (-1, "", 0)}), (top, offs)
            err, listed = c.list_groups()
            assert "adm-empty" not in dict(listed), listed

            # OffsetDelete: a simple group's offset goes; a subscribed topic of a live group is refused.
            err, parts = c.offset_delete("adm-offsets", {"adm-other": [0]})
            assert (err, parts) == (0, {("adm-other", 0): 0}), (err, parts)
            top, offs = c.fetch_offsets("adm-offsets", {"adm-other": [0, 1]})
            assert offs[("adm-other", 0)][0] == -1 and offs[("adm-other", 1)][0] == 4, offs
            err, parts = c.offset_delete("adm-active", {"adm-consumed": [0]})
            assert (err, parts) == (0, {("adm-consumed", 0): w.GROUP_SUBSCRIBED_TO_TOPIC}), (err, parts)
            err, parts = c.offset_delete("adm-never-existed", {"adm-other": [0]})
            assert err == w.GROUP_ID_NOT_FOUND, (err, parts)
    finally:
        active.close()
    # Once the last member left, the group can be deleted.
    with w.Client(b.port) as c:
        res = wait_until(lambda: (lambda r: r if r["adm-active"] == 0 else None)(c.delete_groups(["adm-active"])),
                         15, "adm-active to become deletable after its member left")
        assert res == {"adm-active": 0}
    b.assert_healthy("admin groups")
