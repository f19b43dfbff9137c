"""`memorystreamer serve` as an operator meets it: help, settings from file/environment/flags,
refusals that name the problem, one broker per data directory, no log rescan after a clean stop."""
import os
import subprocess

from confluent_kafka import Producer

from clients import wait_for_topic
from conftest import broker_binary, free_port


def run_serve(args, env=None, timeout=20):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([str(broker_binary()), "serve"] + args, capture_output=True, text=True,
                          timeout=timeout, env=full_env, stdin=subprocess.DEVNULL)


def test_help_lists_every_setting_with_default_and_environment_variable():
    out = subprocess.run([str(broker_binary()), "serve", "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0
    for flag, default, env in [("--listen", "127.0.0.1:9092", "MEMORYSTREAMER_LISTEN"),
                               ("--data-dir", "./data", "MEMORYSTREAMER_DATA_DIR"),
                               ("--num-partitions", "1", "MEMORYSTREAMER_NUM_PARTITIONS"),
                               ("--socket-request-max-bytes", "104857600", "MEMORYSTREAMER_SOCKET_REQUEST_MAX_BYTES")]:
        start = out.stdout.find(flag + " ")
        assert start >= 0, "%s missing from --help:\n%s" % (flag, out.stdout)
        end = out.stdout.find("\n  --", start + 1)
        entry = " ".join(out.stdout[start:end if end > 0 else None].split())
        assert "[default: %s]" % default in entry, entry
        assert "[env: %s]" % env in entry, entry


def test_unknown_config_file_key_is_refused_naming_it(tmp_path):
    config = tmp_path / "broker.conf"
    config.write_text("listen = 127.0.0.1:%d\nnum.partitons = 3\n" % free_port())
    out = run_serve(["--config", str(config), "--data-dir", str(tmp_path / "data")])
    assert out.returncode == 2
    assert "num.partitons" in out.stderr and ":2:" in out.stderr, out.stderr


def test_bad_flag_value_is_refused_naming_the_key(tmp_path):
    out = run_serve(["--num-partitions", "zero", "--data-dir", str(tmp_path / "data")])
    assert out.returncode == 2
    assert "num.partitions" in out.stderr, out.stderr


def test_every_interface_without_advertise_is_refused(tmp_path):
    out = run_serve(["--listen", "0.0.0.0:%d" % free_port(), "--data-dir", str(tmp_path / "data")])
    assert out.returncode != 0
    assert "--advertise" in out.stderr, out.stderr


def test_settings_from_file_and_environment_apply(broker, tmp_path):
    config = tmp_path / "broker.conf"
    config.write_text("# from the file\nnum.partitions = 2\n")
    # The fixture passes no --num-partitions (None); the file says 2, the environment says 5:
    # the environment wins over the file.
    os.environ["MEMORYSTREAMER_NUM_PARTITIONS"] = "5"
    try:
        b = broker(num_partitions=None, extra_args=["--config", str(config)])
    finally:
        del os.environ["MEMORYSTREAMER_NUM_PARTITIONS"]
    wait_for_topic(b.bootstrap, "auto-created", 5)


def test_second_broker_on_the_same_data_dir_is_refused(broker):
    b = broker()
    out = run_serve(["--listen", "127.0.0.1:%d" % free_port(), "--data-dir", str(b.data_dir)])
    assert out.returncode != 0
    assert "in use by another running broker" in out.stderr, out.stderr
    b.assert_healthy("a second broker tried the same data directory")


def test_clean_stop_means_no_rescan_on_start(broker):
    b = broker(num_partitions=4)
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
    for i in range(2000):
        p.produce("kept", value=b"v%d" % i, partition=i % 4)
    assert p.flush(30) == 0
    b.stop()
    log_before = b.log_path.read_text()
    b.restart()
    wait_for_topic(b.bootstrap, "kept", 4)
    restart_log = b.log_path.read_text()[len(log_before):]
    # "kept" and the internal __consumer_offsets (16 partitions by default).
    assert "opened 2 topics, 20 partitions" in restart_log, restart_log
    assert "recovered" not in restart_log, restart_log


def test_configuration_doc_covers_every_setting_and_topic_config():
    """docs/configuration.md documents every key `serve --help` lists and every topic config."""
    import pathlib
    import re
    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    out = subprocess.run([str(broker_binary()), "serve", "--help"], capture_output=True, text=True, timeout=10)
    flags = set(re.findall(r"^\s+(--[a-z0-9-]+)", out.stdout, re.M)) - {"--help", "--config"}
    assert len(flags) > 30, out.stdout
    missing = sorted(f for f in flags if "| `%s` |" % f[2:].replace("-", ".") not in doc)
    assert not missing, "docs/configuration.md lacks %s" % missing
    for key in ("cleanup.policy", "compression.type", "delete.retention.ms", "max.message.bytes",
                "message.timestamp.type", "min.cleanable.dirty.ratio", "retention.bytes", "retention.ms",
                "segment.bytes", "segment.ms"):
        assert "| `%s` |" % key in doc, key
