// Agent runtime benchmark (issue 4): streaming latency the gateway adds, the
// control plane under load, lost events, and the store.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import WebSocket from 'ws';
import { fmt, percentile, rssBytes, sleep, startServer, table } from './lib.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TOKEN = 'bench-token-0123456789abcdef';
const CHUNKS = 200;
// 20 ms ≈ 50 tokens/s, a fast real model; BENCH_CHUNK_INTERVAL_MS=5 is the stress setting.
const INTERVAL_MS = Number(process.env.BENCH_CHUNK_INTERVAL_MS ?? 20);
const now = () => performance.timeOrigin + performance.now();
/** Chunks per answer left out of the latency figures (0 counts the run's start-up burst too). */
let SKIP = 0;

/** Reads one streamed answer straight from the stand-in; returns per-chunk latencies. */
function direct(port) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buffer += d;
        let i;
        while ((i = buffer.indexOf('\n\n')) !== -1) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (!line.startsWith('data: {')) continue;
          const content = JSON.parse(line.slice(6)).choices[0]?.delta?.content;
          if (content && latencies.length >= SKIP) latencies.push(now() - Number(content));
          else if (content) latencies.push(null);
        }
      });
      res.on('end', () => resolve(latencies));
    });
    req.on('error', reject);
    req.end('{"stream":true}');
  });
}

/** The same answer read by the official openai SDK in the bench process: the SDK's own share of the latency. */
async function viaSdk(port) {
  const client = new OpenAI({ apiKey: 'sk-bench', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'bench', messages: [{ role: 'user', content: 'x' }], stream: true });
  const latencies = [];
  for await (const chunk of stream) {
    const content = chunk.choices[0]?.delta?.content;
    if (!content) continue;
    latencies.push(latencies.length >= SKIP ? now() - Number(content) : null);
  }
  return latencies;
}

function connect(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, ['flynn.v1'], { headers: { Authorization: `Bearer ${TOKEN}` }, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** One agent.send over its own connection; returns per-delta latencies and whether every seq arrived in order. */
async function gatewayRun(port) {
  const ws = await connect(port);
  const latencies = [];
  let expectedSeq = 1;
  let inOrder = true;
  let deltas = 0;
  const done = new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const t = now();
      const msg = JSON.parse(data.toString());
      if (msg.method === 'agent.event') {
        if (msg.params.seq !== expectedSeq++) inOrder = false;
        if (msg.params.type === 'text.delta') {
          deltas++;
          latencies.push(deltas > SKIP ? t - Number(msg.params.text) : null);
        }
      } else if (msg.id === 1) {
        if (msg.error) reject(new Error(msg.error.message));
        else resolve(msg.result);
      }
    });
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent.send', params: { message: 'stream please' } }));
  const result = await done;
  ws.terminate();
  return { latencies, complete: inOrder && deltas === CHUNKS && result.stopReason === 'end', lastSeq: expectedSeq - 1 };
}

/** Sequential round trips of `method` until `until()` is true (at least `min`). */
async function controlPlane(port, method, params, until, min = 200) {
  const ws = await connect(port);
  const latencies = [];
  let id = 0;
  while (latencies.length < min || !until()) {
    const t0 = performance.now();
    await new Promise((resolve) => {
      ws.once('message', resolve);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }));
    });
    latencies.push(performance.now() - t0);
    if (latencies.length > 200_000) break;
  }
  ws.terminate();
  return latencies.sort((a, b) => a - b);
}

const sorted = (arrays) => arrays.flat().filter((v) => v !== null).sort((a, b) => a - b);

export async function benchAgent() {
  const standIn = await startServer([join(ROOT, 'bench/servers/openai-stand-in.js')], { env: { CHUNKS: String(CHUNKS), INTERVAL_MS: String(INTERVAL_MS) } });
  const dataDir = mkdtempSync(join(tmpdir(), 'flynn-bench-'));
  const flynn = await startServer(
    [join(ROOT, 'dist/cli/main.js'), 'gateway', '--port', '0', '--token', TOKEN, '--data-dir', dataDir, '--log-level', 'error'],
    { env: { FLYNN_MODEL: 'openai:bench', OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `http://127.0.0.1:${standIn.port}/v1` } },
  );
  try {
    console.log(`## Agent: added streaming latency (${CHUNKS} chunks per answer, one every ${INTERVAL_MS} ms)\n`);
    await gatewayRun(flynn.port); // warm-up: SDK import, JIT
    const rows = [];
    let lost = 0;
    let runsChecked = 0;
    const plan = process.env.BENCH_ONLY === 'single' ? [[1, 0]] : process.env.BENCH_ONLY === 'burst' ? [[100, 0]] : [[1, 0], [100, 0], [100, 20]];
    for (const [runs, skip] of plan) {
      SKIP = skip;
      // A single run is repeated five times so its p99 rests on 1,000 samples.
      const repeats = runs === 1 ? 5 : 1;
      const directLat = [];
      const sdkLat = [];
      const results = [];
      for (let r = 0; r < repeats; r++) {
        directLat.push(...(await Promise.all(Array.from({ length: runs }, () => direct(standIn.port)))));
        sdkLat.push(...(await Promise.all(Array.from({ length: runs }, () => viaSdk(standIn.port)))));
        results.push(...(await Promise.all(Array.from({ length: runs }, () => gatewayRun(flynn.port)))));
      }
      const viaLat = sorted(results.map((r) => r.latencies));
      const directSorted = sorted(directLat);
      const sdkSorted = sorted(sdkLat);
      lost += results.filter((r) => !r.complete).length;
      runsChecked += results.length;
      for (const p of [50, 99]) {
        const d = percentile(directSorted, p);
        const k = percentile(sdkSorted, p);
        const g = percentile(viaLat, p);
        rows.push([skip ? `${runs} (chunks > ${skip})` : runs, `p${p}`, fmt.ms(d), fmt.ms(k), fmt.ms(g), fmt.ms(g - d), fmt.ms(g - k), p === 99 ? (runs === 1 ? '< 1 ms' : '< 5 ms') : '']);
      }
    }
    table(
      ['concurrent runs', 'percentile', 'plain HTTP ms (limit)', 'openai SDK alone ms', 'through gateway ms', 'added vs HTTP ms', 'added vs SDK ms', 'target (vs HTTP)'],
      rows,
    );
    SKIP = 0;
    console.log(`No event lost: ${runsChecked - lost} of ${runsChecked} runs received every seq in order with all ${CHUNKS} deltas.\n`);

    if (process.env.BENCH_ONLY === 'single' || process.env.BENCH_ONLY === 'burst') return;
    console.log('## Agent: control plane round trips while 100 runs stream\n');
    const cpRows = [];
    for (const [method, params] of [
      ['system.health', {}],
      ['sessions.list', { limit: 50 }],
    ]) {
      const idle = await controlPlane(flynn.port, method, params, () => true, 2000);
      let streaming = true;
      const runs = Promise.all(Array.from({ length: 100 }, () => gatewayRun(flynn.port))).then((r) => {
        streaming = false;
        return r;
      });
      await sleep(50);
      const busy = await controlPlane(flynn.port, method, params, () => !streaming);
      const finished = await runs;
      lost += finished.filter((r) => !r.complete).length;
      cpRows.push([method, fmt.ms(percentile(idle, 50)), fmt.ms(percentile(idle, 99)), fmt.ms(percentile(busy, 50)), fmt.ms(percentile(busy, 99)), busy.length, '< 5 ms']);
    }
    table(['method', 'idle p50 ms', 'idle p99 ms', 'under 100 runs p50 ms', 'under 100 runs p99 ms', 'samples', 'target p99'], cpRows);
  } finally {
    await flynn.stop();
    await standIn.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Memory over many runs: a gateway's live heap and RSS after successive
 * batches of offline runs (50 clients at a time, each connecting, sending and
 * leaving). A leak shows as live-heap growth proportional to the runs made.
 */
export async function benchSoak() {
  const dataDir = mkdtempSync(join(tmpdir(), 'flynn-bench-'));
  // --trace-gc prints each collection to stdout; after a full one ("Mark-Compact
  // A (B) -> C (D) MB") C is the live heap, the figure a leak would grow.
  const flynn = await startServer(['--trace-gc', join(ROOT, 'dist/cli/main.js'), 'gateway', '--port', '0', '--token', TOKEN, '--data-dir', dataDir, '--log-level', 'error']);
  let liveHeapMb = NaN;
  flynn.child.stdout.on('data', (d) => {
    for (const m of String(d).matchAll(/Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(/g)) liveHeapMb = Number(m[1]);
  });
  const BATCHES = [1000, 5000, 5000, 5000];
  const rows = [];
  let done = 0;
  try {
    for (const runs of BATCHES) {
      for (let i = 0; i < runs; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            const ws = await connect(flynn.port);
            await new Promise((resolve) => {
              ws.on('message', (d) => JSON.parse(d.toString()).id === 1 && resolve());
              ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent.send', params: { message: 'hello' } }));
            });
            ws.terminate();
          }),
        );
      }
      done += runs;
      await sleep(2000); // let V8's idle-time collector settle
      rows.push([fmt.n(done), liveHeapMb.toFixed(1), (rssBytes(flynn.pid) / 2 ** 20).toFixed(1)]);
    }
  } finally {
    await flynn.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log('## Agent: memory over many runs (offline provider, a fresh connection per run)\n');
  table(['runs made', 'live heap after the last full GC (MB)', 'gateway RSS (MB)'], rows);
}

export async function benchStore() {
  const { openSqliteStore } = await import('../dist/sessions/sqlite-store.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'flynn-bench-'));
  const path = join(dataDir, 'flynn.db');
  const store = openSqliteStore({ path });
  const session = store.createSession('big');
  const batch = Array.from({ length: 1000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(20) }));
  for (let i = 0; i < 100; i++) store.appendMessages(session.id, batch);

  // A run's writes: one transaction per turn, a message or two each.
  const other = store.createSession('writes');
  const writes = [];
  for (let i = 0; i < 2000; i++) {
    const t0 = performance.now();
    store.appendMessages(other.id, [{ role: 'assistant', content: 'a streamed answer of modest length '.repeat(10) }]);
    writes.push(performance.now() - t0);
  }
  store.close();
  writes.sort((a, b) => a - b);

  const flynn = await startServer([join(ROOT, 'dist/cli/main.js'), 'gateway', '--port', '0', '--token', TOKEN, '--data-dir', dataDir, '--log-level', 'error']);
  try {
    const ws = await connect(flynn.port);
    // Seeding left this process with ~100 MB of garbage; collect it now so the
    // bench's own collector does not pause inside the measured round trips.
    global.gc?.();
    const pages = [];
    let before;
    let id = 0;
    for (let i = 0; i < 1000; i++) {
      const t0 = performance.now();
      const reply = await new Promise((resolve) => {
        ws.once('message', (d) => resolve(JSON.parse(d.toString())));
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'sessions.history', params: { sessionId: session.id, limit: 100, ...(before ? { before } : {}) } }));
      });
      pages.push(performance.now() - t0);
      before = reply.result.nextCursor;
      if (!before) break;
    }
    ws.terminate();
    pages.sort((a, b) => a - b);
    console.log('## Store (SQLite, WAL)\n');
    table(
      ['operation', 'samples', 'p50 ms', 'p99 ms', 'target'],
      [
        ['sessions.history page of 100 of 100,000 messages (gateway round trip)', pages.length, fmt.ms(percentile(pages, 50)), fmt.ms(percentile(pages, 99)), 'p99 < 2 ms'],
        ['one turn write (transaction, in process)', writes.length, fmt.ms(percentile(writes, 50)), fmt.ms(percentile(writes, 99)), '< 0.5 ms'],
      ],
    );
  } finally {
    await flynn.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
