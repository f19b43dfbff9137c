"""Group coordinator error handling on raw sockets, against Kafka's classic GroupCoordinator.

Each test drives JoinGroup/SyncGroup/Heartbeat/LeaveGroup/OffsetCommit by hand and asserts the
error codes Kafka returns (kafka.coordinator.group.GroupCoordinator: unknown group or member ->
UNKNOWN_MEMBER_ID 25, wrong generation -> ILLEGAL_GENERATION 22, first v4+ join -> MEMBER_ID_REQUIRED
79, session timeout outside [min, max] -> INVALID_SESSION_TIMEOUT 26, empty protocol list/type or a
protocol the group does not share -> INCONSISTENT_GROUP_PROTOCOL 23, group id "" -> INVALID_GROUP_ID
24, SyncGroup/Heartbeat while PreparingRebalance -> REBALANCE_IN_PROGRESS 27, commit to an unknown
topic or partition -> UNKNOWN_TOPIC_OR_PARTITION 3), then that oversized and lying requests get an
error or a clean close. After every case the broker is alive with bounded RSS and a well-behaved
librdkafka group in another group still consumes and commits.
"""

import itertools
import threading
import time

import kafka_wire as w
from clients import FAST_GROUP_ARGS, healthy_group_roundtrip, wait_for_topic

MAX_SESSION_MS = 60000
ARGS = FAST_GROUP_ARGS + ("--group-max-session-timeout-ms", str(MAX_SESSION_MS))
_healthy = itertools.count()


def start(broker):
    b = broker(num_partitions=2, extra_args=ARGS)
    missing = w.missing_group_apis(b.port)
    assert not missing, "group APIs not advertised as specified (key:advertised!=spec): %s" % missing
    wait_for_topic(b.bootstrap, "t", 2)
    return b


def healthy(b, what):
    b.assert_healthy(what)
    healthy_group_roundtrip(b.bootstrap, "healthy", "healthy-%d" % next(_healthy))
    b.assert_healthy(what + " (after a healthy group)")


def stable_member(c, group, topics=("t",)):
    """Join (two-step) and sync as the only member; -> (member_id, generation)."""
    j = c.join_dynamic(group, topics)
    assert j["error"] == 0, "join %s: %r" % (group, j)
    assignment = w.consumer_assignment({"t": [0, 1]})
    err, got = c.sync(group, j["generation"], j["member_id"], [(j["member_id"], assignment)])
    assert (err, got) == (0, assignment), "sync %s: error %d assignment %r" % (group, err, got)
    return j["member_id"], j["generation"]


def test_unknown_group_member_and_generation(broker):
    b = start(broker)
    with w.Client(b.port) as c:
        for v in (0, 3):
            assert c.heartbeat("no-such-group", 1, "m", version=v) == w.UNKNOWN_MEMBER_ID, "heartbeat v%d" % v
        assert c.sync("no-such-group", 1, "m")[0] == w.UNKNOWN_MEMBER_ID
        j = c.join("no-such-group", "ghost-member", protocols=(("range", w.consumer_subscription(["t"])),))
        assert j["error"] == w.UNKNOWN_MEMBER_ID, "join of an unknown group with a member id: %r" % j

        # First v4+ join: MEMBER_ID_REQUIRED carrying the id to use.
        first = c.join("g1", "", protocols=(("range", w.consumer_subscription(["t"])),))
        assert first["error"] == w.MEMBER_ID_REQUIRED and first["member_id"], first
        second = c.join("g1", first["member_id"], protocols=(("range", w.consumer_subscription(["t"])),))
        assert second["error"] == 0 and second["member_id"] == first["member_id"], second
        assert second["generation"] >= 1 and second["leader"] == second["member_id"], second
        assert second["protocol"] == "range" and [m[0] for m in second["members"]] == [second["member_id"]], second
        mid, gen = second["member_id"], second["generation"]
        assignment = w.consumer_assignment({"t": [0, 1]})
        assert c.sync("g1", gen, mid, [(mid, assignment)]) == (0, assignment)

        assert c.heartbeat("g1", gen, mid) == 0
        assert c.heartbeat("g1", gen, "bogus-member") == w.UNKNOWN_MEMBER_ID
        assert c.heartbeat("g1", gen + 1, mid) == w.ILLEGAL_GENERATION
        assert c.heartbeat("g1", gen - 1, mid) == w.ILLEGAL_GENERATION
        assert c.sync("g1", gen + 1, mid)[0] == w.ILLEGAL_GENERATION
        assert c.commit("g1", {"t": [(0, 5, "")]}, generation=gen + 1, member_id=mid) == {("t", 0): w.ILLEGAL_GENERATION}
        assert c.commit("g1", {"t": [(0, 5, "")]}, generation=gen, member_id="bogus") == {("t", 0): w.UNKNOWN_MEMBER_ID}
        # A "simple" commit (generation -1) into a group with live members is not allowed either.
        assert c.commit("g1", {"t": [(0, 5, "")]}) == {("t", 0): w.UNKNOWN_MEMBER_ID}
        assert c.commit("g1", {"t": [(0, 5, "ok")]}, generation=gen, member_id=mid) == {("t", 0): 0}
        assert c.fetch_offsets("g1", {"t": [0]})[1] == {("t", 0): (5, "ok", 0)}

        assert c.leave("g1", "bogus-member") == w.UNKNOWN_MEMBER_ID
        assert c.leave("g1", mid) == 0
        assert c.heartbeat("g1", gen, mid) == w.UNKNOWN_MEMBER_ID, "heartbeat after leaving"
        (g,) = c.describe(["g1"])
        assert (g["state"], g["members"]) == ("Empty", []), g
    healthy(b, "unknown group/member/generation")


def test_join_validation(broker):
    b = start(broker)
    sub = (("range", w.consumer_subscription(["t"])),)
    with w.Client(b.port) as c:
        for timeout in (999, MAX_SESSION_MS + 1, 0, -1):
            j = c.join("g-sess", "", protocols=sub, session_timeout_ms=timeout)
            assert j["error"] == w.INVALID_SESSION_TIMEOUT, "session timeout %d: %r" % (timeout, j)
        assert c.join("", "", protocols=sub)["error"] == w.INVALID_GROUP_ID
        assert c.heartbeat("", 1, "m") == w.INVALID_GROUP_ID
        assert c.sync("", 1, "m")[0] == w.INVALID_GROUP_ID
        assert c.leave("", "m") == w.INVALID_GROUP_ID
        assert c.join("g-empty-protocols", "", protocols=())["error"] == w.INCONSISTENT_GROUP_PROTOCOL
        assert c.join("g-empty-type", "", protocols=sub, protocol_type="")["error"] == w.INCONSISTENT_GROUP_PROTOCOL

        # Old versions join in one step (no MEMBER_ID_REQUIRED before v4).
        for v in (0, 1, 2, 3):
            j = c.join("g-old-v%d" % v, "", protocols=sub, version=v)
            assert j["error"] == 0 and j["member_id"] and j["leader"] == j["member_id"], "JoinGroup v%d: %r" % (v, j)

        stable_member(c, "g-proto")
        with w.Client(b.port) as other:
            j = other.join("g-proto", "", protocols=sub, protocol_type="connect")
            assert j["error"] == w.INCONSISTENT_GROUP_PROTOCOL, "other protocol type: %r" % j
            j = other.join("g-proto", "", protocols=(("no-such-assignor", b""),))
            if j["error"] == w.MEMBER_ID_REQUIRED:
                j = other.join("g-proto", j["member_id"], protocols=(("no-such-assignor", b""),))
            assert j["error"] == w.INCONSISTENT_GROUP_PROTOCOL, "no shared protocol: %r" % j
    healthy(b, "join validation")


def test_sync_and_heartbeat_during_rebalance(broker):
    b = start(broker)
    with w.Client(b.port) as a, w.Client(b.port, timeout=30) as other:
        mid_a, gen = stable_member(a, "g-rb")
        sub = (("range", w.consumer_subscription(["t"])),)
        first = other.join("g-rb", "", protocols=sub)
        assert first["error"] == w.MEMBER_ID_REQUIRED, first
        # B's real join waits in the coordinator until A rejoins: the group is PreparingRebalance.
        pending = other.send(w.JOIN_GROUP, 5, w.join_group_body("g-rb", first["member_id"], protocols=sub))
        deadline = time.monotonic() + 10
        while a.heartbeat("g-rb", gen, mid_a) != w.REBALANCE_IN_PROGRESS:
            assert time.monotonic() < deadline, "heartbeat never reported REBALANCE_IN_PROGRESS after a new join"
            time.sleep(0.05)
        assert a.sync("g-rb", gen, mid_a)[0] == w.REBALANCE_IN_PROGRESS, "SyncGroup while PreparingRebalance"
        (g,) = a.describe(["g-rb"])
        assert g["state"] == "PreparingRebalance", g["state"]

        # A rejoins: both get the next generation, A stays leader and assigns.
        ja = a.join("g-rb", mid_a, protocols=sub)
        jb = w.parse_join_group(other.recv(pending), 5)
        assert ja["error"] == jb["error"] == 0, (ja, jb)
        assert ja["generation"] == jb["generation"] == gen + 1, (ja, jb)
        assert ja["leader"] == jb["leader"] == mid_a and len(ja["members"]) == 2 and jb["members"] == [], (ja, jb)
        asg_a, asg_b = w.consumer_assignment({"t": [0]}), w.consumer_assignment({"t": [1]})
        pending_b = other.send(w.SYNC_GROUP, 3, w.sync_group_body("g-rb", gen + 1, jb["member_id"]))
        assert a.sync("g-rb", gen + 1, mid_a, [(mid_a, asg_a), (jb["member_id"], asg_b)]) == (0, asg_a)
        assert w.parse_sync_group(other.recv(pending_b), 3) == (0, asg_b)
        assert a.heartbeat("g-rb", gen + 1, mid_a) == 0
        assert a.heartbeat("g-rb", gen, mid_a) == w.ILLEGAL_GENERATION
    healthy(b, "sync during rebalance")


def test_offset_commit_to_unknown_topic_or_partition(broker):
    b = start(broker)
    with w.Client(b.port) as c:
        for version in (2, 5, 7):
            res = c.commit("g-unknown-topic", {"no-such-topic": [(0, 1, "")], "t": [(99, 1, ""), (1, 7, "")]},
                           version=version)
            assert res == {("no-such-topic", 0): w.UNKNOWN_TOPIC_OR_PARTITION, ("t", 99): w.UNKNOWN_TOPIC_OR_PARTITION,
                           ("t", 1): 0}, "OffsetCommit v%d: %r" % (version, res)
        assert c.fetch_offsets("g-unknown-topic", {"t": [1]})[1] == {("t", 1): (7, "", 0)}
    # The commit did not create the topic.
    with w.Conn(b.port) as conn:
        conn.send(w.request(w.METADATA, 1, 5, w.array([w.string("no-such-topic")])))
        r = conn.recv_response(10)
    assert r is not None
    healthy(b, "commit to unknown topic")


def test_oversized_and_lying_group_requests(broker):
    b = start(broker)
    big = 2 ** 31 - 1
    cases = [
        ("join-1MiB-metadata", w.JOIN_GROUP, 5,
         w.join_group_body("g-huge", "", protocols=(("range", b"\x00" * (1 << 20)),))),
        ("join-1MiB-metadata-v3", w.JOIN_GROUP, 3,
         w.join_group_body("g-huge3", "", protocols=(("range", b"\x01" * (1 << 20)),), version=3)),
        ("join-protocol-count-lies", w.JOIN_GROUP, 5,
         w.join_group_body("g-lie", "", protocols=("raw", w.i32(big) + w.string("range") + w.kbytes(b"x")))),
        ("join-metadata-length-lies", w.JOIN_GROUP, 5,
         w.join_group_body("g-lie2", "", protocols=("raw", w.i32(1) + w.string("range") + w.i32(1 << 30) + b"abc"))),
        ("join-negative-count", w.JOIN_GROUP, 5,
         w.join_group_body("g-lie3", "", protocols=("raw", w.i32(-5)))),
        ("sync-assignment-count-lies", w.SYNC_GROUP, 3,
         w.string("g-lie4") + w.i32(1) + w.string("m") + w.nullable_string(None) + w.i32(big)),
        ("commit-partition-count-lies", w.OFFSET_COMMIT, 2,
         w.string("g-lie5") + w.i32(-1) + w.string("") + w.i64(-1) + w.i32(1) + w.string("t") + w.i32(big)),
        ("fetch-topic-count-lies", w.OFFSET_FETCH, 3, w.string("g-lie6") + w.i32(big)),
        ("describe-count-lies", w.DESCRIBE_GROUPS, 3, w.i32(big) + w.string("x")),
        ("delete-groups-count-lies", w.DELETE_GROUPS, 1, w.i32(big)),
        ("commit-metadata-length-lies", w.OFFSET_COMMIT, 2,
         w.string("g-lie7") + w.i32(-1) + w.string("") + w.i64(-1) + w.i32(1) + w.string("t") + w.i32(1)
         + w.i32(0) + w.i64(1) + w.i16(32767) + b"ab"),
    ]
    for name, key, version, body in cases:
        with w.Conn(b.port, timeout=10) as conn:
            try:
                conn.send(w.request(key, version, 77, body))
            except (BrokenPipeError, ConnectionResetError):
                pass
            outcome = conn.outcome(10)
        assert outcome != "timeout", "%s: neither answered nor closed within 10 s" % name
        if isinstance(outcome, tuple):
            assert outcome[1] == 77, "%s: correlation id %d" % (name, outcome[1])
        b.assert_healthy(name)

    # Ten members with 1 MiB of metadata each, kept in the group: RSS stays bounded.
    clients = [w.Client(b.port, timeout=30) for _ in range(10)]
    try:
        for i, c in enumerate(clients):
            j = c.join("g-fat-%d" % i, "", protocols=(("range", bytes([i]) * (1 << 20)),))
            if j["error"] == w.MEMBER_ID_REQUIRED:
                j = c.join("g-fat-%d" % i, j["member_id"], protocols=(("range", bytes([i]) * (1 << 20)),))
            assert j["error"] in (0, w.INCONSISTENT_GROUP_PROTOCOL), j["error"]
        b.assert_healthy("ten 1 MiB members")
    finally:
        for c in clients:
            c.close()
    healthy(b, "oversized and lying requests")


def test_flood_of_first_joins_is_answered_and_bounded(broker):
    """20,000 pipelined first joins (each creating a pending member id) are all answered with
    MEMBER_ID_REQUIRED, in order; the broker stays within its RSS bound."""
    b = start(broker)
    n = 20000
    sub = (("range", w.consumer_subscription(["t"])),)
    with w.Client(b.port, timeout=60) as c:
        answers = []
        failure = []

        def reader():
            try:
                for corr in range(1, n + 1):
                    answers.append(w.parse_join_group(c.recv(corr, 60), 5))
            except Exception as e:  # noqa: BLE001 - reported below
                failure.append(e)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        batch = b""
        for i in range(1, n + 1):
            batch += w.request(w.JOIN_GROUP, 5, i, w.join_group_body("g-flood-%d" % (i % 50), "", protocols=sub),
                               client_id=c.client_id)
            if len(batch) > 1 << 16:
                c.conn.send(batch)
                batch = b""
        c.conn.send(batch)
        t.join(120)
        assert not t.is_alive(), "flood: only %d of %d answers within 120 s" % (len(answers), n)
        assert not failure, "flood: %r after %d answers" % (failure[0], len(answers))
        errors = {j["error"] for j in answers}
        assert errors == {w.MEMBER_ID_REQUIRED}, errors
        ids = {j["member_id"] for j in answers}
        assert len(ids) == n, "member ids handed out twice: %d distinct of %d" % (len(ids), n)
    healthy(b, "join flood")
