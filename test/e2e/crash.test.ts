import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/sessions/sqlite-store.js';
import { RpcClient, spawnGateway, tempDir, TOKEN, type Notification } from '../helpers.js';
import { openai, startStandIn, type ScriptedReply, type StandIn } from '../stand-ins.js';

let upstream: StandIn | undefined;
const dirs: { remove(): void }[] = [];
afterEach(async () => {
  await upstream?.close();
  dirs.splice(0).forEach((d) => d.remove());
});

/** A gateway in its own process, talking to a scripted OpenAI-compatible stand-in, on a fresh data dir. */
async function spawnWithUpstream(replies: ScriptedReply[], env: Record<string, string> = {}) {
  upstream = await startStandIn();
  upstream.enqueue(...replies);
  const dir = tempDir();
  dirs.push(dir);
  const gw = await spawnGateway(['--port', '0', '--data-dir', dir.path, '--token', TOKEN, '--log-level', 'silent'], {
    FLYNN_MODEL: 'openai:gpt-test',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    ...env,
  });
  return { gw, upstream, dbPath: `${dir.path}/flynn.db`, client: await RpcClient.open(gw.url) };
}

describe('store durability', () => {
  it('holds every committed message after the process is killed mid-run', async () => {
    const { gw, client: c, dbPath } = await spawnWithUpstream([
      { frames: openai.toolCall('call_1', 'current_time', {}) },
      { frames: openai.partial(['never ', 'finished']), hang: true },
    ]);
    void c.request('agent.send', { message: 'what time is it?' });
    const delta: Notification = await c.waitFor((n) => n.params.type === 'text.delta' && n.params.text === 'finished');
    gw.child.kill('SIGKILL');
    await gw.exited;
    c.close();

    const store = openSqliteStore({ path: dbPath });
    try {
      const { items } = store.history(delta.params.sessionId as string, 50);
      expect(items.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
      expect(items[0]!.content).toBe('what time is it?');
      expect(items[1]!.toolCalls).toEqual([{ id: 'call_1', name: 'current_time', arguments: {} }]);
      expect(items[2]!.toolCallId).toBe('call_1');
      expect(store.getSession(delta.params.sessionId as string)?.messageCount).toBe(3);
    } finally {
      store.close();
    }
  });

  it('on SIGTERM cancels a run still going after the grace period, saves its partial text and exits 0', async () => {
    const { gw, client: c, dbPath, upstream } = await spawnWithUpstream([{ frames: openai.partial(['half ', 'an answer']), hang: true }], {
      FLYNN_SHUTDOWN_GRACE_MS: '300',
    });
    void c.request('agent.send', { message: 'never ends' });
    const delta = await c.waitFor((n) => n.params.type === 'text.delta' && n.params.text === 'an answer');
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(await upstream.requests[0]!.aborted).toBe(true);
    c.close();
    const store = openSqliteStore({ path: dbPath });
    try {
      const { items } = store.history(delta.params.sessionId as string, 10);
      expect(items.map((m) => [m.role, m.content])).toEqual([
        ['user', 'never ends'],
        ['assistant', 'half an answer'],
      ]);
    } finally {
      store.close();
    }
  });
});
