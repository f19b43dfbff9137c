"""Running `memorystreamer` client commands from the integration tests."""
import json
import subprocess

import kafka_wire
from conftest import broker_binary


def ms(args, input=None, timeout=60, env=None):
    """Runs `memorystreamer ARGS`; returns the CompletedProcess (text mode)."""
    return subprocess.run([str(broker_binary())] + [str(a) for a in args], input=input, capture_output=True,
                          text=True, timeout=timeout, env=env,
                          stdin=None if input is not None else subprocess.DEVNULL)


def ok(args, input=None, timeout=60):
    out = ms(args, input=input, timeout=timeout)
    assert out.returncode == 0, "memorystreamer %s: exit %d\nstdout:\n%s\nstderr:\n%s" % (
        " ".join(map(str, args)), out.returncode, out.stdout, out.stderr)
    return out


def ok_json(args, input=None, timeout=60):
    """Runs with --format json and returns the parsed document."""
    return json.loads(ok(list(args) + ["--format", "json"], input=input, timeout=timeout).stdout)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line]


def failed(args, code=1, input=None, timeout=60):
    out = ms(args, input=input, timeout=timeout)
    assert out.returncode == code, "memorystreamer %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s" % (
        " ".join(map(str, args)), out.returncode, code, out.stdout, out.stderr)
    return out


def advertises(broker, api_key):
    err, apis = kafka_wire.api_versions_roundtrip(broker.port)
    assert err == 0
    return api_key in apis
