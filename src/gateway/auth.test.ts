import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineMethod } from '../methods/types.js';
import { connect, RpcClient, startGateway, TOKEN, upgradeStatus, type TestGateway } from '../../test/helpers.js';
import { FailureThrottle } from './throttle.js';
import { isLoopbackAddress } from './auth.js';

const whoami = defineMethod({
  description: 'the caller identity',
  scope: 'read',
  params: z.strictObject({}),
  result: z.unknown(),
  handler: (_p, ctx) => ctx.identity.id,
});

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function start(auth: Partial<{ trustTailscale: boolean; allowUsers: string[]; allowOrigins: string[] }>, throttle?: { maxFailures: number; windowMs: number }) {
  gw = await startGateway(
    { whoami },
    {
      auth: { token: TOKEN, trustTailscale: false, allowUsers: [], allowOrigins: [], ...auth },
      ...(throttle ? { throttle } : {}),
    },
  );
  return gw;
}

describe('tailscale identity', () => {
  it('authenticates a loopback peer by Tailscale-User-Login when trusted', async () => {
    const g = await start({ trustTailscale: true });
    const c = await RpcClient.open(g.url, { token: null, headers: { 'Tailscale-User-Login': 'alice@example.com' } });
    expect(await c.call('whoami')).toBe('tailscale:alice@example.com');
    c.close();
  });

  it('refuses a login outside the allow-list with 403', async () => {
    const g = await start({ trustTailscale: true, allowUsers: ['alice@example.com'] });
    const r = await upgradeStatus(g.url, { token: null, headers: { 'Tailscale-User-Login': 'mallory@example.com' } });
    expect(r.status).toBe(403);
    const ok = await RpcClient.open(g.url, { token: null, headers: { 'Tailscale-User-Login': 'alice@example.com' } });
    expect(await ok.call('whoami')).toBe('tailscale:alice@example.com');
    ok.close();
  });

  it('prefers a presented token and still refuses a wrong one', async () => {
    const g = await start({ trustTailscale: true });
    const r = await upgradeStatus(g.url, { token: 'wrong-wrong-wrong-wrong', headers: { 'Tailscale-User-Login': 'alice@example.com' } });
    expect(r.status).toBe(401);
  });
});

describe('origin', () => {
  it('accepts an origin listed with allowOrigins and refuses others', async () => {
    const g = await start({ allowOrigins: ['https://app.example'] });
    const ws = await connect(g.url, { headers: { Origin: 'https://app.example' } });
    ws.terminate();
    expect((await upgradeStatus(g.url, { headers: { Origin: 'https://app.example.evil' } })).status).toBe(403);
    expect((await upgradeStatus(g.url, { headers: { Origin: `http://localhost:${g.port}` } })).status).toBe(403);
  });
});

describe('failed-auth throttling', () => {
  it('answers 429 with Retry-After once an address fails too often, loopback included', async () => {
    const g = await start({}, { maxFailures: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) expect((await upgradeStatus(g.url, { token: 'bad-bad-bad-bad-bad' })).status).toBe(401);
    const throttled = await upgradeStatus(g.url, { token: 'bad-bad-bad-bad-bad' });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right token waits while the address is throttled.
    expect((await upgradeStatus(g.url)).status).toBe(429);
  });
});

describe('FailureThrottle', () => {
  it('lets an address try again once its window has passed', () => {
    let now = 1000;
    const t = new FailureThrottle({ maxFailures: 2, windowMs: 100, now: () => now });
    t.recordFailure('a');
    expect(t.retryAfterMs('a')).toBe(0);
    t.recordFailure('a');
    expect(t.retryAfterMs('a')).toBe(100);
    now += 60;
    expect(t.retryAfterMs('a')).toBe(40);
    now += 40;
    expect(t.retryAfterMs('a')).toBe(0);
  });

  it('tracks at most maxEntries addresses', () => {
    const t = new FailureThrottle({ maxFailures: 1, windowMs: 1000, maxEntries: 100, now: () => 0 });
    for (let i = 0; i < 10_000; i++) t.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    expect(t.size).toBe(100);
  });
});

describe('isLoopbackAddress', () => {
  it('trusts only loopback peers (where Tailscale Serve proxies from)', () => {
    expect(['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1'].every(isLoopbackAddress)).toBe(true);
    expect(['10.0.0.1', '100.64.0.1', '::ffff:192.168.0.1', 'fe80::1', undefined].some(isLoopbackAddress)).toBe(false);
  });
});
