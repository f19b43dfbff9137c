"""Help, version and shell completion of the memorystreamer binary."""
import subprocess

import pytest

from cli import ms
from cli import cli_binary

COMMANDS = [["topic"], ["topic", "create"], ["topic", "list"], ["topic", "describe"], ["topic", "alter-config"],
            ["topic", "add-partitions"], ["topic", "delete"], ["produce"], ["consume"], ["group"],
            ["group", "list"], ["group", "describe"], ["group", "delete"], ["group", "seek"], ["cluster"],
            ["cluster", "info"], ["completion"]]


@pytest.mark.parametrize("command", COMMANDS, ids=["-".join(c) for c in COMMANDS])
def test_every_command_has_help_with_examples(command):
    out = ms(command + ["--help"])
    assert out.returncode == 0, out.stderr
    assert "Examples:" in out.stdout and "memorystreamer " + command[0] in out.stdout
    if command[-1] not in ("topic", "group", "cluster", "completion"):
        assert "--brokers" in out.stdout and "--timeout" in out.stdout


def completions(words):
    """What the generated bash completion offers for `memorystreamer WORDS...` (the last is being typed)."""
    line = " ".join(["memorystreamer"] + words)
    script = ('source <("%s" completion bash) && COMP_WORDS=(%s) && COMP_CWORD=%d && _memorystreamer && '
              'printf "%%s\\n" "${COMPREPLY[@]}"' % (cli_binary(), line if words[-1] else line + " ''",
                                                     len(words)))
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_bash_completion_registers_and_completes():
    out = subprocess.run(["bash", "-c", 'source <("%s" completion bash); complete -p memorystreamer'
                          % cli_binary()], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "-F _memorystreamer memorystreamer" in out.stdout
    assert completions([""]) >= {"serve", "bench", "topic", "produce", "consume", "group", "cluster", "completion"}
    assert completions(["topic", ""]) >= {"create", "list", "describe", "alter-config", "add-partitions", "delete"}
    assert completions(["topic", "cr"]) == {"create"}
    assert completions(["group", "s"]) == {"seek"}
    assert {"--brokers", "--partitions", "--config", "--dry-run"} <= completions(["topic", "create", "--"])
    assert {"--key-delim", "--header", "--compression", "--acks"} <= completions(["produce", "--"])
    assert completions(["consume", "--offset", ""]) == {"start", "end"}
    assert completions(["produce", "-z", ""]) == {"none", "gzip", "snappy", "lz4", "zstd"}
    assert completions(["topic", "ls", "--f"]) == {"--format"}  # aliases complete like their command


def test_completion_of_an_unknown_shell_is_a_usage_error():
    assert ms(["completion", "fish"]).returncode == 2
    assert ms(["completion"]).returncode == 2
