/**
 * The session store seam. SQLite is the embedded default; the interface is
 * what another backend (PostgreSQL, later) implements. Calls are
 * synchronous here because better-sqlite3 is; an async backend would wrap
 * its own cache behind the same names or widen these to promises.
 */
import type { Message, NewMessage, Session, StopReason, Usage } from './schema.js';

export interface Page<T> {
  readonly items: T[];
  /** Opaque; absent on the last page. */
  readonly nextCursor?: string;
}

/** What a finished run left behind, for idempotent replays. */
export interface RunRecord {
  readonly runId: string;
  readonly sessionId: string;
  readonly idempotencyKey: string | null;
  readonly stopReason: StopReason;
  readonly usage: Usage;
  readonly messageId: string | null;
}

export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
}

export interface SessionStore {
  createSession(title?: string): Session;
  getSession(id: string): Session | undefined;
  /** Newest first. */
  listSessions(limit: number, cursor?: string): Page<Session>;
  /** The newest `limit` messages before `before`, oldest→newest within the page. */
  history(sessionId: string, limit: number, before?: string): Page<Message>;
  /** The last `limit` messages, oldest first: the context a model sees. */
  recentMessages(sessionId: string, limit: number): Message[];
  /** Appends in one transaction; sets the title from the first user message if none. */
  appendMessages(sessionId: string, messages: readonly NewMessage[]): Message[];
  getMessage(id: string): Message | undefined;
  /** Records a finished run (and its final messages) in one transaction. */
  finishRun(record: RunRecord, messages: readonly NewMessage[]): Message[];
  findRunByKey(idempotencyKey: string): RunRecord | undefined;
  /** The session a channel's chat (a Telegram chat, say) is talking in. */
  getBinding(channel: string, chatId: string): string | undefined;
  setBinding(channel: string, chatId: string, sessionId: string): void;
  /** Kept in memory: `system.health` reads it on every call. */
  readonly sessionCount: number;
  close(): void;
}
