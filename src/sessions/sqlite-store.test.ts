import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.js';
import { openSqliteStore } from './sqlite-store.js';
import { InvalidCursorError } from './store.js';

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

describe('sqlite store', () => {
  it('migrates a new file to the current version in WAL mode and reopens it', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = `${dir.path}/nested/flynn.db`;
    const store = openSqliteStore({ path });
    const s = store.createSession();
    store.appendMessages(s.id, [{ role: 'user', content: 'Plan the trip to Lisbon\nwith details' }]);
    store.close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT version FROM schema_version').get()).toEqual({ version: 2 });
    raw.close();
    const again = openSqliteStore({ path });
    expect(again.sessionCount).toBe(1);
    expect(again.getSession(s.id)).toMatchObject({ title: 'Plan the trip to Lisbon', messageCount: 1 });
    again.close();
  });

  it('refuses a store from a newer Flynn', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = `${dir.path}/flynn.db`;
    openSqliteStore({ path }).close();
    const raw = new Database(path);
    raw.prepare('UPDATE schema_version SET version = 99').run();
    raw.close();
    expect(() => openSqliteStore({ path })).toThrow(/newer than this Flynn/);
  });

  it('keeps tool calls, tool results and run records', () => {
    const store = openSqliteStore({ path: ':memory:' });
    const s = store.createSession('t');
    const [, assistant, tool] = store.appendMessages(s.id, [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'n', arguments: { a: 1 } }] },
      { role: 'tool', content: 'r', toolCallId: 'c', isError: true },
    ]);
    expect(store.getMessage(assistant!.id)?.toolCalls).toEqual([{ id: 'c', name: 'n', arguments: { a: 1 } }]);
    expect(store.getMessage(tool!.id)).toMatchObject({ toolCallId: 'c', isError: true });
    const [final] = store.finishRun(
      { runId: 'r1', sessionId: s.id, idempotencyKey: 'k', stopReason: 'end', usage: { inputTokens: 3, outputTokens: 4 }, messageId: null },
      [{ role: 'assistant', content: 'done' }],
    );
    expect(store.findRunByKey('k')).toEqual({
      runId: 'r1',
      sessionId: s.id,
      idempotencyKey: 'k',
      stopReason: 'end',
      usage: { inputTokens: 3, outputTokens: 4 },
      messageId: final!.id,
    });
    expect(store.getSession(s.id)?.messageCount).toBe(4);
    store.close();
  });

  it('binds channel chats to sessions, and rebinds', () => {
    const store = openSqliteStore({ path: ':memory:' });
    const a = store.createSession();
    const b = store.createSession();
    expect(store.getBinding('telegram', '42')).toBeUndefined();
    store.setBinding('telegram', '42', a.id);
    store.setBinding('telegram', '42', b.id);
    expect(store.getBinding('telegram', '42')).toBe(b.id);
    expect(store.getBinding('other', '42')).toBeUndefined();
    store.close();
  });

  it('rejects cursors it did not issue', () => {
    const store = openSqliteStore({ path: ':memory:' });
    expect(() => store.listSessions(10, 'bm9wZQ')).toThrow(InvalidCursorError);
    expect(() => store.history('x', 10, '')).toThrow(InvalidCursorError);
    store.close();
  });
});
