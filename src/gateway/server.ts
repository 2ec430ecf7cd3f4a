/**
 * The gateway: one Node HTTP server whose upgrade requests are authenticated
 * before a WebSocket exists (DESIGN §3), then handed to `ws`. The same port
 * serves plain HTTP routes passed in by the composition root.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Identity, MethodTable } from '../methods/types.js';
import { createAuthenticator, SUBPROTOCOL, type AuthOptions } from './auth.js';
import { CloseCode, Connection, type ConnectionLimits, type ConnectionShared } from './connection.js';
import { createDispatcher } from './dispatcher.js';
import { FailureThrottle, type ThrottleOptions } from './throttle.js';

export interface GatewayOptions extends ConnectionLimits {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly auth: AuthOptions;
  /** Largest frame accepted; a larger one closes the socket with 1009. Default 1 MiB. */
  readonly maxFrameBytes: number;
  /** Ping interval; a peer that misses one whole interval is dropped. Default 30 000 ms. */
  readonly heartbeatMs: number;
  readonly throttle?: ThrottleOptions;
}

export { DEFAULT_LIMITS } from './limits.js';

/** A plain HTTP route on the gateway's port; returns false to fall through to 404. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface GatewayDeps {
  readonly options: GatewayOptions;
  readonly methods: MethodTable;
  readonly logger: Logger;
  readonly http?: HttpHandler;
}

export interface Gateway {
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /** Stops accepting, closes every socket with 1001, and resolves when all are gone. */
  close(graceMs?: number): Promise<void>;
  readonly connectionCount: number;
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
};

function noop(): void {}

/** Answers a refused upgrade on the raw socket; no WebSocket is ever created. */
function refuseUpgrade(socket: Duplex, status: 401 | 403 | 429, extraHeaders = ''): void {
  socket.on('error', noop);
  const body = `${STATUS_TEXT[status]}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${body.length}\r\n${extraHeaders}\r\n${body}`,
  );
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { options, logger } = deps;
  const auth = createAuthenticator(options.auth);
  const throttle = new FailureThrottle(options.throttle);
  let nextConnection = 0;

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: true,
    maxPayload: options.maxFrameBytes,
    perMessageDeflate: false,
    // Select flynn.v1 only; a `bearer.<token>` offer is never echoed back.
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  const shared: ConnectionShared = {
    dispatch: createDispatcher(deps.methods, logger),
    limits: { maxInFlight: options.maxInFlight, maxBacklogBytes: options.maxBacklogBytes },
    logger,
    onClose: (conn, code) => logger.info({ conn: conn.connectionId, code }, 'connection closed'),
  };

  const server = createServer((req, res) => {
    if (deps.http?.(req, res)) return;
    res.writeHead(req.url === '/' ? 426 : 404, { 'Content-Type': 'text/plain' });
    res.end(req.url === '/' ? 'Flynn gateway: connect with a WebSocket (subprotocol flynn.v1)\n' : 'Not found\n');
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const peer = req.socket.remoteAddress ?? 'unknown';
    const waitMs = throttle.retryAfterMs(peer);
    if (waitMs > 0) {
      refuseUpgrade(socket, 429, `Retry-After: ${Math.ceil(waitMs / 1000)}\r\n`);
      return;
    }
    if (!auth.checkOrigin(req)) {
      logger.warn({ peer }, 'upgrade refused: foreign origin');
      refuseUpgrade(socket, 403);
      return;
    }
    const outcome = auth.authenticate(req);
    if (!outcome.ok) {
      if (outcome.status === 401) throttle.recordFailure(peer);
      logger.warn({ peer, status: outcome.status, reason: outcome.reason }, 'upgrade refused');
      refuseUpgrade(socket, outcome.status);
      return;
    }
    throttle.recordSuccess(peer);
    const identity = outcome.identity;
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, identity, peer));
  });

  function accept(ws: WebSocket, identity: Identity, peer: string): void {
    const conn = new Connection(ws, `c${++nextConnection}`, identity, shared);
    logger.info({ conn: conn.connectionId, identity: identity.id, peer }, 'connection opened');
  }

  // One sweep for all sockets rather than a timer per connection.
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      const conn = Connection.of(ws);
      if (!conn.alive) {
        logger.info({ conn: conn.connectionId }, 'peer missed its pong: dropping');
        ws.terminate();
        continue;
      }
      conn.alive = false;
      ws.ping();
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },

    async close(graceMs = 2000) {
      clearInterval(heartbeat);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const sockets = [...wss.clients];
      const gone = sockets.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
      for (const ws of sockets) ws.close(CloseCode.GoingAway, 'server shutting down');
      const timer = setTimeout(() => sockets.forEach((ws) => ws.terminate()), graceMs);
      await Promise.all(gone);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
    },

    get connectionCount() {
      return wss.clients.size;
    },
  };
}
