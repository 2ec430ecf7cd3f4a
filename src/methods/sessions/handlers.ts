/** `sessions.create`, `sessions.list`, `sessions.history`. */
import { InvalidParamsError, NotFoundError } from '../../protocol/errors.js';
import { InvalidCursorError, type SessionStore } from '../../sessions/store.js';
import { defineMethod } from '../types.js';
import { CreateParams, CreateResult, HistoryParams, HistoryResult, ListParams, ListResult } from './schema.js';

/** A cursor the store did not issue is the client's mistake: -32602 naming the field. */
function withCursor<T>(field: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new InvalidParamsError([{ field, message: 'not a cursor this gateway issued' }]);
    throw error;
  }
}

export function createSessionMethods(store: SessionStore) {
  return {
    'sessions.create': defineMethod({
      description: 'Creates an empty session.',
      scope: 'agent',
      params: CreateParams,
      result: CreateResult,
      handler: (p) => ({ session: store.createSession(p.title) }),
    }),
    'sessions.list': defineMethod({
      description: 'Sessions, newest first, a page at a time.',
      scope: 'read',
      params: ListParams,
      result: ListResult,
      handler: (p) => {
        const page = withCursor('cursor', () => store.listSessions(p.limit, p.cursor));
        return page.nextCursor ? { sessions: page.items, nextCursor: page.nextCursor } : { sessions: page.items };
      },
    }),
    'sessions.history': defineMethod({
      description: "A session's messages, a page at a time from the newest; oldest→newest within a page.",
      scope: 'read',
      params: HistoryParams,
      result: HistoryResult,
      handler: (p) => {
        if (store.getSession(p.sessionId) === undefined) throw new NotFoundError('sessionId', p.sessionId);
        const page = withCursor('before', () => store.history(p.sessionId, p.limit, p.before));
        return page.nextCursor ? { messages: page.items, nextCursor: page.nextCursor } : { messages: page.items };
      },
    }),
  };
}
