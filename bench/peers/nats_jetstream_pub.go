// nats_jetstream_pub: the NATS JetStream peer row of bench/compare. Creates a stream with file
// storage, publishes N messages of B bytes with js.PublishAsync, waits for every ack and prints one
// JSON line (msg_per_s, mb_per_s). Not a test: it reports, it asserts nothing.
//
// Built offline in GOPATH mode against Debian's golang-github-nats-io-go-nats-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o build/peers/nats_jetstream_pub bench/peers/nats_jetstream_pub.go
//
// Usage: nats_jetstream_pub -url nats://127.0.0.1:4222 -messages 1000000 -size 100
package main

import (
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	url := flag.String("url", nats.DefaultURL, "server URL")
	messages := flag.Int("messages", 1000000, "messages to publish")
	size := flag.Int("size", 100, "payload bytes")
	maxPending := flag.Int("max-pending", 4096, "unacknowledged publishes in flight")
	stream := flag.String("stream", "BENCH", "stream name (created with file storage; replaced if it exists)")
	timeout := flag.Duration("timeout", 120*time.Second, "give up waiting for acks after this long")
	flag.Parse()

	nc, err := nats.Connect(*url, nats.Timeout(5*time.Second))
	if err != nil {
		fail("connect: %v", err)
	}
	defer nc.Close()

	var failed atomic.Int64
	js, err := nc.JetStream(
		nats.PublishAsyncMaxPending(*maxPending),
		nats.PublishAsyncErrHandler(func(_ nats.JetStream, _ *nats.Msg, _ error) { failed.Add(1) }),
	)
	if err != nil {
		fail("jetstream: %v", err)
	}
	_ = js.DeleteStream(*stream) // a fresh stream each run; "not found" is expected
	subject := "bench." + *stream
	if _, err := js.AddStream(&nats.StreamConfig{
		Name:     *stream,
		Subjects: []string{subject},
		Storage:  nats.FileStorage,
		Replicas: 1,
	}); err != nil {
		fail("add stream: %v", err)
	}

	payload := make([]byte, *size)
	for i := range payload {
		payload[i] = 'x'
	}
	start := time.Now()
	for i := 0; i < *messages; i++ {
		if _, err := js.PublishAsync(subject, payload); err != nil {
			fail("publish %d: %v", i, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(*timeout):
		fail("timed out with %d acks pending", js.PublishAsyncPending())
	}
	elapsed := time.Since(start).Seconds()

	acked := int64(*messages) - failed.Load()
	info, err := js.StreamInfo(*stream)
	stored := int64(-1)
	if err == nil {
		stored = int64(info.State.Msgs)
	}
	fmt.Printf("{\"mode\":\"jetstream_publish_async\",\"storage\":\"file\",\"messages\":%d,\"size\":%d,"+
		"\"failed\":%d,\"stored\":%d,\"seconds\":%.3f,\"msg_per_s\":%.0f,\"mb_per_s\":%.1f}\n",
		*messages, *size, failed.Load(), stored, elapsed, float64(acked)/elapsed,
		float64(acked)*float64(*size)/elapsed/1e6)
	if failed.Load() != 0 {
		os.Exit(1)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "nats_jetstream_pub: "+format+"\n", args...)
	os.Exit(1)
}
