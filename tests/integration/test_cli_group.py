"""`memorystreamer consume --group` and `group list|describe|delete|seek` against the real broker."""
import json
import signal
import subprocess

from confluent_kafka import Consumer, Producer

from cli import failed, ms, ok, ok_json
from clients import group_consumer_config, wait_until
from cli import cli_binary


def setup_topic(b, topic, partitions, n):
    ok(["topic", "create", topic, "-p", partitions, "--brokers", b.bootstrap])
    p = Producer({"bootstrap.servers": b.bootstrap})
    for i in range(n):
        p.produce(topic, value="m%d" % i, partition=i % partitions, timestamp=1700000000000 + 1000 * i)
    assert p.flush(30) == 0


def offsets_of(b, group):
    [d] = ok_json(["group", "describe", group, "--brokers", b.bootstrap])
    return {(o["topic"], o["partition"]): o for o in d["offsets"]}, d


def test_group_consume_commits_what_it_printed_then_resumes(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    setup_topic(b, "gt", 1, 10)
    first = ok(["consume", "gt", "-g", "g1", "-n", "4", "-f", "%o\\n"] + br).stdout.split()
    assert first == ["0", "1", "2", "3"]
    offsets, d = offsets_of(b, "g1")
    assert d["state"] == "Empty" and d["members"] == []  # it left the group on exit
    assert offsets[("gt", 0)]["committed"] == 4 and offsets[("gt", 0)]["lag"] == 6
    assert offsets[("gt", 0)]["log_end"] == 10
    rest = ok(["consume", "gt", "-g", "g1", "-e", "-f", "%o\\n"] + br).stdout.split()
    assert rest == [str(i) for i in range(4, 10)]
    assert offsets_of(b, "g1")[0][("gt", 0)]["lag"] == 0
    # Nothing left: an immediate, empty end.
    assert ok(["consume", "gt", "-g", "g1", "-e"] + br).stdout == ""
    listed = {g["group"]: g for g in ok_json(["group", "list"] + br)}
    assert listed["g1"]["protocol_type"] == "consumer"
    text = ok(["group", "list"] + br).stdout
    assert "g1" in text and "GROUP" in text
    text = ok(["group", "describe", "g1"] + br).stdout
    assert "CURRENT-OFFSET" in text and "LAG" in text


def test_group_with_several_partitions_and_a_librdkafka_reader_of_the_commits(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    setup_topic(b, "gm", 3, 30)
    got = ok(["consume", "gm", "-g", "g2", "-e", "-f", "%p %o\\n"] + br).stdout.splitlines()
    assert len(got) == 30
    # librdkafka, joining the same group, finds everything committed: it reads nothing.
    c = Consumer(group_consumer_config(b.bootstrap, "g2"))
    try:
        c.subscribe(["gm"])
        msgs = []
        assigned = []

        def poll_once():
            m = c.poll(0.2)
            if m is not None and not m.error():
                msgs.append(m)
            assigned[:] = c.assignment()
            return len(assigned) == 3
        wait_until(poll_once, 30, "librdkafka assignment")
        committed = c.committed(assigned, timeout=10)
        assert sorted((tp.partition, tp.offset) for tp in committed) == [(0, 10), (1, 10), (2, 10)]
        assert msgs == []
    finally:
        c.close()


def test_sigint_leaves_the_group_and_commits(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    setup_topic(b, "gs", 1, 5)
    proc = subprocess.Popen([str(cli_binary()), "consume", "gs", "-g", "g3", "-f", "%o\\n"] + br,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        def committed_all():
            out = ms(["group", "describe", "g3", "--format", "json"] + br)
            if out.returncode != 0:
                return False  # the consumer has not joined yet: the group does not exist
            [d] = json.loads(out.stdout)
            offsets = {(o["topic"], o["partition"]): o for o in d["offsets"]}
            return d["state"] == "Stable" and offsets.get(("gs", 0), {}).get("committed") == 5
        wait_until(committed_all, 30, "the follower to join and commit")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert stdout.split() == ["0", "1", "2", "3", "4"]
    offsets, d = offsets_of(b, "g3")
    assert d["state"] == "Empty" and d["members"] == []
    assert offsets[("gs", 0)]["committed"] == 5


def test_seek_dry_run_then_real(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    setup_topic(b, "sk", 2, 20)  # 10 per partition, timestamps 1700000000000 + 1000*i
    ok(["consume", "sk", "-g", "g4", "-e"] + br)
    plan = ok_json(["group", "seek", "g4", "--topic", "sk", "--to", "start", "--dry-run"] + br)
    assert plan == {"group": "g4", "topic": "sk", "dry_run": True,
                    "partitions": [{"partition": 0, "current": 10, "new": 0},
                                   {"partition": 1, "current": 10, "new": 0}]}
    assert offsets_of(b, "g4")[0][("sk", 0)]["committed"] == 10  # the dry run changed nothing
    text = ok(["group", "seek", "g4", "--topic", "sk", "--to", "start", "--dry-run"] + br).stdout
    assert "NEW-OFFSET" in text and "Dry run" in text

    real = ok_json(["group", "seek", "g4", "--topic", "sk", "--to", "start"] + br)
    assert real["dry_run"] is False
    offsets = offsets_of(b, "g4")[0]
    assert offsets[("sk", 0)]["committed"] == 0 and offsets[("sk", 1)]["committed"] == 0
    assert len(ok(["consume", "sk", "-g", "g4", "-e"] + br).stdout.split()) == 20

    # An exact offset (clamped to the log), one partition only.
    ok(["group", "seek", "g4", "--topic", "sk", "--to", "3", "-p", "1"] + br)
    ok(["group", "seek", "g4", "--topic", "sk", "--to", "999", "-p", "0"] + br)
    offsets = offsets_of(b, "g4")[0]
    assert offsets[("sk", 0)]["committed"] == 10 and offsets[("sk", 1)]["committed"] == 3
    # A timestamp: record i has 1700000000000 + 1000*i and sits at offset i//2 of partition i%2.
    plan = ok_json(["group", "seek", "g4", "--topic", "sk", "--to", "@1700000009000"] + br)
    assert [(p["partition"], p["new"]) for p in plan["partitions"]] == [(0, 5), (1, 4)]  # i=10 and i=9
    # To the end.
    plan = ok_json(["group", "seek", "g4", "--topic", "sk", "--to", "end"] + br)
    assert [p["new"] for p in plan["partitions"]] == [10, 10]
    # A new group has no current offsets.
    plan = ok_json(["group", "seek", "fresh", "--topic", "sk", "--to", "start", "--dry-run"] + br)
    assert [p["current"] for p in plan["partitions"]] == [None, None]


def test_seek_refuses_a_group_with_members(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    setup_topic(b, "busy", 1, 3)
    c = Consumer(group_consumer_config(b.bootstrap, "g5"))
    try:
        c.subscribe(["busy"])
        wait_until(lambda: c.poll(0.2) is not None or len(c.assignment()) == 1, 30, "librdkafka to join")
        out = failed(["group", "seek", "g5", "--topic", "busy", "--to", "start"] + br)
        assert "empty" in out.stderr and "g5" in out.stderr
        out = failed(["group", "delete", "g5"] + br)
        assert "NON_EMPTY_GROUP" in out.stdout
        [d] = ok_json(["group", "describe", "g5"] + br)
        assert d["state"] == "Stable" and len(d["members"]) == 1
        assert d["members"][0]["assignment"] == {"busy": [0]}
    finally:
        c.close()


def test_group_delete_and_errors(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    setup_topic(b, "gd", 1, 3)
    ok(["consume", "gd", "-g", "g6", "-e"] + br)
    assert ok_json(["group", "delete", "g6"] + br) == [{"group": "g6", "error": None}]
    out = failed(["group", "describe", "g6"] + br)
    assert "does not exist" in out.stderr
    out = failed(["group", "delete", "never"] + br)
    assert "GROUP_ID_NOT_FOUND" in out.stdout
    out = failed(["group", "seek", "g6", "--topic", "nope", "--to", "start"] + br)
    assert "topic 'nope' does not exist" in out.stderr
    for args in (["group"], ["group", "seek", "g6", "--to", "start"], ["group", "seek", "g6", "--topic", "gd"],
                 ["group", "seek", "g6", "--topic", "gd", "--to", "later"], ["group", "describe"]):
        failed(args + br, code=2)


def test_two_cli_members_share_the_partitions(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    ok(["topic", "create", "two", "-p", "2"] + br)
    procs = []

    def start():
        procs.append(subprocess.Popen([str(cli_binary()), "consume", "two", "-g", "g7", "-f", "%p %o\\n"] + br,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      stdin=subprocess.DEVNULL))

    def members_with_one_partition_each():
        out = ms(["group", "describe", "g7", "--format", "json"] + br)
        if out.returncode != 0:
            return False
        [d] = json.loads(out.stdout)
        return d["state"] == "Stable" and len(d["members"]) == 2 and \
            sorted(len(m["assignment"].get("two", [])) for m in d["members"]) == [1, 1]
    try:
        start()
        start()
        wait_until(members_with_one_partition_each, 60, "two CLI members with a partition each")
        p = Producer({"bootstrap.servers": b.bootstrap})
        for i in range(20):
            p.produce("two", value="v%d" % i, partition=i % 2)
        assert p.flush(30) == 0

        def all_committed():
            out = ms(["group", "describe", "g7", "--format", "json"] + br)
            if out.returncode != 0:
                return False
            [d] = json.loads(out.stdout)
            return sorted((o["partition"], o["committed"]) for o in d["offsets"]) == [(0, 10), (1, 10)]
        wait_until(all_committed, 60, "both members to commit what they printed")
        outputs = []
        for proc in procs:
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=30)
            assert proc.returncode == 0, stderr
            outputs.append(sorted(tuple(map(int, line.split())) for line in stdout.splitlines()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # Each member printed one whole partition.
    assert sorted(outputs) == [[(0, i) for i in range(10)], [(1, i) for i in range(10)]]
