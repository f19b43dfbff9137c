#!/usr/bin/env bash
# Refreshes tests/golden/frames/: runs capture_server and drives each real client against it.
# Needs: kcat, python3-confluent-kafka, python3-kafka (Debian), node + npm (kafkajs from npm).
# usage: tests/golden/capture.sh [BUILD_DIR]   (default build/release; builds capture_server)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
cmake --build "$build" --target capture_server >/dev/null
server="$build/tests/golden/capture_server"
frames=tests/golden/frames
py=/usr/bin/python3
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run_client() { # NAME COMMAND...
  local name=$1; shift
  local port=$((20000 + RANDOM % 20000))
  rm -rf "${frames:?}/$name"
  "$server" "$port" "$frames/$name" 2 &
  local pid=$!
  sleep 0.3
  echo "== $name on port $port"
  PORT=$port timeout 60 "$@" || echo "($name exited with $?)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "   $(ls "$frames/$name" | wc -l) frames"
}

kcat_flow() {
  local b=127.0.0.1:$PORT
  kcat -b "$b" -L -J >/dev/null
  printf 'k1:v1\nk2:v2\n' | kcat -b "$b" -P -t golden -K: -H h1=x -H h2=y
  printf 'a\nb\n' | kcat -b "$b" -P -t golden -z lz4
  kcat -b "$b" -C -t golden -p 0 -o beginning -c 4 -e -f '%k %s\n' >/dev/null
}

cat > "$work/confluent.py" <<'PY'
import os
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
b = "127.0.0.1:" + os.environ["PORT"]
admin = AdminClient({"bootstrap.servers": b})
for f in admin.create_topics([NewTopic("golden-admin", 1, 1)]).values():
    f.result()
for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
    p = Producer({"bootstrap.servers": b, "acks": "all", "compression.type": codec, "linger.ms": 5})
    for i in range(3):
        p.produce("golden", key=b"k%d" % i, value=b"v%d-%s" % (i, codec.encode()), headers=[("h", b"1")])
    p.flush(10)
c = Consumer({"bootstrap.servers": b, "group.id": "unused", "enable.auto.commit": False})
c.assign([TopicPartition("golden", 0, 0)])
for _ in range(5):
    c.poll(0.5)
c.offsets_for_times([TopicPartition("golden", 0, 0)], timeout=5)
c.close()
for f in admin.delete_topics(["golden-admin"]).values():
    f.result()
PY

cat > "$work/kafka_python.py" <<'PY'
import os
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
b = "127.0.0.1:" + os.environ["PORT"]
admin = KafkaAdminClient(bootstrap_servers=b)
admin.create_topics([NewTopic("golden-kp", 1, 1)])
p = KafkaProducer(bootstrap_servers=b, acks=1)
for i in range(3):
    p.send("golden", key=b"k%d" % i, value=b"v%d" % i, headers=[("h", b"1")])
p.flush()
c = KafkaConsumer(bootstrap_servers=b, consumer_timeout_ms=1500)
c.assign([TopicPartition("golden", 0)])
c.seek_to_beginning()
for _ in c:
    pass
admin.delete_topics(["golden-kp"])
PY

cat > "$work/kafkajs.js" <<'JS'
const { Kafka, logLevel } = require("kafkajs");
const kafka = new Kafka({ brokers: ["127.0.0.1:" + process.env.PORT], logLevel: logLevel.NOTHING });
(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "golden-js", numPartitions: 1 }] });
  await admin.fetchTopicMetadata({ topics: ["golden"] });
  await admin.fetchTopicOffsets("golden");
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: "golden", acks: -1, messages: [{ key: "k", value: "v", headers: { h: "1" } }] });
  await producer.disconnect();
  await admin.deleteTopics({ topics: ["golden-js"] });
  await admin.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
JS

export -f kcat_flow
run_client kcat bash -c kcat_flow
run_client confluent-kafka "$py" "$work/confluent.py"
run_client kafka-python "$py" "$work/kafka_python.py"
if command -v npm >/dev/null; then
  (cd "$work" && npm install --silent --no-audit --no-fund kafkajs@2.2.4 >/dev/null)
  run_client kafkajs env NODE_PATH="$work/node_modules" node "$work/kafkajs.js"
fi
