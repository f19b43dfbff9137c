"""`memorystreamer topic ...` and `cluster info` against the real broker: JSON parsed, tables read,
errors with exit codes and words."""
import json

from cli import failed, ok, ok_json
from conftest import free_port


def test_create_list_describe_delete(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    assert ok_json(["topic", "create", "orders", "-p", "3"] + br) == [{"name": "orders", "error": None}]
    assert ok_json(["topic", "create", "a1", "b1"] + br) == [{"name": "a1", "error": None},
                                                            {"name": "b1", "error": None}]
    listed = {t["name"]: t for t in ok_json(["topic", "list"] + br)}
    assert set(listed) >= {"orders", "a1", "b1"}
    assert listed["orders"]["partitions"] == 3 and listed["orders"]["replicas"] == 1
    assert listed["orders"]["internal"] is False

    table = ok(["topic", "list"] + br).stdout.splitlines()
    assert table[0].split() == ["NAME", "PARTITIONS", "REPLICAS"]
    assert ["orders", "3", "1"] in [line.split() for line in table[1:]]

    [d] = ok_json(["topic", "describe", "orders"] + br)
    assert d["name"] == "orders"
    assert [p["partition"] for p in d["partitions"]] == [0, 1, 2]
    assert all(p["leader"] >= 0 and p["high_watermark"] == 0 and p["log_start_offset"] == 0
               for p in d["partitions"])
    text = ok(["topic", "describe", "orders"] + br).stdout
    assert "PARTITIONS" in text and "HIGH-WATERMARK" in text

    assert ok_json(["topic", "delete", "orders", "a1"] + br) == [{"name": "orders", "error": None},
                                                                {"name": "a1", "error": None}]
    names = [t["name"] for t in ok_json(["topic", "list"] + br)]
    assert "orders" not in names and "a1" not in names and "b1" in names
    out = failed(["topic", "describe", "orders"] + br)
    assert "UNKNOWN_TOPIC_OR_PARTITION" in out.stderr
    b.assert_healthy("after topic commands")


def test_broker_refusals_exit_1_with_the_kafka_error(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    ok(["topic", "create", "dup"] + br)
    out = failed(["topic", "create", "dup", "--format", "json"] + br)
    [res] = json.loads(out.stdout)
    assert res["name"] == "dup" and "TOPIC_ALREADY_EXISTS" in res["error"]
    out = failed(["topic", "delete", "never-was"] + br)
    assert "UNKNOWN_TOPIC_OR_PARTITION" in out.stdout
    out = failed(["topic", "create", "bad name!"] + br)
    assert "INVALID_TOPIC_EXCEPTION" in out.stdout
    # --dry-run validates without creating.
    assert ok_json(["topic", "create", "dry", "--dry-run"] + br) == [{"name": "dry", "error": None}]
    assert "dry" not in [t["name"] for t in ok_json(["topic", "list"] + br)]


def test_unreachable_broker_exits_1_and_names_it():
    port = free_port()
    for args in (["topic", "list"], ["cluster", "info"], ["group", "list"], ["consume", "t", "-e"],
                 ["topic", "create", "x"]):
        out = failed(args + ["--brokers", "127.0.0.1:%d" % port, "--timeout", "2"])
        assert "cannot connect to 127.0.0.1:%d" % port in out.stderr, out.stderr
    out = failed(["produce", "t", "--brokers", "127.0.0.1:%d" % port, "--timeout", "2"], input="x\n")
    assert "127.0.0.1:%d" % port in out.stderr


def test_bad_command_lines_exit_2(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    for args in (["topic"], ["topic", "create"] + br, ["topic", "create", "x", "-p", "abc"] + br,
                 ["topic", "create", "x", "--no-such-flag"] + br, ["topic", "list", "--format", "yaml"] + br,
                 ["topic", "create", "x", "-c", "novalue"] + br, ["topic", "alter-config", "x"] + br,
                 ["topic", "add-partitions", "x"] + br, ["topic", "list", "--brokers", "nonsense"],
                 ["topic", "list", "--brokers", "host:99999"], ["nonsense-command"],
                 ["topic", "add-partitions", "x", "--num", "1", "--total", "3"] + br):
        out = failed(args, code=2)
        assert out.stderr.strip(), args
    # Nothing was created by the refused commands.
    assert "x" not in [t["name"] for t in ok_json(["topic", "list"] + br)]


def test_brokers_from_the_environment(broker):
    import os
    import subprocess
    from cli import cli_binary
    b = broker()
    env = dict(os.environ, MEMORYSTREAMER_BROKERS=b.bootstrap)
    out = subprocess.run([str(cli_binary()), "topic", "create", "envtopic"], capture_output=True, text=True,
                         env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert "envtopic" in [t["name"] for t in ok_json(["topic", "list", "--brokers", b.bootstrap])]


def test_cluster_info(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    ok(["topic", "create", "c1", "c2"] + br)
    info = ok_json(["cluster", "info"] + br)
    assert info["topics"] == len(ok_json(["topic", "list"] + br)) >= 2
    assert [(x["host"], x["port"]) for x in info["brokers"]] == [("127.0.0.1", b.port)]
    assert info["controller"] == info["brokers"][0]["id"]
    assert info["source"] == "DescribeCluster"  # the Metadata fallback: src/client/tests/topic_admin_test.cc
    text = ok(["cluster", "info"] + br).stdout
    assert "CONTROLLER" in text and str(b.port) in text


def test_alter_and_describe_configs(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    ok(["topic", "create", "cfg", "-c", "retention.ms=3600000"] + br)
    [d] = ok_json(["topic", "describe", "cfg", "-c"] + br)
    configs = {c["name"]: c for c in d["configs"]}
    assert configs["retention.ms"]["value"] == "3600000"
    assert configs["retention.ms"]["source"] == "DYNAMIC_TOPIC_CONFIG"
    assert configs["cleanup.policy"]["source"] in ("DEFAULT_CONFIG", "STATIC_BROKER_CONFIG")

    assert ok_json(["topic", "alter-config", "cfg", "--set", "cleanup.policy=compact",
                    "--delete", "retention.ms"] + br) == [{"name": "cfg", "error": None}]
    [d] = ok_json(["topic", "describe", "cfg", "-c"] + br)
    configs = {c["name"]: c for c in d["configs"]}
    assert configs["cleanup.policy"]["value"] == "compact"
    assert configs["cleanup.policy"]["source"] == "DYNAMIC_TOPIC_CONFIG"
    assert configs["retention.ms"]["source"] != "DYNAMIC_TOPIC_CONFIG"
    text = ok(["topic", "describe", "cfg", "-c"] + br).stdout
    assert "cleanup.policy" in text and "compact" in text and "DYNAMIC_TOPIC_CONFIG" in text

    out = failed(["topic", "alter-config", "cfg", "--set", "no.such.config=1", "--format", "json"] + br)
    [res] = json.loads(out.stdout)
    assert res["error"] and "INVALID_CONFIG" in res["error"]
    out = failed(["topic", "alter-config", "missing", "--set", "retention.ms=1"] + br)
    assert "UNKNOWN_TOPIC_OR_PARTITION" in out.stdout


def test_add_partitions(broker):
    b = broker()
    br = ["--brokers", b.bootstrap]
    ok(["topic", "create", "grow", "-p", "2"] + br)
    assert ok_json(["topic", "add-partitions", "grow", "--num", "2"] + br) == [{"name": "grow", "error": None}]
    [d] = ok_json(["topic", "describe", "grow"] + br)
    assert [p["partition"] for p in d["partitions"]] == [0, 1, 2, 3]
    assert ok_json(["topic", "add-partitions", "grow", "--total", "6", "--dry-run"] + br)[0]["error"] is None
    assert len(ok_json(["topic", "describe", "grow"] + br)[0]["partitions"]) == 4
    out = failed(["topic", "add-partitions", "grow", "--total", "3", "--format", "json"] + br)
    assert "INVALID_PARTITIONS" in json.loads(out.stdout)[0]["error"]
    out = failed(["topic", "add-partitions", "missing", "--total", "3"] + br)
    assert "missing" in out.stdout + out.stderr
