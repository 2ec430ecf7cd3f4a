/** Test helpers: real gateways on port 0, real `ws` clients, a tiny JSON-RPC client. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import WebSocket, { type ClientOptions } from 'ws';
import { createGateway, DEFAULT_LIMITS, type Gateway, type GatewayOptions } from '../src/gateway/server.js';
import type { MethodDef, MethodTable } from '../src/methods/types.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const silentLogger = pino({ level: 'silent' });

export interface TestGateway {
  readonly gateway: Gateway;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startGateway(
  methods: MethodTable | Record<string, MethodDef>,
  options: Partial<GatewayOptions> = {},
  logger: Logger = silentLogger,
): Promise<TestGateway> {
  const gateway = createGateway({
    options: {
      host: '127.0.0.1',
      port: 0,
      auth: { token: TOKEN, trustTailscale: false, allowUsers: [], allowOrigins: [] },
      ...DEFAULT_LIMITS,
      ...options,
    },
    methods: methods instanceof Map ? methods : new Map(Object.entries(methods)),
    logger,
  });
  const address = await gateway.listen();
  return {
    gateway,
    url: `ws://127.0.0.1:${address.port}`,
    port: address.port,
    close: () => gateway.close(200),
  };
}

/** Opens a socket; resolves when open, rejects with the HTTP status of a refused upgrade. */
export function connect(
  url: string,
  opts: { token?: string | null; protocols?: string[]; headers?: Record<string, string> } & ClientOptions = {},
): Promise<WebSocket> {
  const { token = TOKEN, protocols = ['flynn.v1'], headers = {}, ...rest } = opts;
  const allHeaders = { ...headers };
  if (token !== null) allHeaders.Authorization = `Bearer ${token}`;
  const ws = new WebSocket(url, protocols, { headers: allHeaders, ...rest });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      const error = Object.assign(new Error(`HTTP ${res.statusCode}`), {
        status: res.statusCode,
        headers: res.headers,
      });
      res.resume();
      reject(error);
    });
    ws.once('error', reject);
  });
}

/** The HTTP status a refused upgrade got (fails the test if the socket opened). */
export async function upgradeStatus(
  url: string,
  opts: Parameters<typeof connect>[1] = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  try {
    const ws = await connect(url, opts);
    ws.terminate();
    throw new Error('upgrade was accepted');
  } catch (error) {
    const e = error as { status?: number; headers?: Record<string, string | string[] | undefined> };
    if (e.status === undefined) throw error;
    return { status: e.status, headers: e.headers ?? {} };
  }
}

/** Resolves with the close code once the socket closes. */
export function closed(ws: WebSocket): Promise<number> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(-1);
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

/** The next frame, parsed. */
export function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData): void => {
      ws.off('close', onClose);
      resolve(JSON.parse(data.toString()));
    };
    const onClose = (code: number): void => {
      ws.off('message', onMessage);
      reject(new Error(`closed with ${code} before a message arrived`));
    };
    ws.once('message', onMessage);
    ws.once('close', onClose);
  });
}

export interface RpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export interface Notification {
  jsonrpc: '2.0';
  method: string;
  params: Record<string, unknown>;
}

/** A minimal JSON-RPC client over a real socket: matches responses by id, keeps notifications. */
export class RpcClient {
  readonly notifications: Notification[] = [];
  #nextId = 1;
  readonly #pending = new Map<string | number, (r: RpcResponse) => void>();
  readonly #waiters: { test: (n: Notification) => boolean; resolve: (n: Notification) => void }[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as RpcResponse | Notification;
      if ('method' in msg) {
        this.notifications.push(msg);
        for (let i = this.#waiters.length - 1; i >= 0; i--) {
          const w = this.#waiters[i]!;
          if (w.test(msg)) {
            this.#waiters.splice(i, 1);
            w.resolve(msg);
          }
        }
        return;
      }
      if (msg.id !== null) this.#pending.get(msg.id)?.(msg);
      if (msg.id !== null) this.#pending.delete(msg.id);
    });
  }

  static async open(url: string, opts?: Parameters<typeof connect>[1]): Promise<RpcClient> {
    return new RpcClient(await connect(url, opts));
  }

  /** Sends a request and resolves with the whole response (result or error). */
  request(method: string, params?: unknown): Promise<RpcResponse> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, resolve);
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }), (err) => {
        if (err) reject(err);
      });
    });
  }

  /** Sends a request and resolves with its result; rejects with the error object. */
  async call<T = Record<string, unknown>>(method: string, params?: unknown): Promise<T> {
    const response = await this.request(method, params);
    if (response.error) throw Object.assign(new Error(response.error.message), response.error);
    return response.result as T;
  }

  /** Resolves with the first notification (already received or future) that passes `test`. */
  waitFor(test: (n: Notification) => boolean): Promise<Notification> {
    const seen = this.notifications.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  close(): void {
    this.ws.terminate();
  }
}

export function tempDir(prefix = 'flynn-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface ChildGateway {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

export const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

/** Runs the built CLI in its own process and waits for the listening line. */
export function spawnGateway(args: string[], env: Record<string, string> = {}): Promise<ChildGateway> {
  const child = spawn(process.execPath, [CLI, 'gateway', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /Gateway listening on (ws:\/\/\S+)/.exec(out);
      if (match) resolve({ child, url: match[1]!, stdout: () => out, stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`gateway exited with ${code} before listening: ${err}`)));
  });
}

/** A real pino logger whose lines the test can read and wait for. */
export function captureLogger(level = 'debug'): {
  logger: Logger;
  lines: string[];
  waitFor(test: (line: string) => boolean): Promise<string>;
} {
  const lines: string[] = [];
  const waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(line);
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.test(line)) waiters.splice(i, 1)[0]!.resolve(line);
        }
      }
      done();
    },
  });
  return {
    logger: pino({ level }, stream),
    lines,
    waitFor(test) {
      const seen = lines.find(test);
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}
