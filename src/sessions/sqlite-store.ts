/**
 * SessionStore on better-sqlite3: WAL, versioned migrations, prepared
 * statements, and one transaction per batch of writes.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Message, NewMessage, Session, StopReason } from './schema.js';
import { InvalidCursorError, type Page, type RunRecord, type SessionStore } from './store.js';

/** Each entry moves the schema one version up; never edit a released one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     title TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     message_count INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE messages (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
     role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
     content TEXT NOT NULL,
     tool_calls TEXT,
     tool_call_id TEXT,
     is_error INTEGER,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX messages_by_session ON messages(session_id, seq);
   CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     session_id TEXT NOT NULL,
     idempotency_key TEXT UNIQUE,
     stop_reason TEXT NOT NULL,
     input_tokens INTEGER NOT NULL,
     output_tokens INTEGER NOT NULL,
     message_id TEXT,
     finished_at INTEGER NOT NULL
   );`,
  `CREATE TABLE channel_bindings (
     channel TEXT NOT NULL,
     chat_id TEXT NOT NULL,
     session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
     PRIMARY KEY (channel, chat_id)
   );`,
];

interface SessionRow {
  seq: number;
  id: string;
  title: string | null;
  created_at: number;
  updated_at: number;
  message_count: number;
}

/** What a message read needs; the session id is already known to the caller. */
const MESSAGE_COLUMNS = 'seq, id, role, content, tool_calls, tool_call_id, is_error, created_at';

interface MessageRow {
  seq: number;
  id: string;
  role: Message['role'];
  content: string;
  tool_calls: string | null;
  tool_call_id: string | null;
  is_error: number | null;
  created_at: number;
}

interface RunRow {
  id: string;
  session_id: string;
  idempotency_key: string | null;
  stop_reason: StopReason;
  input_tokens: number;
  output_tokens: number;
  message_id: string | null;
}

// Messages written together share a timestamp, so a page converts few distinct values.
let lastMs = NaN;
let lastIso = '';
function iso(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    title: row.title,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    messageCount: row.message_count,
  };
}

function toMessage(row: MessageRow): Message {
  const message: Message = { id: row.id, role: row.role, content: row.content, createdAt: iso(row.created_at) };
  if (row.tool_calls !== null) message.toolCalls = JSON.parse(row.tool_calls) as Message['toolCalls'];
  if (row.tool_call_id !== null) message.toolCallId = row.tool_call_id;
  if (row.is_error !== null) message.isError = row.is_error === 1;
  return message;
}

function toRun(row: RunRow): RunRecord {
  return {
    runId: row.id,
    sessionId: row.session_id,
    idempotencyKey: row.idempotency_key,
    stopReason: row.stop_reason,
    usage: { inputTokens: row.input_tokens, outputTokens: row.output_tokens },
    messageId: row.message_id,
  };
}

/** Cursors are opaque to clients: a row position, base64url-encoded. */
function encodeCursor(seq: number): string {
  return Buffer.from(`p${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const seq = /^p(\d{1,15})$/.exec(text)?.[1];
  if (seq === undefined) throw new InvalidCursorError('not a cursor this store issued');
  return Number(seq);
}

const TITLE_LENGTH = 60;

function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1)}…` : line;
}

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for tests. */
  readonly path: string;
  readonly now?: () => number;
}

export function openSqliteStore(options: SqliteStoreOptions): SessionStore {
  const now = options.now ?? Date.now;
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  // With WAL, NORMAL loses no committed transaction when the process dies.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);

  const q = {
    insertSession: db.prepare('INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)'),
    getSession: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
    listFirst: db.prepare<[number], SessionRow>('SELECT * FROM sessions ORDER BY seq DESC LIMIT ?'),
    listAfter: db.prepare<[number, number], SessionRow>('SELECT * FROM sessions WHERE seq < ? ORDER BY seq DESC LIMIT ?'),
    countSessions: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sessions'),
    historyFirst: db.prepare<[string, number], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq DESC LIMIT ?`),
    historyBefore: db.prepare<[string, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    getMessage: db.prepare<[string], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`),
    insertMessage: db.prepare(
      'INSERT INTO messages (id, session_id, role, content, tool_calls, tool_call_id, is_error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    touchSession: db.prepare(
      'UPDATE sessions SET updated_at = ?, message_count = message_count + ?, title = coalesce(title, ?) WHERE id = ?',
    ),
    insertRun: db.prepare(
      'INSERT INTO runs (id, session_id, idempotency_key, stop_reason, input_tokens, output_tokens, message_id, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    runByKey: db.prepare<[string], RunRow>('SELECT * FROM runs WHERE idempotency_key = ?'),
    getBinding: db.prepare<[string, string], { session_id: string }>('SELECT session_id FROM channel_bindings WHERE channel = ? AND chat_id = ?'),
    setBinding: db.prepare(
      'INSERT INTO channel_bindings (channel, chat_id, session_id) VALUES (?, ?, ?) ON CONFLICT (channel, chat_id) DO UPDATE SET session_id = excluded.session_id',
    ),
  };

  let sessionCount = q.countSessions.get()!.n;

  function page<R extends { seq: number }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
    const more = rows.length > limit;
    const kept = more ? rows.slice(0, limit) : rows;
    const items = kept.map(map);
    return more ? { items, nextCursor: encodeCursor(kept[kept.length - 1]!.seq) } : { items };
  }

  const append = db.transaction((sessionId: string, messages: readonly NewMessage[]): Message[] => {
    const at = now();
    const saved = messages.map((m) => {
      const id = randomUUID();
      q.insertMessage.run(
        id,
        sessionId,
        m.role,
        m.content,
        m.toolCalls && m.toolCalls.length > 0 ? JSON.stringify(m.toolCalls) : null,
        m.toolCallId ?? null,
        m.isError === undefined ? null : m.isError ? 1 : 0,
        at,
      );
      const message: Message = { ...m, id, createdAt: iso(at) };
      if (!message.toolCalls?.length) delete message.toolCalls;
      return message;
    });
    const firstUser = messages.find((m) => m.role === 'user');
    q.touchSession.run(at, messages.length, firstUser ? titleFrom(firstUser.content) || null : null, sessionId);
    return saved;
  });

  const finish = db.transaction((record: RunRecord, messages: readonly NewMessage[]): Message[] => {
    const saved = messages.length > 0 ? append(record.sessionId, messages) : [];
    const messageId = saved.length > 0 ? saved[saved.length - 1]!.id : record.messageId;
    q.insertRun.run(
      record.runId,
      record.sessionId,
      record.idempotencyKey,
      record.stopReason,
      record.usage.inputTokens,
      record.usage.outputTokens,
      messageId,
      now(),
    );
    return saved;
  });

  return {
    createSession(title) {
      const id = randomUUID();
      const at = now();
      q.insertSession.run(id, title ?? null, at, at);
      sessionCount++;
      return { id, title: title ?? null, createdAt: iso(at), updatedAt: iso(at), messageCount: 0 };
    },
    getSession(id) {
      const row = q.getSession.get(id);
      return row && toSession(row);
    },
    listSessions(limit, cursor) {
      const rows = cursor === undefined ? q.listFirst.all(limit + 1) : q.listAfter.all(decodeCursor(cursor), limit + 1);
      return page(rows, limit, toSession);
    },
    history(id, limit, before) {
      const rows =
        before === undefined ? q.historyFirst.all(id, limit + 1) : q.historyBefore.all(id, decodeCursor(before), limit + 1);
      const result = page(rows, limit, toMessage);
      result.items.reverse();
      return result;
    },
    recentMessages(id, limit) {
      return q.historyFirst.all(id, limit).reverse().map(toMessage);
    },
    appendMessages(id, messages) {
      return append(id, messages);
    },
    getMessage(id) {
      const row = q.getMessage.get(id);
      return row && toMessage(row);
    },
    finishRun(record, messages) {
      return finish(record, messages);
    },
    findRunByKey(key) {
      const row = q.runByKey.get(key);
      return row && toRun(row);
    },
    getBinding(channel, chatId) {
      return q.getBinding.get(channel, chatId)?.session_id;
    },
    setBinding(channel, chatId, sessionId) {
      q.setBinding.run(channel, chatId, sessionId);
    },
    get sessionCount() {
      return sessionCount;
    },
    close() {
      if (db.open) db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare<[], { version: number }>('SELECT version FROM schema_version').get();
  const current = row?.version ?? 0;
  if (current > MIGRATIONS.length) {
    throw new Error(`the store is at schema version ${current}, newer than this Flynn (${MIGRATIONS.length}): upgrade Flynn`);
  }
  db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
    else db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length);
  })();
}
