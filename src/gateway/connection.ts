/**
 * Per-connection state and the per-frame path. The listeners are module-level
 * functions shared by every socket (state hangs off the socket under a
 * symbol), so an idle connection costs no closures and no timers.
 */
import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import { InvalidRequestError, RateLimitedError } from '../protocol/errors.js';
import type { Item } from '../protocol/jsonrpc.js';
import { batchFrame, errorFrame, isInvalid, notificationFrame, parseFrame } from '../protocol/jsonrpc.js';
import type { CallContext, Identity } from '../methods/types.js';
import type { Dispatch, Outcome } from './dispatcher.js';

/** Close codes of DESIGN §4 (RFC 6455 §7.4.1). */
export const CloseCode = {
  GoingAway: 1001,
  MessageTooBig: 1009,
  TryAgainLater: 1013,
} as const;

export interface ConnectionLimits {
  /** Requests in flight per connection before -32004. Default 128. */
  readonly maxInFlight: number;
  /** Unsent bytes a client may leave queued before it is closed with 1013. Default 8 MiB. */
  readonly maxBacklogBytes: number;
}

/** What every connection shares; built once per gateway. */
export interface ConnectionShared {
  readonly dispatch: Dispatch;
  readonly limits: ConnectionLimits;
  readonly logger: Logger;
  readonly onClose: (connection: Connection, code: number) => void;
}

/** How long a client closed for its backlog gets to read its close frame before the socket is cut. */
const BACKLOG_CLOSE_GRACE_MS = 10_000;
/** Suggested wait for a client over its in-flight cap. */
const IN_FLIGHT_RETRY_MS = 100;

const kConnection = Symbol('flynn.connection');
type TaggedSocket = WebSocket & { [kConnection]: Connection };

export class Connection implements CallContext {
  readonly connectionId: string;
  readonly identity: Identity;
  readonly ws: WebSocket;
  /** Cleared by each heartbeat sweep, set again by the peer's pong. */
  alive = true;
  #inFlight = 0;
  #abort: AbortController | undefined;
  readonly #shared: ConnectionShared;

  constructor(ws: WebSocket, connectionId: string, identity: Identity, shared: ConnectionShared) {
    this.ws = ws;
    this.connectionId = connectionId;
    this.identity = identity;
    this.#shared = shared;
    (ws as TaggedSocket)[kConnection] = this;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.on('error', onError);
  }

  static of(ws: WebSocket): Connection {
    return (ws as TaggedSocket)[kConnection];
  }

  /** Created on first use: most connections never need one. */
  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    return this.#abort.signal;
  }

  notify(method: string, params: unknown): void {
    this.send(notificationFrame(method, params));
  }

  /** Sends a frame unless the socket is gone; closes with 1013 when the client is too far behind. */
  send(frame: string): boolean {
    const ws = this.ws;
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.#shared.limits.maxBacklogBytes) {
      this.#shared.logger.warn({ conn: this.connectionId, buffered: ws.bufferedAmount }, 'client too slow: closing with 1013');
      ws.close(CloseCode.TryAgainLater, 'backlog over bound');
      setTimeout(() => ws.terminate(), BACKLOG_CLOSE_GRACE_MS).unref();
      return false;
    }
    ws.send(frame);
    return true;
  }

  receive(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.send(errorFrame(null, new InvalidRequestError('Invalid request: send JSON in text frames, not binary')));
      return;
    }
    const frame = parseFrame(data.toString());
    if (frame.kind === 'reply') {
      this.send(frame.reply);
    } else if (frame.kind === 'single') {
      this.#deliver(this.#run(frame.item));
    } else {
      this.#deliverBatch(frame.items.map((item) => this.#run(item)));
    }
  }

  /** Called once when the socket has closed. */
  closed(code: number): void {
    this.#abort?.abort();
    this.#shared.onClose(this, code);
  }

  socketError(error: Error & { code?: string }): void {
    // ws has already chosen the close code (1009 for an oversize frame); this only records why.
    this.#shared.logger.warn({ conn: this.connectionId, code: error.code }, 'socket error');
  }

  #run(item: Item): Outcome {
    if (isInvalid(item)) return errorFrame(item.id, item.error);
    if (this.#inFlight >= this.#shared.limits.maxInFlight) {
      if (item.id === undefined) return undefined;
      return errorFrame(
        item.id,
        new RateLimitedError(`Too many requests in flight (at most ${this.#shared.limits.maxInFlight})`, IN_FLIGHT_RETRY_MS),
      );
    }
    this.#inFlight++;
    const outcome = this.#shared.dispatch(item, this);
    if (typeof outcome === 'object') {
      return outcome.then((frame) => {
        this.#inFlight--;
        return frame;
      });
    }
    this.#inFlight--;
    return outcome;
  }

  #deliver(outcome: Outcome): void {
    if (typeof outcome === 'string') this.send(outcome);
    else if (outcome !== undefined) void outcome.then((frame) => frame !== undefined && this.send(frame));
  }

  #deliverBatch(outcomes: Outcome[]): void {
    if (outcomes.every((o) => typeof o !== 'object')) {
      const frame = batchFrame(outcomes.filter((o): o is string => o !== undefined));
      if (frame !== undefined) this.send(frame);
      return;
    }
    void Promise.all(outcomes).then((frames) => {
      const frame = batchFrame(frames.filter((f): f is string => f !== undefined));
      if (frame !== undefined) this.send(frame);
    });
  }
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  Connection.of(this).receive(data, isBinary);
}

function onPong(this: WebSocket): void {
  Connection.of(this).alive = true;
}

function onClose(this: WebSocket, code: number): void {
  Connection.of(this).closed(code);
}

function onError(this: WebSocket, error: Error & { code?: string }): void {
  Connection.of(this).socketError(error);
}
