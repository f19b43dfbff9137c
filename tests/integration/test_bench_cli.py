"""`memorystreamer bench` against the real broker: what it reports is checked against what a real
client (librdkafka) then finds in the topic, and its refusals are checked for exit codes and words."""
import json
import subprocess

from clients import consume_all, watermarks
from conftest import broker_binary, free_port


def bench(args, timeout=120):
    return subprocess.run([str(broker_binary()), "bench"] + args, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def bench_json(args, timeout=120):
    out = bench(args + ["--format", "json", "--no-progress"], timeout)
    assert out.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (out.returncode, out.stdout, out.stderr)
    return json.loads(out.stdout)


def test_produce_reports_what_lands_in_the_topic(broker):
    b = broker()
    # 40 batches of 250 over 4 partitions, keyed, compressed: every record must be readable.
    result = bench_json(["produce", "--brokers", b.bootstrap, "--topic", "bp", "--partitions", "4",
                         "--producers", "2", "--batch", "250", "--size", "64", "--messages", "10000",
                         "--keys", "sequential", "--compression", "lz4", "--duration", "60"])
    assert result["command"] == "produce" and result["errors"] == 0
    assert result["messages"] == 10000
    assert result["bytes"] == 10000 * (64 + 12)  # 12-digit keys
    assert result["latency_us"]["count"] == 40
    lat = result["latency_us"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]
    assert result["settings"]["partitions"] == 4 and result["settings"]["compression"] == "lz4"

    got = consume_all(b.bootstrap, "bp", range(4))
    records = [m for msgs in got.values() for m in msgs]
    assert len(records) == 10000
    assert all(len(m.value()) == 64 and len(m.key()) == 12 for m in records)
    assert len({m.key() for m in records}) > 100  # keys vary within a batch pool
    b.assert_healthy("after bench produce")


def test_consume_reads_the_whole_topic_and_e2e_receives_every_message(broker):
    b = broker()
    bench_json(["produce", "--brokers", b.bootstrap, "--topic", "bc", "--partitions", "3", "--batch", "100",
                "--messages", "30000", "--size", "1000", "--acks", "all"])
    high = watermarks(b.bootstrap, "bc", range(3))
    assert sum(hi for _, hi in high.values()) == 30000
    consumed = bench_json(["consume", "--brokers", b.bootstrap, "--topic", "bc"])
    assert consumed["messages"] == 30000 and consumed["bytes"] == 30000 * 1000
    assert consumed["errors"] == 0 and consumed["latency_us"]["count"] >= 1
    # A message budget stops early (whole fetches are counted, so at least that many).
    part = bench_json(["consume", "--brokers", b.bootstrap, "--topic", "bc", "--messages", "5000"])
    assert 5000 <= part["messages"] <= 30000
    # Exactly the topic's count: every consumer stops once the budget is read, long before --duration.
    whole = bench_json(["consume", "--brokers", b.bootstrap, "--topic", "bc", "--messages", "30000",
                        "--duration", "30"])
    assert whole["messages"] == 30000 and whole["seconds"] < 10, whole

    e2e = bench_json(["e2e", "--brokers", b.bootstrap, "--topic", "be", "--rate", "2000", "--duration", "2"])
    assert e2e["errors"] == 0 and e2e["notes"] == []
    assert e2e["settings"]["sent"] >= 3000
    assert e2e["messages"] == e2e["settings"]["sent"] == e2e["latency_us"]["count"]
    assert 0 < e2e["latency_us"]["p50"] < 5_000_000
    b.assert_healthy("after bench consume/e2e")


def test_table_output_and_progress(broker):
    b = broker()
    out = bench(["produce", "--brokers", b.bootstrap, "--topic", "bt", "--duration", "1.5", "--batch", "100"])
    assert out.returncode == 0, out.stderr
    assert "throughput" in out.stdout and "msg/s" in out.stdout and "p99" in out.stdout
    assert "msg/s" in out.stderr  # one progress line per second when stderr is not a terminal


def test_refusals_have_exit_codes_and_say_what_to_do(broker):
    port = free_port()
    out = bench(["produce", "--brokers", "127.0.0.1:%d" % port, "--duration", "1", "--timeout", "2"])
    assert out.returncode == 1
    assert "cannot connect to 127.0.0.1:%d" % port in out.stderr and "--brokers" in out.stderr

    for args, words in [(["produce", "--acks", "2", "--duration", "1"], "--acks 2"),
                        (["produce", "--compression", "brotli", "--duration", "1"], "unknown compression"),
                        (["produce", "--duration", "0"], "give a duration or a message count"),
                        (["produce", "--brokers", "nohost"], "has no port"),
                        (["e2e", "--size", "8", "--duration", "1"], "--size must be at least 16"),
                        (["produce", "--partitions", "0"], "--partitions")]:
        b_args = args if "--brokers" in args else args + ["--brokers", "127.0.0.1:%d" % port]
        out = bench(b_args)
        assert out.returncode in (1, 2) and words in out.stderr, (args, out.returncode, out.stderr)
        assert out.returncode == 2 or "nohost" in " ".join(args), (args, out.returncode, out.stderr)

    b = broker()
    out = bench(["consume", "--brokers", b.bootstrap, "--topic", "nope"])
    assert out.returncode == 1 and "topic 'nope' does not exist" in out.stderr, out.stderr

    out = bench(["--help"])
    assert out.returncode == 0 and "produce" in out.stdout and "e2e" in out.stdout
