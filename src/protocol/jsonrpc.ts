/**
 * JSON-RPC 2.0 framing (https://www.jsonrpc.org/specification): turning one
 * WebSocket text frame into calls, and calls' outcomes into frames. Pure: no
 * I/O, no logging, so every rule here is unit-testable.
 */
import { InvalidRequestError, ParseError, type RpcError } from './errors.js';

/** A request id. `undefined` marks a notification (no `id` member at all). */
export type RequestId = string | number | null;

/** A well-formed request or notification. */
export interface Call {
  readonly id: RequestId | undefined;
  readonly method: string;
  readonly params: unknown;
}

/** A batch member (or single frame) that broke the envelope rules. */
export interface InvalidCall {
  readonly id: RequestId;
  readonly error: RpcError;
}

export type Item = Call | InvalidCall;

/** What one frame holds. `reply` is a complete frame to send back as is. */
export type Frame =
  | { readonly kind: 'single'; readonly item: Item }
  | { readonly kind: 'batch'; readonly items: readonly Item[] }
  | { readonly kind: 'reply'; readonly reply: string };

export function isInvalid(item: Item): item is InvalidCall {
  return (item as InvalidCall).error !== undefined;
}

function isId(value: unknown): value is RequestId {
  return typeof value === 'string' || typeof value === 'number' || value === null;
}

/** Checks one JSON value against the Request object rules (spec §4). */
export function toItem(value: unknown): Item {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { id: null, error: new InvalidRequestError('Invalid request: expected a JSON object') };
  }
  const v = value as Record<string, unknown>;
  // Echo the id back when it is usable, so the client can match the error.
  const id = isId(v.id) ? v.id : null;
  if (v.jsonrpc !== '2.0') {
    return { id, error: new InvalidRequestError('Invalid request: "jsonrpc" must be "2.0"') };
  }
  if (typeof v.method !== 'string' || v.method.length === 0) {
    return { id, error: new InvalidRequestError('Invalid request: "method" must be a non-empty string') };
  }
  if ('id' in v && !isId(v.id)) {
    return { id: null, error: new InvalidRequestError('Invalid request: "id" must be a string, number or null') };
  }
  const params = v.params;
  if (params !== undefined && (typeof params !== 'object' || params === null)) {
    return { id, error: new InvalidRequestError('Invalid request: "params" must be an object or array') };
  }
  return { id: 'id' in v ? (v.id as RequestId) : undefined, method: v.method, params };
}

/** Parses one text frame. Never throws. */
export function parseFrame(text: string): Frame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'reply', reply: errorFrame(null, new ParseError()) };
  }
  if (!Array.isArray(value)) return { kind: 'single', item: toItem(value) };
  if (value.length === 0) {
    return { kind: 'reply', reply: errorFrame(null, new InvalidRequestError('Invalid request: empty batch')) };
  }
  return { kind: 'batch', items: value.map(toItem) };
}

/** A success response as a frame. */
export function resultFrame(id: RequestId, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result: result === undefined ? null : result });
}

/** An error response as a frame. */
export function errorFrame(id: RequestId, error: RpcError): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: error.toJSON() });
}

/** A server-to-client notification as a frame. */
export function notificationFrame(method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params });
}

/** Joins already-serialised responses into one batch reply (or nothing). */
export function batchFrame(responses: readonly string[]): string | undefined {
  return responses.length === 0 ? undefined : `[${responses.join(',')}]`;
}
