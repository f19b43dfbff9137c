"""kafkajs 2.2.4 (Node.js) against the broker: admin createTopics, acks=-1 produce
with keys, values and headers over explicit partitions (uncompressed and gzip),
then a byte-exact read-back of every partition from offset 0.

The client lives in tests/integration/kafkajs/ (package.json + package-lock.json
pin kafkajs 2.2.4); node_modules is installed with `npm ci` on first use. The
broker has no consumer groups, so produce_consume.js reads with kafkajs'
broker-level Fetch instead of a Consumer (see the comment at its top).
"""

import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

KAFKAJS_DIR = pathlib.Path(__file__).resolve().parent / "kafkajs"
SCRIPT = KAFKAJS_DIR / "produce_consume.js"
KAFKAJS_VERSION = "2.2.4"

MESSAGES = 300
PARTITIONS = 3
NPM_TIMEOUT_S = 180
SCRIPT_TIMEOUT_MS = 90_000           # the script's own watchdog
RUN_TIMEOUT_S = SCRIPT_TIMEOUT_MS / 1000 + 60

# npm failures that mean "no registry here", as opposed to a broken lockfile.
NETWORK_ERRORS = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|"
    r"ENOTCACHED|network|socket hang up|proxy|certificate|UNABLE_TO_GET_ISSUER", re.I)


def _node():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node (Node.js >= 14) is not installed; the kafkajs test needs it")
    out = subprocess.run([node, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30, text=True)
    m = re.match(r"v(\d+)\.", out.stdout.strip())
    if out.returncode != 0 or not m or int(m.group(1)) < 14:
        pytest.skip("kafkajs %s needs Node.js >= 14; `node --version` said %r"
                    % (KAFKAJS_VERSION, out.stdout.strip() or out.stderr.strip()))
    return node


def _installed_kafkajs_version():
    try:
        pkg = json.loads((KAFKAJS_DIR / "node_modules" / "kafkajs" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return pkg.get("version")


def _ensure_node_modules():
    """`npm ci` from the lockfile when node_modules is absent: offline (npm cache) first,
    then the registry. Skips only if npm is missing or the registry is unreachable."""
    if _installed_kafkajs_version() == KAFKAJS_VERSION:
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("%s/node_modules is missing and npm is not installed to create it"
                    % KAFKAJS_DIR.name)
    attempts = []
    for extra in (["--offline"], []):
        cmd = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"] + extra
        try:
            r = subprocess.run(cmd, cwd=KAFKAJS_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=NPM_TIMEOUT_S, text=True)
            attempts.append((cmd, r.returncode, r.stdout))
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            attempts.append((cmd, "timeout after %d s" % NPM_TIMEOUT_S, out + "\nnetwork timeout"))
            continue
        if r.returncode == 0 and _installed_kafkajs_version() == KAFKAJS_VERSION:
            return
    report = "\n".join("$ %s (cwd %s) -> %s\n%s" % (" ".join(c), KAFKAJS_DIR, rc, out[-3000:])
                       for c, rc, out in attempts)
    if NETWORK_ERRORS.search(attempts[-1][2]):
        pytest.skip("cannot install kafkajs %s: npm cannot reach the registry and it is not in the "
                    "npm cache (run `npm ci` in %s once with network access)\n%s"
                    % (KAFKAJS_VERSION, KAFKAJS_DIR, report))
    pytest.fail("npm ci failed in %s (not a network problem)\n%s" % (KAFKAJS_DIR, report))


def _run_script(node, bootstrap, topic, log_path, messages=MESSAGES, seed=None):
    env = dict(os.environ)
    env.setdefault("KAFKAJS_LOG_LEVEL", "DEBUG")  # goes to log_path, shown on failure
    env["KAFKAJS_IT_TIMEOUT_MS"] = str(SCRIPT_TIMEOUT_MS)
    env["KAFKAJS_NO_PARTITIONER_WARNING"] = "1"
    cmd = [node, str(SCRIPT), bootstrap, topic, str(messages)] + ([str(seed)] if seed is not None else [])
    with open(log_path, "wb") as log:
        try:
            r = subprocess.run(cmd, cwd=KAFKAJS_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=log, env=env, timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail("%s did not stop within %.0f s despite its own %d ms watchdog\n%s"
                        % (SCRIPT.name, RUN_TIMEOUT_S, SCRIPT_TIMEOUT_MS, _log_excerpt(log_path)))
    lines = r.stdout.decode("utf-8", "replace").strip().splitlines()
    summary = None
    if lines:
        try:
            summary = json.loads(lines[-1])
        except ValueError:
            pass
    return r.returncode, summary, lines


def _log_excerpt(log_path, tail=80):
    """The script's own lines (problems, stack) plus the last kafkajs debug lines."""
    try:
        text = pathlib.Path(log_path).read_text("utf-8", "replace").splitlines()
    except OSError as e:
        return "(no script log: %s)" % e
    own = [ln for ln in text if ln.startswith("[kafkajs-it")]
    return ("----- %s: script lines -----\n%s\n----- last %d lines -----\n%s"
            % (log_path, "\n".join(own[-40:]), tail, "\n".join(ln[:2000] for ln in text[-tail:])))


def test_kafkajs_produce_and_read_back(broker, tmp_path):
    node = _node()
    _ensure_node_modules()
    b = broker(num_partitions=PARTITIONS)
    topic = "kafkajs-roundtrip"
    log_path = tmp_path / "kafkajs.log"

    rc, s, stdout_lines = _run_script(node, b.bootstrap, topic, log_path)
    where = "\nsummary: %s\n%s" % (json.dumps(s, indent=1) if s else stdout_lines[-20:], _log_excerpt(log_path))
    assert s is not None, "no JSON summary on stdout (rc %s)%s" % (rc, where)
    assert rc == 0 and s["ok"], "kafkajs script exit code %s, problems: %s%s" % (rc, s.get("problems"), where)

    assert s["topic_created"] is True and s["topic_recreate_returned"] is False, where
    assert s["produced"] == MESSAGES, where
    assert s["produced_gzip"] > 0 and s["produced_none"] > 0, where
    assert s["produced_gzip"] + s["produced_none"] == MESSAGES, where
    per_part = {int(p): n for p, n in s["produced_per_partition"].items()}
    assert sorted(per_part) == list(range(PARTITIONS)) and all(n > 0 for n in per_part.values()), where
    assert sum(per_part.values()) == MESSAGES, where
    assert {int(p): n for p, n in s["high_watermarks"].items()} == per_part, where
    assert {int(p): n for p, n in s["low_watermarks"].items()} == {p: 0 for p in per_part}, where
    assert s["consumed"] == MESSAGES, where
    assert {int(p): n for p, n in s["consumed_per_partition"].items()} == per_part, where
    assert s["seek_reads_checked"] > 0 and s["offsets_by_timestamp_checked"] == PARTITIONS, where
    assert s["out_of_range_error"] == "OFFSET_OUT_OF_RANGE", where
    assert s["mismatches"] == 0 and s["problems"] == [], where

    b.assert_healthy("kafkajs produce/read-back")
