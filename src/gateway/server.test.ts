import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { defineMethod, type MethodDef } from '../methods/types.js';
import { createDispatcher } from './dispatcher.js';
import { captureLogger, connect, closed, silentLogger, nextMessage, RpcClient, startGateway, TOKEN, upgradeStatus, type TestGateway } from '../../test/helpers.js';

const Empty = z.strictObject({});

/** Methods that exercise the gateway without an agent behind it. */
function testMethods(gate: { release?: () => void; waiting: Promise<void> }): Record<string, MethodDef> {
  return {
    'test.echo': defineMethod({
      description: 'echo',
      scope: 'read',
      params: z.strictObject({ value: z.string(), n: z.number().int().min(1).max(10).optional() }),
      result: z.unknown(),
      handler: (p) => ({ value: p.value }),
    }),
    'test.wait': defineMethod({
      description: 'resolves when the test releases it',
      scope: 'read',
      params: Empty,
      result: z.unknown(),
      handler: async () => {
        await gate.waiting;
        return 'released';
      },
    }),
    'test.throw': defineMethod({
      description: 'throws a plain error',
      scope: 'read',
      params: Empty,
      result: z.unknown(),
      handler: () => {
        throw new Error('secret internals at /srv/app.ts:12');
      },
    }),
    'test.blob': defineMethod({
      description: 'a large result',
      scope: 'read',
      params: z.strictObject({ bytes: z.number().int() }),
      result: z.unknown(),
      handler: (p) => 'x'.repeat(p.bytes),
    }),
    'test.admin': defineMethod({
      description: 'needs the admin scope',
      scope: 'admin',
      params: Empty,
      result: z.unknown(),
      handler: () => 'ok',
    }),
  };
}

function makeGate(): { release: () => void; waiting: Promise<void> } {
  let release!: () => void;
  const waiting = new Promise<void>((resolve) => (release = resolve));
  return { release, waiting };
}

let gw: TestGateway;
let gate: ReturnType<typeof makeGate>;
const open: WebSocket[] = [];

async function client(opts?: Parameters<typeof connect>[1]): Promise<RpcClient> {
  const c = await RpcClient.open(gw.url, opts);
  open.push(c.ws);
  return c;
}

/** Sends a raw frame and resolves with the next frame parsed. */
async function roundTrip(ws: WebSocket, text: string): Promise<unknown> {
  const reply = nextMessage(ws);
  ws.send(text);
  return reply;
}

describe('gateway server', () => {
  beforeEach(async () => {
    gate = makeGate();
    gw = await startGateway(testMethods(gate), { maxInFlight: 4 });
  });

  afterEach(async () => {
    gate.release();
    for (const ws of open.splice(0)) ws.terminate();
    await gw.close();
  });

  describe('authentication at the upgrade', () => {
    it('accepts the bearer header and selects flynn.v1', async () => {
      const ws = await connect(gw.url);
      open.push(ws);
      expect(ws.protocol).toBe('flynn.v1');
    });

    it('accepts the token as a bearer.<token> subprotocol and never echoes it', async () => {
      const ws = await connect(gw.url, { token: null, protocols: ['flynn.v1', `bearer.${TOKEN}`] });
      open.push(ws);
      expect(ws.protocol).toBe('flynn.v1');
    });

    it('refuses a wrong token with 401 and opens no socket', async () => {
      expect((await upgradeStatus(gw.url, { token: 'wrong-token-wrong-token' })).status).toBe(401);
      expect(gw.gateway.connectionCount).toBe(0);
    });

    it('refuses a missing token with 401', async () => {
      expect((await upgradeStatus(gw.url, { token: null })).status).toBe(401);
    });

    it('refuses a wrong subprotocol token with 401', async () => {
      expect((await upgradeStatus(gw.url, { token: null, protocols: ['flynn.v1', 'bearer.nope'] })).status).toBe(401);
    });

    it('ignores Tailscale-User-Login when Tailscale is not trusted', async () => {
      const r = await upgradeStatus(gw.url, { token: null, headers: { 'Tailscale-User-Login': 'alice@example.com' } });
      expect(r.status).toBe(401);
    });

    it('refuses a foreign Origin with 403 even with a good token', async () => {
      expect((await upgradeStatus(gw.url, { headers: { Origin: 'https://evil.example' } })).status).toBe(403);
      expect((await upgradeStatus(gw.url, { headers: { Origin: 'null' } })).status).toBe(403);
    });

    it("accepts the gateway's own origin", async () => {
      const ws = await connect(gw.url, { headers: { Origin: `http://127.0.0.1:${gw.port}` } });
      open.push(ws);
      expect(ws.readyState).toBe(WebSocket.OPEN);
    });
  });

  describe('JSON-RPC over the socket', () => {
    it('answers system-style requests with number and string ids', async () => {
      const c = await client();
      expect(await roundTrip(c.ws, '{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"value":"a"}}')).toEqual({
        jsonrpc: '2.0',
        id: 1,
        result: { value: 'a' },
      });
      expect(await roundTrip(c.ws, '{"jsonrpc":"2.0","id":"s-1","method":"test.echo","params":{"value":"b"}}')).toEqual({
        jsonrpc: '2.0',
        id: 's-1',
        result: { value: 'b' },
      });
    });

    it('answers a parse error with id null', async () => {
      const c = await client();
      expect(await roundTrip(c.ws, '{not json')).toMatchObject({ id: null, error: { code: -32700 } });
    });

    it('answers an invalid request', async () => {
      const c = await client();
      expect(await roundTrip(c.ws, '{"jsonrpc":"2.0","id":3}')).toMatchObject({ id: 3, error: { code: -32600 } });
    });

    it('answers method not found', async () => {
      const c = await client();
      expect(await c.request('no.such')).toMatchObject({ error: { code: -32601, data: { method: 'no.such' } } });
    });

    it('answers invalid params naming the field', async () => {
      const c = await client();
      const r = await c.request('test.echo', { value: 'x', n: 99 });
      expect(r.error).toMatchObject({ code: -32602, data: { field: 'n' } });
      const missing = await c.request('test.echo', {});
      expect(missing.error).toMatchObject({ code: -32602, data: { field: 'value' } });
      const positional = await c.request('test.echo', ['x']);
      expect(positional.error).toMatchObject({ code: -32602 });
      const unknown = await c.request('test.echo', { value: 'x', extra: 1 });
      expect(unknown.error).toMatchObject({ code: -32602 });
    });

    it('hides a thrown error behind -32603 with no stack', async () => {
      const c = await client();
      const r = await c.request('test.throw');
      expect(r.error).toEqual({ code: -32603, message: 'Internal error' });
      expect(JSON.stringify(r)).not.toContain('srv/app.ts');
    });

    it('sends nothing for a notification', async () => {
      const c = await client();
      c.ws.send('{"jsonrpc":"2.0","method":"test.echo","params":{"value":"quiet"}}');
      // The next reply must be for the request sent after the notification.
      expect(await roundTrip(c.ws, '{"jsonrpc":"2.0","id":9,"method":"test.echo","params":{"value":"loud"}}')).toMatchObject({
        id: 9,
        result: { value: 'loud' },
      });
    });

    it('answers a batch with one response per request, errors per item', async () => {
      const c = await client();
      const reply = (await roundTrip(
        c.ws,
        JSON.stringify([
          { jsonrpc: '2.0', id: 1, method: 'test.echo', params: { value: 'one' } },
          { jsonrpc: '2.0', method: 'test.echo', params: { value: 'note' } },
          { jsonrpc: '2.0', id: 2, method: 'no.such' },
          42,
          { jsonrpc: '2.0', id: 3, method: 'test.echo', params: {} },
        ]),
      )) as { id: unknown; result?: unknown; error?: { code: number } }[];
      expect(reply).toHaveLength(4);
      expect(reply[0]).toMatchObject({ id: 1, result: { value: 'one' } });
      expect(reply[1]).toMatchObject({ id: 2, error: { code: -32601 } });
      expect(reply[2]).toMatchObject({ id: null, error: { code: -32600 } });
      expect(reply[3]).toMatchObject({ id: 3, error: { code: -32602 } });
    });

    it('answers an empty batch with a single invalid request', async () => {
      const c = await client();
      expect(await roundTrip(c.ws, '[]')).toMatchObject({ id: null, error: { code: -32600 } });
    });

    it('sends nothing for an all-notification batch', async () => {
      const c = await client();
      c.ws.send(JSON.stringify([{ jsonrpc: '2.0', method: 'test.echo', params: { value: 'a' } }, { jsonrpc: '2.0', method: 'x.y' }]));
      expect(await roundTrip(c.ws, '{"jsonrpc":"2.0","id":"after","method":"test.echo","params":{"value":"b"}}')).toMatchObject({
        id: 'after',
      });
    });

    it('rejects binary frames with an invalid request', async () => {
      const c = await client();
      const reply = nextMessage(c.ws);
      c.ws.send(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"value":"a"}}'), { binary: true });
      expect(await reply).toMatchObject({ id: null, error: { code: -32600 } });
    });

    it('answers -32001 for a method outside the identity scopes', async () => {
      // Every identity in this release holds all scopes; the check itself is exercised with a reduced identity.
      const dispatch = createDispatcher(new Map(Object.entries(testMethods(gate))), silentLogger);
      const frame = dispatch(
        { id: 1, method: 'test.admin', params: undefined },
        { connectionId: 'c', identity: { id: 'ro', scopes: new Set(['read']) }, signal: new AbortController().signal, notify: () => {} },
      );
      expect(JSON.parse(frame as string)).toMatchObject({ error: { code: -32001, data: { scope: 'admin' } } });
    });
  });

  describe('limits', () => {
    it('answers -32004 with retryAfterMs past the in-flight cap, and recovers', async () => {
      const c = await client();
      const waiting = [1, 2, 3, 4].map(() => c.request('test.wait'));
      const over = await c.request('test.wait');
      expect(over.error).toMatchObject({ code: -32004, data: { retryAfterMs: expect.any(Number) } });
      gate.release();
      for (const r of await Promise.all(waiting)) expect(r.result).toBe('released');
      expect((await c.request('test.wait')).result).toBe('released');
    });

    it('closes with 1009 when a frame exceeds maxFrameBytes, and others carry on', async () => {
      await gw.close();
      gw = await startGateway(testMethods(gate), { maxFrameBytes: 1024 });
      const big = await client();
      const other = await client();
      const code = closed(big.ws);
      big.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'test.echo', params: { value: 'x'.repeat(2000) } }));
      expect(await code).toBe(1009);
      expect((await other.request('test.echo', { value: 'still here' })).result).toEqual({ value: 'still here' });
    });

    it('closes a client that stops reading with 1013 once its backlog passes the bound', async () => {
      await gw.close();
      const log = captureLogger();
      gw = await startGateway(testMethods(gate), { maxBacklogBytes: 256 * 1024 }, log.logger);
      const slow = await client();
      const socket = (slow.ws as unknown as { _socket: Socket })._socket;
      socket.pause(); // stop reading: the server's backlog can only grow
      const code = closed(slow.ws);
      const tooSlow = log.waitFor((line) => line.includes('client too slow'));
      const frame = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'test.blob', params: { bytes: 512 * 1024 } });
      // 64 MiB of answers: far past the kernel's socket buffers and the bound.
      for (let i = 0; i < 128; i++) slow.ws.send(frame);
      await tooSlow;
      socket.resume(); // read the backlog, then the close frame behind it
      expect(await code).toBe(1013);
    });

    it('drops a peer that stops answering pings', async () => {
      await gw.close();
      gw = await startGateway(testMethods(gate), { heartbeatMs: 50 });
      const ws = await connect(gw.url, { autoPong: false });
      open.push(ws);
      const healthy = await client();
      expect(await closed(ws)).toBe(1006);
      expect((await healthy.request('test.echo', { value: 'alive' })).result).toEqual({ value: 'alive' });
    });
  });

  describe('shutdown', () => {
    it('closes every socket with 1001', async () => {
      const a = await client();
      const b = await client();
      const codes = Promise.all([closed(a.ws), closed(b.ws)]);
      await gw.close();
      expect(await codes).toEqual([1001, 1001]);
      gw = await startGateway(testMethods(gate)); // afterEach closes this one
    });
  });
});
