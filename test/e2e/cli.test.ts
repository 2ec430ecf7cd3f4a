import { spawnSync } from 'node:child_process';
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, closed, connect, RpcClient, spawnGateway, tempDir, upgradeStatus } from '../helpers.js';

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function dataDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}

describe('flynn gateway (built CLI, its own process)', () => {
  it('generates a 0600 token, answers system.health for it, refuses others, and exits 0 with 1001 on SIGTERM', async () => {
    const dir = dataDir();
    const gw = await spawnGateway(['--port', '0', '--data-dir', dir, '--log-level', 'warn']);
    const tokenPath = join(dir, 'token');
    expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenPath, 'utf8').trim();
    expect(gw.stdout()).toContain(tokenPath);
    expect(gw.stdout()).not.toContain(token);

    expect((await upgradeStatus(gw.url, { token: 'not-the-token-at-all' })).status).toBe(401);
    const c = await RpcClient.open(gw.url, { token });
    const health = await c.call('system.health');
    expect(health).toMatchObject({ status: 'ok', connections: 1, model: { provider: expect.any(String) } });
    expect(typeof health.version).toBe('string');

    const code = closed(c.ws);
    gw.child.kill('SIGTERM');
    expect(await code).toBe(1001);
    expect(await gw.exited).toBe(0);
    expect(gw.stderr()).not.toContain(token);
  });

  it('exits 0 on SIGINT too', async () => {
    const gw = await spawnGateway(['--port', '0', '--data-dir', dataDir(), '--token', 'a-token-of-sixteen+'], { FLYNN_LOG_LEVEL: 'silent' });
    const ws = await connect(gw.url, { token: 'a-token-of-sixteen+' });
    const code = closed(ws);
    gw.child.kill('SIGINT');
    expect(await code).toBe(1001);
    expect(await gw.exited).toBe(0);
  });

  it('exits non-zero naming the bad key on a config error', () => {
    const r = spawnSync(process.execPath, [CLI, 'gateway', '--port', 'eighty'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/port/);
  });

  it('says plainly when the port is taken', async () => {
    const first = await spawnGateway(['--port', '0', '--data-dir', dataDir(), '--log-level', 'silent']);
    const port = new URL(first.url).port;
    const r = spawnSync(process.execPath, [CLI, 'gateway', '--port', port, '--data-dir', dataDir(), '--log-level', 'silent'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    first.child.kill('SIGTERM');
    await first.exited;
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: it is in use`));
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('refuses a non-loopback host without a configured token', () => {
    const r = spawnSync(process.execPath, [CLI, 'gateway', '--host', '0.0.0.0', '--port', '0', '--data-dir', dataDir()], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/non-loopback/);
  });
});
