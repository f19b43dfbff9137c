#!/usr/bin/env node
'use strict'

/*
 * kafkajs 2.2.4 against MemoryStreamer: admin createTopics, acks=-1 produce over
 * explicit partitions (uncompressed and gzip), then a byte-exact read-back of
 * every partition from offset 0.
 *
 *   node produce_consume.js BOOTSTRAP TOPIC [MESSAGES] [SEED]
 *
 * The broker has no consumer groups, and a kafkajs Consumer always joins one, so
 * reading goes one level down: the Kafka client's private cluster factory (the
 * one producer/consumer/admin use) gives a Cluster, whose Broker objects send
 * Fetch requests and return decoded records (offset, timestamp, key, value,
 * headers). Partitions, offsets and the fetch loop are driven here.
 *
 * stdout: one JSON summary line. stderr: progress, problems, kafkajs logs
 * (KAFKAJS_LOG_LEVEL=DEBUG|INFO|WARN|ERROR, default NOTHING).
 * Exit: 0 all checks passed, 1 a check failed, 2 exception, 3 watchdog timeout.
 */

const { Kafka, logLevel, CompressionTypes, Partitioners } = require('kafkajs')

const USAGE = 'usage: node produce_consume.js BOOTSTRAP TOPIC [MESSAGES] [SEED]'
const NUM_PARTITIONS = 3
const TOTAL_TIMEOUT_MS = Number(process.env.KAFKAJS_IT_TIMEOUT_MS || 90000)
const REQUEST_TIMEOUT_MS = 15000
const FETCH_MAX_WAIT_MS = 200
const FETCH_PARTITION_MAX_BYTES = 16 * 1024 // small on purpose: many fetch rounds, one batch > limit
const FETCH_STALL_LIMIT = 5
const BIG_VALUE_BYTES = 200 * 1024

const [bootstrap, topic, messagesArg, seedArg] = process.argv.slice(2)
if (!bootstrap || !topic) {
  process.stderr.write(USAGE + '\n')
  process.exit(2)
}
const TOTAL = messagesArg ? Number(messagesArg) : 300
const SEED = seedArg ? Number(seedArg) >>> 0 : 20240229
if (!Number.isInteger(TOTAL) || TOTAL < 10) {
  process.stderr.write(USAGE + ' (MESSAGES must be an integer >= 10)\n')
  process.exit(2)
}

const summary = {
  ok: false,
  bootstrap,
  topic,
  seed: SEED,
  partitions: NUM_PARTITIONS,
  topic_created: null,
  topic_recreate_returned: null,
  produced: 0,
  produced_gzip: 0,
  produced_none: 0,
  produce_requests: 0,
  produced_per_partition: {},
  high_watermarks: {},
  low_watermarks: {},
  consumed: 0,
  consumed_per_partition: {},
  fetch_requests: 0,
  seek_reads_checked: 0,
  offsets_by_timestamp_checked: 0,
  out_of_range_error: null,
  mismatches: 0,
  problems: [],
  phase: 'init',
  elapsed_ms: 0,
}
const startedAt = Date.now()
const MAX_LISTED_PROBLEMS = 50

function log(msg) {
  process.stderr.write(`[kafkajs-it ${((Date.now() - startedAt) / 1000).toFixed(2)}s] ${msg}\n`)
}

function problem(msg) {
  summary.mismatches += 1
  if (summary.problems.length < MAX_LISTED_PROBLEMS) summary.problems.push(msg)
  log('PROBLEM: ' + msg)
}

let finished = false
function finish(code) {
  if (finished) return
  finished = true
  summary.elapsed_ms = Date.now() - startedAt
  summary.ok = code === 0
  // stdout may be a pipe: exit only once the summary is flushed.
  process.stdout.write(JSON.stringify(summary) + '\n', () => process.exit(code))
  setTimeout(() => process.exit(code), 2000).unref()
}

const watchdog = setTimeout(() => {
  problem(`watchdog: not finished after ${TOTAL_TIMEOUT_MS} ms (phase ${summary.phase})`)
  finish(3)
}, TOTAL_TIMEOUT_MS)

// Bounds any single await, so a hung promise becomes a clear error, not a watchdog kill.
function within(ms, what, promise) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

// ---------------------------------------------------------------- test data

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rnd = mulberry32(SEED)
const randInt = n => Math.floor(rnd() * n)
function randBytes(n) {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = randInt(256)
  return b
}
// Every byte value, so nothing in the path may treat data as text.
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i))

/*
 * Message i. Expected bytes are kept as Buffers (null = absent key/value);
 * headers are a list of [key, Buffer] in wire order. Header keys are never
 * integer-like, because kafkajs decodes headers into a plain object and JS puts
 * integer-like keys first, which would reorder them.
 */
function makeMessage(i, baseTimestamp) {
  const partition = (i * 7 + randInt(2)) % NUM_PARTITIONS
  let key
  if (i % 17 === 5) key = null
  else if (i % 11 === 3) key = Buffer.alloc(0)
  else if (i % 5 === 0) key = Buffer.from(`ключ-${i}-ü-🔑`, 'utf8')
  else key = Buffer.concat([Buffer.from(`k${i}:`), randBytes(randInt(48))])

  let value
  if (i === 42 % TOTAL) value = Buffer.concat([Buffer.from(`big-${i}:`), randBytes(BIG_VALUE_BYTES)])
  else if (i % 29 === 7) value = null // tombstone
  else if (i % 23 === 4) value = Buffer.alloc(0)
  else if (i % 13 === 1) value = Buffer.concat([ALL_BYTES, Buffer.from(`#${i}`), ALL_BYTES])
  else value = Buffer.concat([Buffer.from(`value-${i}:`), randBytes(randInt(1500))])

  const headers = []
  if (i % 10 !== 9) {
    headers.push(['idx', Buffer.from(String(i))])
    if (i % 3 === 0) headers.push(['bin', randBytes(1 + randInt(40))])
    if (i % 4 === 1) headers.push(['empty', Buffer.alloc(0)])
    if (i % 6 === 2) headers.push(['dup', Buffer.from('first')], ['dup', Buffer.from('second')], ['dup', ALL_BYTES])
    if (i % 7 === 3) headers.push(['заголовок-ü', Buffer.from(`hv-${i}-✓`, 'utf8')])
  }
  return { i, partition, key, value, headers, timestamp: String(baseTimestamp + i) }
}

function toKafkajsHeaders(list) {
  const obj = {}
  for (const [k, v] of list) {
    if (obj[k] === undefined) obj[k] = v
    else if (Array.isArray(obj[k])) obj[k].push(v)
    else obj[k] = [obj[k], v]
  }
  return obj
}

function fromKafkajsHeaders(obj) {
  const list = []
  for (const k of Object.keys(obj || {})) {
    const v = obj[k]
    if (Array.isArray(v)) for (const x of v) list.push([k, x])
    else list.push([k, v])
  }
  return list
}

const show = b => (b === null || b === undefined ? String(b) : `${b.length}B:${b.toString('hex').slice(0, 40)}`)
// null (absent) and an empty buffer are different things on the wire.
const sameBytes = (a, b) => (a == null ? b == null : Buffer.isBuffer(b) && a.equals(b))

// ---------------------------------------------------------------- kafkajs plumbing

function kafkajsLogLevel() {
  const name = (process.env.KAFKAJS_LOG_LEVEL || 'NOTHING').toUpperCase()
  return name in logLevel ? logLevel[name] : logLevel.NOTHING
}

// kafkajs' default logger writes to stdout; keep stdout for the summary.
const stderrLogCreator = () => ({ namespace, label, log: entry }) => {
  const { message, ...rest } = entry
  process.stderr.write(`[kafkajs ${label}]${namespace ? ` [${namespace}]` : ''} ${message} ${JSON.stringify(rest)}\n`)
}

/*
 * kafkajs 2.2.4 keeps its cluster factory behind a module-private Symbol
 * ('private:Kafka:createCluster', src/index.js). It is looked up by description
 * so the cluster gets exactly the client's own connection settings.
 */
function createCluster(kafka) {
  const sym = Object.getOwnPropertySymbols(kafka).find(s => s.description === 'private:Kafka:createCluster')
  if (!sym || typeof kafka[sym] !== 'function') {
    throw new Error('kafkajs internals changed: no private:Kafka:createCluster on the client ' +
      '(this script is written against kafkajs 2.2.4)')
  }
  return kafka[sym]({
    allowAutoTopicCreation: false,
    metadataMaxAge: 300000,
    isolationLevel: 0, // READ_UNCOMMITTED: plain reads, no transactions involved
  })
}

async function leaderBroker(cluster, partition) {
  const leaders = cluster.findLeaderForPartitions(topic, [partition])
  const nodeIds = Object.keys(leaders)
  if (nodeIds.length !== 1) throw new Error(`no leader for ${topic}/${partition}: ${JSON.stringify(leaders)}`)
  return cluster.findBroker({ nodeId: nodeIds[0] })
}

async function fetchOnce(cluster, partition, fetchOffset, partitionMaxBytes) {
  const broker = await leaderBroker(cluster, partition)
  summary.fetch_requests += 1
  const res = await within(REQUEST_TIMEOUT_MS + FETCH_MAX_WAIT_MS, `fetch ${topic}/${partition}@${fetchOffset}`,
    broker.fetch({
      isolationLevel: 0,
      maxWaitTime: FETCH_MAX_WAIT_MS,
      minBytes: 1,
      maxBytes: 10 * 1024 * 1024,
      topics: [{ topic, partitions: [{ partition, fetchOffset: String(fetchOffset), maxBytes: partitionMaxBytes }] }],
    }))
  const t = (res.responses || []).find(r => r.topicName === topic)
  const p = t && t.partitions.find(x => x.partition === partition)
  if (!p) throw new Error(`fetch response lacks ${topic}/${partition}: ${JSON.stringify(res).slice(0, 500)}`)
  return p
}

// ---------------------------------------------------------------- phases

async function main() {
  const kafka = new Kafka({
    clientId: 'memorystreamer-kafkajs-it',
    brokers: [bootstrap],
    connectionTimeout: 5000,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: kafkajsLogLevel(),
    logCreator: stderrLogCreator,
  })
  const admin = kafka.admin()
  // No produce retries: a retried batch would be written twice and show up as a
  // duplicate; a failure should surface as itself. Every message names its
  // partition, so the partitioner is never consulted (naming one silences the
  // v2 partitioner warning).
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    retry: { retries: 0 },
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  const cluster = createCluster(kafka)

  try {
    summary.phase = 'connect'
    await within(REQUEST_TIMEOUT_MS, 'admin.connect', admin.connect())
    await within(REQUEST_TIMEOUT_MS, 'producer.connect', producer.connect())
    await within(REQUEST_TIMEOUT_MS, 'cluster.connect', cluster.connect())

    // ---- admin
    summary.phase = 'create_topics'
    summary.topic_created = await within(REQUEST_TIMEOUT_MS, 'createTopics', admin.createTopics({
      topics: [{ topic, numPartitions: NUM_PARTITIONS, replicationFactor: 1 }],
      timeout: 10000,
      waitForLeaders: true,
    }))
    if (summary.topic_created !== true) problem(`createTopics returned ${summary.topic_created}, expected true`)
    // A second create must say "already exists", which kafkajs reports as false.
    summary.topic_recreate_returned = await within(REQUEST_TIMEOUT_MS, 'createTopics (again)', admin.createTopics({
      topics: [{ topic, numPartitions: NUM_PARTITIONS, replicationFactor: 1 }],
      timeout: 10000,
    }))
    if (summary.topic_recreate_returned !== false) {
      problem(`second createTopics returned ${summary.topic_recreate_returned}, expected false (TOPIC_ALREADY_EXISTS)`)
    }
    const md = await within(REQUEST_TIMEOUT_MS, 'fetchTopicMetadata', admin.fetchTopicMetadata({ topics: [topic] }))
    const tmd = md.topics.find(t => t.name === topic)
    const ids = tmd ? tmd.partitions.map(p => p.partitionId).sort((a, b) => a - b) : []
    if (JSON.stringify(ids) !== JSON.stringify([...Array(NUM_PARTITIONS).keys()])) {
      problem(`metadata partitions ${JSON.stringify(ids)}, expected 0..${NUM_PARTITIONS - 1}`)
    }

    // ---- produce
    summary.phase = 'produce'
    const baseTimestamp = Date.now() - 60000
    const msgs = Array.from({ length: TOTAL }, (_, i) => makeMessage(i, baseTimestamp))
    const expected = new Map() // "p:offset" -> message
    const nextOffset = Array(NUM_PARTITIONS).fill(0)
    // Uneven chunk sizes (1 .. 100 messages per request), alternating none/gzip.
    const pattern = [1, 7, 50, 2, 90, 30, 20, 100]
    let pos = 0
    for (let c = 0; pos < TOTAL; c++) {
      const chunk = msgs.slice(pos, pos + pattern[c % pattern.length])
      pos += chunk.length
      const gzip = c % 2 === 1
      const res = await within(REQUEST_TIMEOUT_MS + 5000, `produce chunk ${c}`, producer.send({
        topic,
        acks: -1,
        timeout: 10000,
        compression: gzip ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: chunk.map(m => ({
          partition: m.partition,
          key: m.key,
          value: m.value,
          headers: toKafkajsHeaders(m.headers),
          timestamp: m.timestamp,
        })),
      }))
      summary.produce_requests += 1
      const byPartition = new Map()
      for (const m of chunk) {
        if (!byPartition.has(m.partition)) byPartition.set(m.partition, [])
        byPartition.get(m.partition).push(m)
      }
      for (const [p, list] of byPartition) {
        const meta = res.find(r => r.topicName === topic && r.partition === p)
        if (!meta) {
          problem(`produce chunk ${c}: no result for partition ${p} in ${JSON.stringify(res)}`)
          continue
        }
        if (meta.errorCode !== 0) problem(`produce chunk ${c} partition ${p}: errorCode ${meta.errorCode}`)
        const base = Number(meta.baseOffset)
        if (base !== nextOffset[p]) {
          problem(`produce chunk ${c} partition ${p}: baseOffset ${meta.baseOffset}, expected ${nextOffset[p]} (offsets not dense)`)
        }
        list.forEach((m, j) => expected.set(`${p}:${base + j}`, m))
        nextOffset[p] = base + list.length
      }
      if (res.length !== byPartition.size) {
        problem(`produce chunk ${c}: ${res.length} partition results for ${byPartition.size} partitions`)
      }
      summary.produced += chunk.length
      if (gzip) summary.produced_gzip += chunk.length
      else summary.produced_none += chunk.length
    }
    for (let p = 0; p < NUM_PARTITIONS; p++) {
      summary.produced_per_partition[p] = msgs.filter(m => m.partition === p).length
    }
    log(`produced ${summary.produced} in ${summary.produce_requests} requests: ${JSON.stringify(summary.produced_per_partition)}`)

    // ---- watermarks
    summary.phase = 'offsets'
    const offs = await within(REQUEST_TIMEOUT_MS, 'fetchTopicOffsets', admin.fetchTopicOffsets(topic))
    for (const o of offs) {
      summary.high_watermarks[o.partition] = Number(o.high)
      summary.low_watermarks[o.partition] = Number(o.low)
    }
    for (let p = 0; p < NUM_PARTITIONS; p++) {
      const want = summary.produced_per_partition[p]
      if (summary.high_watermarks[p] !== want) problem(`partition ${p}: high watermark ${summary.high_watermarks[p]}, expected ${want}`)
      if (summary.low_watermarks[p] !== 0) problem(`partition ${p}: low watermark ${summary.low_watermarks[p]}, expected 0`)
    }
    // Timestamp lookup before the first message: offset 0 everywhere.
    const byTs = await within(REQUEST_TIMEOUT_MS, 'fetchTopicOffsetsByTimestamp',
      admin.fetchTopicOffsetsByTimestamp(topic, baseTimestamp - 1000))
    for (const o of byTs) {
      summary.offsets_by_timestamp_checked += 1
      if (Number(o.offset) !== 0) problem(`partition ${o.partition}: offset for a timestamp before all messages is ${o.offset}, expected 0`)
    }

    // ---- read back everything
    summary.phase = 'consume'
    // The raw cluster learns the topic's leaders like a consumer would.
    await within(REQUEST_TIMEOUT_MS, 'cluster.addTargetTopic', cluster.addTargetTopic(topic))
    const consumed = new Map()
    for (let p = 0; p < NUM_PARTITIONS; p++) {
      const want = summary.produced_per_partition[p]
      let offset = 0
      let stalls = 0
      const got = []
      while (offset < want) {
        const pr = await fetchOnce(cluster, p, offset, FETCH_PARTITION_MAX_BYTES)
        if (Number(pr.highWatermark) !== want) problem(`fetch ${p}@${offset}: highWatermark ${pr.highWatermark}, expected ${want}`)
        // A fetch may start at the beginning of the batch holding `offset`.
        const fresh = pr.messages.filter(r => Number(r.offset) >= offset)
        if (fresh.length === 0) {
          stalls += 1
          if (stalls >= FETCH_STALL_LIMIT) {
            problem(`partition ${p}: fetch at offset ${offset} (partition maxBytes ${FETCH_PARTITION_MAX_BYTES}) ` +
              `returned no records ${stalls} times in a row below high watermark ${want} ` +
              `(${pr.messages.length} decoded records, all before the fetch offset)`)
            break
          }
          continue
        }
        stalls = 0
        for (const r of fresh) {
          got.push(r)
          if (Number(r.offset) !== offset) {
            problem(`partition ${p}: got offset ${r.offset} where ${offset} was next (gap or reorder)`)
          }
          offset = Number(r.offset) + 1
        }
      }
      // One more fetch at the end: empty and no error.
      const tail = await fetchOnce(cluster, p, want, FETCH_PARTITION_MAX_BYTES)
      if (tail.messages.length !== 0) problem(`partition ${p}: fetch at high watermark ${want} returned ${tail.messages.length} records`)
      summary.consumed_per_partition[p] = got.length
      summary.consumed += got.length
      consumed.set(p, got)
    }

    // ---- compare
    summary.phase = 'verify'
    const seen = new Set()
    for (const [p, got] of consumed) {
      for (const r of got) {
        const id = `${p}:${r.offset}`
        if (seen.has(id)) {
          problem(`partition ${p} offset ${r.offset}: delivered twice`)
          continue
        }
        seen.add(id)
        const m = expected.get(id)
        if (!m) {
          problem(`partition ${p} offset ${r.offset}: not produced by this run`)
          continue
        }
        const where = `partition ${p} offset ${r.offset} (message ${m.i})`
        if (r.isControlRecord) problem(`${where}: flagged as control record`)
        if (!sameBytes(m.key, r.key)) problem(`${where}: key ${show(r.key)}, expected ${show(m.key)}`)
        if (!sameBytes(m.value, r.value)) problem(`${where}: value ${show(r.value)}, expected ${show(m.value)}`)
        if (String(r.timestamp) !== m.timestamp) problem(`${where}: timestamp ${r.timestamp}, expected ${m.timestamp}`)
        const hs = fromKafkajsHeaders(r.headers)
        const hsOk = hs.length === m.headers.length &&
          hs.every(([k, v], j) => k === m.headers[j][0] && sameBytes(m.headers[j][1], v))
        if (!hsOk) {
          problem(`${where}: headers ${JSON.stringify(hs.map(([k, v]) => [k, show(v)]))}, ` +
            `expected ${JSON.stringify(m.headers.map(([k, v]) => [k, show(v)]))}`)
        }
      }
    }
    for (const id of expected.keys()) if (!seen.has(id)) problem(`${id}: produced and acknowledged, never read back`)

    // ---- fetches that start inside a batch (gzip batches hold up to 100 records)
    summary.phase = 'seek_reads'
    for (let p = 0; p < NUM_PARTITIONS; p++) {
      const want = summary.produced_per_partition[p]
      for (const offset of [1, Math.floor(want / 2), want - 1]) {
        if (offset <= 0 || offset >= want) continue
        const pr = await fetchOnce(cluster, p, offset, FETCH_PARTITION_MAX_BYTES)
        const first = pr.messages.find(r => Number(r.offset) >= offset)
        summary.seek_reads_checked += 1
        const m = expected.get(`${p}:${offset}`)
        if (!first || Number(first.offset) !== offset || !sameBytes(m.value, first.value) || !sameBytes(m.key, first.key)) {
          problem(`partition ${p}: fetch at ${offset} gave first record ${first ? first.offset : 'none'}, ` +
            `value ${first ? show(first.value) : '-'}, expected message ${m.i} ${show(m.value)}`)
        }
      }
    }

    // ---- beyond the end: OFFSET_OUT_OF_RANGE
    summary.phase = 'out_of_range'
    try {
      const pr = await fetchOnce(cluster, 0, summary.produced_per_partition[0] + 1000, FETCH_PARTITION_MAX_BYTES)
      summary.out_of_range_error = 'none'
      problem(`fetch far beyond the end of partition 0 succeeded with ${pr.messages.length} records, expected OFFSET_OUT_OF_RANGE`)
    } catch (e) {
      summary.out_of_range_error = e.type || e.name || String(e)
      if (e.type !== 'OFFSET_OUT_OF_RANGE') problem(`fetch beyond the end: ${e.type || ''} ${e.message}, expected OFFSET_OUT_OF_RANGE`)
    }

    summary.phase = 'done'
  } finally {
    const disconnects = [producer.disconnect(), admin.disconnect(), cluster.disconnect()]
    await within(10000, 'disconnect', Promise.allSettled(disconnects)).catch(e => log(String(e)))
  }
}

main().then(
  () => {
    clearTimeout(watchdog)
    if (summary.consumed !== summary.produced) problem(`consumed ${summary.consumed} of ${summary.produced}`)
    log(summary.mismatches === 0 ? 'all checks passed' : `${summary.mismatches} problem(s)`)
    finish(summary.mismatches === 0 ? 0 : 1)
  },
  e => {
    clearTimeout(watchdog)
    summary.error = `${e.name || 'Error'}${e.type ? ' ' + e.type : ''}: ${e.message}`
    problem(`exception in phase ${summary.phase}: ${summary.error}`)
    if (e.stack) log(e.stack)
    finish(2)
  }
)
