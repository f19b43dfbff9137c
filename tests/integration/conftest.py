"""Fixtures for the MemoryStreamer integration tests.

`broker` is a factory: `b = broker(num_partitions=8)` starts
`memorystreamer serve` on a free port with a fresh data dir under tmp_path and
waits until the port accepts connections. The admin HTTP API listens on a port
the broker picks (`--admin-listen 127.0.0.1:0`, so brokers never collide on
9644); `b.admin_port()` reads it from the broker's log. Every broker a test started is killed
at teardown whatever happened; when a test fails, the tail of each broker's
stderr log is attached to the report.
"""

import os
import pathlib
import re
import resource
import signal
import socket
import subprocess
import time

import pytest

import kafka_wire

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / "build" / "release" / "src" / "cli" / "memorystreamer"

READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 20.0
RSS_LIMIT_KIB = 500 * 1024


def _raise_nofile_limit():
    """Children inherit this, so the broker can hold thousands of sockets too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 16384 if hard == resource.RLIM_INFINITY else min(hard, 16384)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


_raise_nofile_limit()


def broker_binary():
    return pathlib.Path(os.environ.get("MEMORYSTREAMER_BIN") or DEFAULT_BINARY)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerError(AssertionError):
    pass


class Broker:
    def __init__(self, binary, data_dir, log_path, port, smp, num_partitions, extra_args, name):
        self.binary = pathlib.Path(binary)
        self.data_dir = pathlib.Path(data_dir)
        self.log_path = pathlib.Path(log_path)
        self.port = port
        self.bootstrap = "127.0.0.1:%d" % port
        self.smp = smp
        self.num_partitions = num_partitions
        self.extra_args = list(extra_args)
        self.name = name
        self.proc = None
        self.starts = 0

    # -- lifecycle ---------------------------------------------------------

    def command(self):
        cmd = [str(self.binary), "serve",
               "--listen", self.bootstrap,
               "--advertise", self.bootstrap,
               "--data-dir", str(self.data_dir),
               "--smp", str(self.smp),
               "--log-level", "info"]
        if self.num_partitions is not None:
            cmd += ["--num-partitions", str(self.num_partitions)]
        if "--admin-listen" not in self.extra_args:
            cmd += ["--admin-listen", "127.0.0.1:0"]
        return cmd + self.extra_args

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            raise BrokerError("broker %s is already running (pid %d)" % (self.name, self.proc.pid))
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(("\n===== start #%d: %s\n" % (self.starts, " ".join(self.command()))).encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        last_err = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise BrokerError("broker %s exited with rc %s before accepting connections\n%s"
                                  % (self.name, rc, self.log_tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError as e:
                last_err = e
                time.sleep(0.05)
        raise BrokerError("broker %s did not accept connections on %s within %.0f s (last error: %s)\n%s"
                          % (self.name, self.bootstrap, READY_TIMEOUT_S, last_err, self.log_tail()))

    ADMIN_LINE = re.compile(r"admin HTTP API on \S+:(\d+) ")

    def admin_port(self, timeout=READY_TIMEOUT_S):
        """The admin HTTP port of the current run, from its start-up log line (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_path.read_text(errors="replace")
            current = text[text.rfind("\n===== start #"):]  # this run only: restarts pick new ports
            found = self.ADMIN_LINE.search(current)
            if found:
                return int(found.group(1))
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BrokerError("broker %s logged no admin HTTP port\n%s" % (self.name, self.log_tail()))
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        """Graceful shutdown; asserts the process exits with code 0."""
        assert self.proc is not None, "broker was never started"
        assert self.proc.poll() is None, (
            "broker %s already exited with rc %s\n%s" % (self.name, self.proc.returncode, self.log_tail()))
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise BrokerError("broker %s did not exit within %.0f s of %s\n%s"
                              % (self.name, timeout, signal.Signals(sig).name, self.log_tail()))
        if rc != 0:
            raise BrokerError("broker %s exited with rc %d after %s (expected 0)\n%s"
                              % (self.name, rc, signal.Signals(sig).name, self.log_tail()))
        return rc

    def kill(self):
        """SIGKILL and reap."""
        assert self.proc is not None, "broker was never started"
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def restart(self):
        """Start again on the same port and data dir (the previous process must be gone)."""
        if self.proc is not None and self.proc.poll() is None:
            raise BrokerError("restart(): broker %s is still running; stop() or kill() it first" % self.name)
        return self.start()

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                pass

    # -- observation -------------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise BrokerError("no VmRSS for pid %d" % self.proc.pid)

    def log_tail(self, lines=60):
        try:
            data = self.log_path.read_bytes()
        except OSError as e:
            return "(no broker log: %s)" % e
        text = data.decode("utf-8", "replace").splitlines()
        return "----- %s (last %d lines) -----\n%s" % (self.log_path, lines, "\n".join(text[-lines:]))

    def assert_healthy(self, what=""):
        """The process is alive, a fresh client is served, and RSS stays bounded."""
        ctx = (" after " + what) if what else ""
        assert self.alive(), "broker died%s (rc %s)\n%s" % (ctx, self.proc.returncode, self.log_tail())
        try:
            err, apis = kafka_wire.api_versions_roundtrip(self.port)
        except Exception as e:  # noqa: BLE001 - any failure here is the finding
            raise AssertionError("well-behaved ApiVersions v0 client not served%s: %r\n%s"
                                 % (ctx, e, self.log_tail()))
        assert err == 0, "ApiVersions v0 error %d%s" % (err, ctx)
        assert kafka_wire.API_VERSIONS in apis, "ApiVersions v0 response lacks ApiVersions%s: %r" % (ctx, apis)
        rss = self.rss_kib()
        assert rss < RSS_LIMIT_KIB, "broker RSS %d KiB exceeds %d KiB%s" % (rss, RSS_LIMIT_KIB, ctx)
        assert self.alive(), "broker died%s\n%s" % (ctx, self.log_tail())


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "WARNING: ThreadSanitizer")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for b in getattr(item, "_ms_brokers", []):
            rep.sections.append(("broker %s log tail" % b.name, b.log_tail()))


@pytest.fixture
def broker(request, tmp_path):
    """Factory: broker(num_partitions=1, smp=None, extra_args=()) -> started Broker."""
    binary = broker_binary()
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.fail("broker binary %s not found (set MEMORYSTREAMER_BIN or build the release preset)" % binary)
    brokers = []
    request.node._ms_brokers = brokers

    def start(num_partitions=1, smp=None, extra_args=()):
        idx = len(brokers)
        name = "b%d" % idx
        if smp is None:
            smp = int(os.environ.get("MS_IT_SMP", "2"))
        b = Broker(binary, tmp_path / ("data-" + name), tmp_path / ("broker-" + name + ".log"),
                   free_port(), smp, num_partitions, extra_args, name)
        brokers.append(b)
        return b.start()

    try:
        yield start
    finally:
        for b in brokers:
            b.cleanup()
    # Under sanitizers (MEMORYSTREAMER_BIN pointing at the asan build) a report in the broker's log
    # fails the test even when the client-visible behaviour looked right.
    for b in brokers:
        try:
            text = b.log_path.read_text(errors="replace")
        except OSError:
            continue
        for marker in SANITIZER_MARKERS:
            if marker in text:
                pytest.fail("sanitizer report in broker %s log (%s)\n%s" % (b.name, marker, b.log_tail(200)))
