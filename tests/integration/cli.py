"""Running `memorystreamer` client commands from the integration tests."""
import json
import os
import pathlib
import subprocess

from conftest import broker_binary


def cli_binary():
    """The client binary: MEMORYSTREAMER_CLI_BIN when set (to drive another build's broker), else the
    broker binary."""
    return pathlib.Path(os.environ.get("MEMORYSTREAMER_CLI_BIN") or broker_binary())


def ms(args, input=None, timeout=60, env=None):
    """Runs `memorystreamer ARGS`; returns the CompletedProcess (text mode)."""
    return subprocess.run([str(cli_binary())] + [str(a) for a in args], input=input, capture_output=True,
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
