"""The admin HTTP API (`serve --admin-listen`): /metrics in the Prometheus text format checked by
promtool and scraped by a real Prometheus server, counters that move by what clients did, the
/v1 JSON pages, refusals (404, 405, oversized heads), and a refused start when the port is taken."""
import json
import pathlib
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from confluent_kafka import Consumer, Producer

import kafka_wire
from clients import consume_all, group_consumer_config, producer_config, wait_for_topic, wait_until
from conftest import broker_binary, free_port

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"


# -- helpers -----------------------------------------------------------------------------------

def http(port, path, method="GET", timeout=10):
    """(status, headers, body text) of one request."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def raw_http(port, data, timeout=10):
    """Sends `data` on a fresh connection, returns everything the server sends before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")


LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset of (label, value)): float} of every sample; asserts each line parses."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)', line)
        assert m, "unparsable metrics line: %r" % line
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        key = (m.group(1), labels)
        assert key not in samples, "duplicate series %r" % (key,)
        samples[key] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in samples, "no sample %s%r; have e.g. %r" % (name, labels, [k for k in samples if k[0] == name][:5])
    return samples[key]


def scrape(port):
    status, headers, body = http(port, "/metrics")
    assert status == 200, (status, body)
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    return body, parse_metrics(body)


def check_histogram(samples, name, **labels):
    """Cumulative buckets never decrease and +Inf equals _count; returns _count."""
    buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in samples.items()
                      if k[0] == name + "_bucket" and {kv for kv in k[1] if kv[0] != "le"} == set(labels.items())),
                     key=lambda b: b[0])
    assert buckets, "no buckets for %s%r" % (name, labels)
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets of %s%r are not cumulative: %r" % (name, labels, buckets)
    assert buckets[-1][0] == float("inf")
    count = value(samples, name + "_count", **labels)
    assert buckets[-1][1] == count
    return count


# -- metrics -----------------------------------------------------------------------------------

def test_counters_move_by_what_clients_did(broker):
    b = broker(num_partitions=2)
    port = b.admin_port()
    wait_for_topic(b.bootstrap, "metered", 2)
    _, before = scrape(port)
    assert value(before, "memorystreamer_topic_produced_records_total", topic="metered") == 0

    n, size = 300, 100
    p = Producer(producer_config(b.bootstrap, **{"linger.ms": 20}))
    for i in range(n):
        p.produce("metered", value=b"x" * size, key=b"k%d" % i, partition=i % 2)
    assert p.flush(30) == 0
    got = consume_all(b.bootstrap, "metered", range(2))
    assert sum(len(messages) for messages in got.values()) == n

    _, after = scrape(port)
    produced_records = value(after, "memorystreamer_topic_produced_records_total", topic="metered")
    produced_bytes = value(after, "memorystreamer_topic_produced_bytes_total", topic="metered")
    fetched_records = value(after, "memorystreamer_topic_fetched_records_total", topic="metered")
    fetched_bytes = value(after, "memorystreamer_topic_fetched_bytes_total", topic="metered")
    assert produced_records == n
    # Record batches: the values plus keys, record and batch headers.
    assert n * size < produced_bytes < n * (size + 64) + 61 * n, produced_bytes
    # Nothing else is in the log, and the consumer read it all (at least once).
    assert value(after, "memorystreamer_topic_log_size_bytes", topic="metered") == produced_bytes
    assert fetched_records >= n and fetched_bytes >= produced_bytes, (fetched_records, fetched_bytes)
    assert value(after, "memorystreamer_topic_partitions", topic="metered") == 2
    assert value(after, "memorystreamer_topic_log_segments", topic="metered") == 2
    # 2 partitions of "metered" plus the 16 of __consumer_offsets.
    assert value(after, "memorystreamer_partitions") == 18

    # Every produce request was counted once and timed once; fetches too.
    produce_requests = value(after, "memorystreamer_kafka_requests_total", api="Produce") - \
        value(before, "memorystreamer_kafka_requests_total", api="Produce")
    assert 1 <= produce_requests <= n
    produce_timed = check_histogram(after, "memorystreamer_kafka_request_duration_seconds", api="Produce") - \
        check_histogram(before, "memorystreamer_kafka_request_duration_seconds", api="Produce")
    assert produce_timed == produce_requests
    assert value(after, "memorystreamer_kafka_requests_total", api="Fetch") >= 1
    assert value(after, "memorystreamer_kafka_request_errors_total", api="Produce") == 0
    # acks=all: every produce waited for at least one group commit.
    assert check_histogram(after, "memorystreamer_fsync_duration_seconds") >= 1
    assert value(after, "memorystreamer_kafka_connections") >= 1
    shards = [k for k in after if k[0] == "memorystreamer_shard_cpu_seconds_total"]
    assert len(shards) == b.smp


def test_refused_requests_count_as_errors(broker):
    b = broker()
    port = b.admin_port()
    _, before = scrape(port)
    for correlation_id in range(3):
        with kafka_wire.Conn(b.port) as c:  # Metadata v99 does not exist: the broker closes
            c.send(kafka_wire.request(kafka_wire.METADATA, 99, correlation_id))
            assert c.recv_response(10) is None
    _, after = scrape(port)
    for name in ("memorystreamer_kafka_request_errors_total", "memorystreamer_kafka_requests_total"):
        assert value(after, name, api="Metadata") - value(before, name, api="Metadata") == 3, name
    b.assert_healthy("refused requests")


def test_promtool_accepts_the_metrics(broker):
    assert pathlib.Path(PROMTOOL).is_file(), "promtool missing: run scripts/install-deps (Debian package prometheus)"
    b = broker(num_partitions=2)
    p = Producer(producer_config(b.bootstrap))
    p.produce("lint.me-please_1", value=b"v")
    assert p.flush(30) == 0
    text, _ = scrape(b.admin_port())
    out = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), \
        "promtool check metrics:\n%s%s" % (out.stdout, out.stderr)


def test_groups_and_rebalances_are_counted(broker):
    b = broker(num_partitions=1)
    port = b.admin_port()
    p = Producer(producer_config(b.bootstrap))
    p.produce("grouped", value=b"v")
    assert p.flush(30) == 0
    c = Consumer(group_consumer_config(b.bootstrap, "admin-readers"))
    try:
        c.subscribe(["grouped"])
        got = []
        wait_until(lambda: got.append(c.poll(0.5)) or any(m is not None and not m.error() for m in got),
                   30, "a message through the group")
        _, samples = scrape(port)
        assert value(samples, "memorystreamer_groups") >= 1
        assert value(samples, "memorystreamer_group_rebalances_total") >= 1
        status, headers, body = http(port, "/v1/groups")
        assert status == 200 and headers["Content-Type"] == "application/json"
        groups = {g["group_id"]: g for g in json.loads(body)["groups"]}
        assert groups["admin-readers"]["state"] == "Stable", groups
        assert groups["admin-readers"]["protocol_type"] == "consumer"
    finally:
        c.close()


# -- /v1 pages, refusals -----------------------------------------------------------------------

def test_json_pages(broker):
    b = broker(num_partitions=3)
    port = b.admin_port()
    wait_for_topic(b.bootstrap, "described", 3)

    status, _, body = http(port, "/v1/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, _, body = http(port, "/v1/ready")
    assert status == 200 and json.loads(body) == {"ready": True, "kafka_port": b.port}

    status, _, body = http(port, "/v1/topics")
    assert status == 200
    topics = {t["name"]: t for t in json.loads(body)["topics"]}
    assert topics["described"]["partitions"] == 3 and topics["described"]["internal"] is False
    assert len(topics["described"]["id"]) == 22
    assert topics["__consumer_offsets"]["internal"] is True
    assert topics["__consumer_offsets"]["configs"]["cleanup.policy"] == "compact"

    status, _, body = http(port, "/v1/config?format=json")  # a query string is ignored
    assert status == 200
    settings = {s["key"]: s for s in json.loads(body)["settings"]}
    assert settings["admin.listen"] == {**settings["admin.listen"], "value": "127.0.0.1:0",
                                        "default": "127.0.0.1:9644", "source": "flag"}
    assert settings["num.partitions"]["value"] == "3"
    assert settings["log.segment.bytes"]["source"] == "default" and settings["log.segment.bytes"]["help"]

    # HEAD: the headers of GET, no body.
    status, headers, body = http(port, "/v1/health", method="HEAD")
    assert status == 200 and body == "" and int(headers["Content-Length"]) > 0


def test_unknown_paths_wrong_methods_and_hostile_heads_are_refused(broker):
    b = broker()
    port = b.admin_port()
    assert http(port, "/")[0] == 404
    assert http(port, "/v1/nothing")[0] == 404
    status, headers, _ = http(port, "/metrics", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert http(port, "/v1/topics", method="DELETE")[0] == 405

    big = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 20000 + b"\r\n\r\n"
    assert raw_http(port, big).startswith("HTTP/1.1 431 ")
    assert raw_http(port, b"GET /metrics HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789").startswith("HTTP/1.1 413 ")
    assert raw_http(port, b"GARBAGE\r\n\r\n").startswith("HTTP/1.1 400 ")
    assert raw_http(port, b"GET /metrics HTTP/3.0\r\n\r\n").startswith("HTTP/1.1 505 ")

    # Many silent connections (more than the cap): the broker keeps serving Kafka clients, and once
    # they go the admin API answers again.
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(100)]
    try:
        b.assert_healthy("100 silent admin connections")
    finally:
        for s in silent:
            s.close()
    wait_until(lambda: _answers(port), 30, "the admin API answering after the silent connections closed")
    b.assert_healthy("hostile admin HTTP clients")


def _answers(port):
    try:
        return http(port, "/v1/health", timeout=2)[0] == 200
    except OSError:
        return False


def test_repeated_client_warnings_are_rate_limited(broker):
    """A client that provokes the same warning over and over (here: a negative frame size) gets a
    few lines per second logged, and the next line let through says how many were held back."""
    b = broker(smp=1)
    for _ in range(200):
        with socket.create_connection(("127.0.0.1", b.port), timeout=5) as s:
            s.sendall(b"\xff\xff\xff\xff")
    wait_until(lambda: b.log_path.read_text().count("frame size -1") >= 1, 20, "the first warning")

    def another_one_logged_with_count():
        # A fresh window opens at most a second after the burst; a line in it reports the rest.
        with socket.create_connection(("127.0.0.1", b.port), timeout=5) as s:
            s.sendall(b"\xff\xff\xff\xff")
        return "similar message" in b.log_path.read_text()

    wait_until(another_one_logged_with_count, 30, "a warning reporting suppressed ones", interval=0.5)
    text = b.log_path.read_text()
    assert text.count("frame size -1") < 200, "every one of 200 warnings was logged"
    suppressed = [int(n) for n in re.findall(r"suppressed (\d+) similar message", text)]
    assert suppressed and sum(suppressed) + text.count("frame size -1") >= 200, suppressed
    b.assert_healthy("200 bad frames")


# -- start-up ----------------------------------------------------------------------------------

def test_taken_admin_port_refuses_start_naming_the_setting(broker, tmp_path):
    b = broker()
    taken = b.admin_port()
    out = subprocess.run([str(broker_binary()), "serve", "--listen", "127.0.0.1:%d" % free_port(),
                          "--admin-listen", "127.0.0.1:%d" % taken, "--data-dir", str(tmp_path / "other")],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 1, out.stderr
    assert "admin.listen" in out.stderr and str(taken) in out.stderr, out.stderr
    b.assert_healthy("a second broker tried its admin port")


def test_admin_api_can_be_turned_off(broker):
    b = broker(extra_args=["--admin-listen", "off"])
    wait_until(lambda: "admin HTTP API off" in b.log_path.read_text(), 20, "the admin-off log line")
    b.assert_healthy("admin API off")


def test_bad_admin_listen_value_is_refused_naming_the_key(tmp_path):
    out = subprocess.run([str(broker_binary()), "serve", "--admin-listen", "nowhere", "--data-dir",
                          str(tmp_path / "data")], capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 2 and "admin.listen" in out.stderr, out.stderr


# -- a real Prometheus server ------------------------------------------------------------------

def test_prometheus_scrapes_the_broker(broker, tmp_path):
    assert pathlib.Path(PROMETHEUS).is_file(), "prometheus missing: run scripts/install-deps"
    b = broker()
    admin = b.admin_port()
    p = Producer(producer_config(b.bootstrap))
    for i in range(10):
        p.produce("scraped", value=b"v%d" % i)
    assert p.flush(30) == 0

    web = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                      "scrape_configs:\n  - job_name: memorystreamer\n"
                      "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % admin)
    log_path = tmp_path / "prometheus.log"
    with open(log_path, "wb") as log:
        prom = subprocess.Popen([PROMETHEUS, "--config.file", str(config), "--storage.tsdb.path",
                                 str(tmp_path / "tsdb"), "--web.listen-address", "127.0.0.1:%d" % web],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    try:
        query = urllib.parse.urlencode({"query": 'memorystreamer_topic_produced_records_total{topic="scraped"}'})
        found = []

        def scraped():
            try:
                status, _, body = http(web, "/api/v1/query?" + query, timeout=2)
            except OSError:
                return False
            if status != 200:
                return False
            result = json.loads(body)["data"]["result"]
            found[:] = result
            return bool(result)

        try:
            wait_until(scraped, 60, "Prometheus to return a scraped metric")
        except AssertionError:
            raise AssertionError("Prometheus never returned the metric; its log:\n%s"
                                 % log_path.read_text(errors="replace")[-3000:])
        assert found[0]["metric"]["job"] == "memorystreamer"
        assert float(found[0]["value"][1]) == 10
        # The target is healthy from Prometheus's side too.
        status, _, body = http(web, "/api/v1/targets")
        targets = json.loads(body)["data"]["activeTargets"]
        assert [t["health"] for t in targets] == ["up"], targets
    finally:
        prom.kill()
        prom.wait(30)
        shutil.rmtree(tmp_path / "tsdb", ignore_errors=True)
