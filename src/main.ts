/**
 * The composition root: the only place that builds real instances and wires
 * them together. Everything below receives its dependencies as arguments.
 */
import type { Config, ProviderEnv } from './config.js';
import { ConfigError, isLoopbackHost } from './config.js';
import { createGateway } from './gateway/server.js';
import { loadOrCreateToken } from './gateway/token-file.js';
import type { Logger } from './logger.js';
import { createMethods } from './methods/index.js';
import { VERSION } from './version.js';

export interface FlynnDeps {
  readonly config: Config;
  readonly providerEnv: ProviderEnv;
  readonly logger: Logger;
  /** Plain lines for people and scripts (stdout). */
  readonly print: (line: string) => void;
}

export interface RunningFlynn {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, closes sockets with 1001, ends runs within the grace period, flushes the store. */
  stop(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export async function startFlynn(deps: FlynnDeps): Promise<RunningFlynn> {
  const { config, logger, print } = deps;
  // An auto-generated token sits in a file nobody off this machine has seen;
  // exposing the port beyond loopback needs a token chosen on purpose.
  if (!isLoopbackHost(config.host) && config.token === undefined) {
    throw new ConfigError(
      `refusing to listen on non-loopback host ${config.host} without auth configured: set --token (or FLYNN_TOKEN), or keep --host 127.0.0.1 behind Tailscale Serve`,
    );
  }
  let token = config.token;
  if (token === undefined) {
    const stored = loadOrCreateToken(config.dataDir);
    token = stored.token;
    print(`${stored.created ? 'Generated an auth token' : 'Using the auth token'} in ${stored.path} (send it as "Authorization: Bearer <token>")`);
  }

  const startedAt = Date.now();
  let connectionCount = (): number => 0;
  const methods = createMethods({
    health: {
      version: VERSION,
      startedAt,
      now: Date.now,
      sessionCount: () => 0,
      toolCount: () => 0,
      connectionCount: () => connectionCount(),
      model: () => ({ provider: 'offline', model: 'offline' }),
    },
  });

  const gateway = createGateway({
    options: {
      host: config.host,
      port: config.port,
      auth: {
        token,
        trustTailscale: config.trustTailscale,
        allowUsers: config.allowUsers,
        allowOrigins: config.allowOrigins,
      },
      maxFrameBytes: config.maxFrameBytes,
      maxInFlight: config.maxInFlight,
      maxBacklogBytes: config.maxBacklogBytes,
      heartbeatMs: config.heartbeatMs,
    },
    methods,
    logger,
  });
  connectionCount = () => gateway.connectionCount;

  const address = await gateway.listen();
  const url = `ws://${hostForUrl(config.host)}:${address.port}`;
  print(`Gateway listening on ${url}`);
  logger.info({ host: config.host, port: address.port }, 'gateway listening');

  return {
    url,
    port: address.port,
    async stop() {
      await gateway.close();
    },
  };
}
