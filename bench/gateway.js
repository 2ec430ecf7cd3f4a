// Gateway core benchmark (issue 3): system.health round trips beside a bare
// ws echo server (the practical limit) and rpc-websockets (the peer), each
// server in its own process, measured in the same run; idle-connection
// memory; startup time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { cpuSeconds, fmt, median, percentile, rssBytes, sleep, startServer, table } from './lib.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TOKEN = 'bench-token-0123456789abcdef';
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE ?? 10_000);

function flynnArgs(dataDir) {
  return [join(ROOT, 'dist/cli/main.js'), 'gateway', '--port', '0', '--token', TOKEN, '--data-dir', dataDir, '--log-level', 'error'];
}

const SERVERS = {
  echo: { label: 'bare ws echo (limit)', args: () => [join(ROOT, 'bench/servers/echo.js')], headers: {} },
  flynn: { label: 'flynn', args: flynnArgs, headers: { Authorization: `Bearer ${TOKEN}` }, protocols: ['flynn.v1'] },
  rpcws: { label: 'rpc-websockets (peer)', args: () => [join(ROOT, 'bench/servers/rpc-websockets.js')], headers: {} },
};

function open(port, server, localAddress) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, server.protocols ?? [], {
    headers: server.headers,
    perMessageDeflate: false,
    ...(localAddress ? { localAddress } : {}),
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** Closed loop: each connection keeps one request in flight for `ms`. */
async function load(sockets, ms) {
  const latencies = [];
  let stop = false;
  let recording = false;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((resolve) => {
          let id = 0;
          let sent = 0;
          const send = () => {
            sent = performance.now();
            ws.send(`{"jsonrpc":"2.0","id":${++id},"method":"system.health"}`);
          };
          ws.on('message', (data) => {
            const msg = JSON.parse(data.toString());
            if (msg.id !== id || msg.result === undefined) throw new Error(`bad reply: ${data}`);
            if (recording) latencies.push(performance.now() - sent);
            if (stop) {
              ws.removeAllListeners('message');
              resolve();
            } else send();
          });
          send();
        }),
    ).concat(
      (async () => {
        await sleep(300); // warm-up
        recording = true;
        await sleep(ms);
        recording = false;
        stop = true;
      })(),
    ),
  );
  return latencies;
}

async function throughput(name, concurrency) {
  const server = SERVERS[name];
  const dataDir = mkdtempSync(join(tmpdir(), 'flynn-bench-'));
  const proc = await startServer(server.args(dataDir));
  try {
    const sockets = await Promise.all(Array.from({ length: concurrency }, () => open(proc.port, server)));
    const cpu0 = cpuSeconds(proc.pid);
    const t0 = performance.now();
    const latencies = await load(sockets, DURATION_MS);
    const elapsed = performance.now() - t0;
    const cpu = cpuSeconds(proc.pid) - cpu0;
    for (const ws of sockets) ws.terminate();
    latencies.sort((a, b) => a - b);
    // CPU covers the warm-up too, so divide by every round trip made in `elapsed`.
    const total = latencies.length * (elapsed / DURATION_MS);
    return { rps: latencies.length / (DURATION_MS / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuUs: (cpu / total) * 1e6 };
  } finally {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function idleMemory(name, localAddress) {
  const server = SERVERS[name];
  const dataDir = mkdtempSync(join(tmpdir(), 'flynn-bench-'));
  const proc = await startServer(server.args(dataDir), { env: { NODE_OPTIONS: '' } });
  const sockets = [];
  try {
    sockets.push(await open(proc.port, server, localAddress));
    await sleep(300);
    const before = rssBytes(proc.pid);
    const BATCH = 250;
    while (sockets.length < IDLE_CONNECTIONS + 1) {
      const n = Math.min(BATCH, IDLE_CONNECTIONS + 1 - sockets.length);
      sockets.push(...(await Promise.all(Array.from({ length: n }, () => open(proc.port, server, localAddress)))));
    }
    // Let V8's idle-time collector run, so garbage from the handshakes is not counted as held.
    await sleep(3000);
    const after = rssBytes(proc.pid);
    return { perConnection: (after - before) / IDLE_CONNECTIONS, total: after };
  } finally {
    for (const ws of sockets) ws.terminate();
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function startup(args) {
  const times = [];
  for (let i = 0; i < 7; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'flynn-bench-'));
    const t0 = performance.now();
    const proc = await startServer(args(dataDir));
    times.push(performance.now() - t0);
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return median(times);
}

export async function benchGateway() {
  if (process.env.BENCH_ONLY === 'idle') return benchIdle();
  if (process.env.BENCH_ONLY === 'startup') return benchStartup();
  if (process.env.BENCH_ONLY === 'rt') return benchRoundTrips();
  await benchRoundTrips();
  await benchIdle();
  await benchStartup();
}

async function benchRoundTrips() {
  console.log(`## Gateway core: system.health round trips (${ROUNDS} rounds × ${DURATION_MS} ms, best round per row)\n`);
  const rows = [];
  for (const concurrency of [1, 64]) {
    const best = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(SERVERS)) {
        const r = await throughput(name, concurrency);
        if (!best[name] || r.rps > best[name].rps) best[name] = r;
      }
    }
    for (const name of Object.keys(SERVERS)) {
      const r = best[name];
      rows.push([
        SERVERS[name].label,
        concurrency,
        fmt.n(r.rps),
        fmt.x(r.rps / best.echo.rps),
        name === 'flynn' ? fmt.x(r.rps / best.rpcws.rps) : '',
        fmt.ms(r.p50),
        fmt.ms(r.p99),
        fmt.us(r.cpuUs),
      ]);
    }
  }
  table(['server', 'connections', 'round trips/s', 'vs echo', 'vs peer', 'p50 ms', 'p99 ms', 'server CPU µs/rt'], rows);
}

async function benchIdle() {
  console.log(`## Gateway core: ${fmt.n(IDLE_CONNECTIONS)} idle authenticated connections\n`);
  const echoMem = await idleMemory('echo', '127.0.0.2');
  const flynnMem = await idleMemory('flynn', '127.0.0.3');
  table(
    ['server', 'RSS per connection (KB)', 'RSS total (MB)', 'vs echo'],
    [
      [SERVERS.echo.label, fmt.kb(echoMem.perConnection), (echoMem.total / 2 ** 20).toFixed(1), fmt.x(1)],
      [SERVERS.flynn.label, fmt.kb(flynnMem.perConnection), (flynnMem.total / 2 ** 20).toFixed(1), fmt.x(flynnMem.perConnection / echoMem.perConnection)],
    ],
  );

}

async function benchStartup() {
  console.log('## Gateway core: startup (process start → listening line, empty data dir, median of 7)\n');
  const flynnStart = await startup(flynnArgs);
  const echoStart = await startup(SERVERS.echo.args);
  table(
    ['server', 'startup ms', 'vs echo'],
    [
      [SERVERS.echo.label, fmt.ms(echoStart), fmt.x(1)],
      ['flynn (compiled JS)', fmt.ms(flynnStart), fmt.x(flynnStart / echoStart)],
    ],
  );
}
