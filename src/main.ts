/**
 * The composition root: the only place that builds real instances and wires
 * them together. Everything below receives its dependencies as arguments.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from './agent/agent.js';
import { defaultSystemPrompt } from './agent/system-prompt.js';
import type { Config, ProviderEnv } from './config.js';
import { ConfigError, isLoopbackHost } from './config.js';
import { createGateway } from './gateway/server.js';
import { loadOrCreateToken } from './gateway/token-file.js';
import type { Logger } from './logger.js';
import { createMethods } from './methods/index.js';
import { createProviderFactory, resolveModelChain } from './models/factory.js';
import { ModelRouter } from './models/router.js';
import { openSqliteStore } from './sessions/sqlite-store.js';
import { createCurrentTimeTool } from './tools/builtin/current-time.js';
import { ToolExecutor } from './tools/executor.js';
import { ToolRegistry } from './tools/registry.js';
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
  readonly agent: Agent;
  /** Stops accepting, closes sockets with 1001, ends runs within the grace period, flushes the store. */
  stop(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function readSystemPrompt(config: Config): string | undefined {
  if (config.systemPromptFile === undefined) return config.systemPrompt;
  try {
    return readFileSync(config.systemPromptFile, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read systemPromptFile ${config.systemPromptFile}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
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
  let chain;
  try {
    chain = resolveModelChain(config.model, deps.providerEnv);
  } catch (error) {
    throw new ConfigError(`model: ${(error as Error).message}`);
  }
  const customPrompt = readSystemPrompt(config);
  if (config.telegram.token !== undefined && config.telegram.allowedUsers.length === 0) {
    throw new ConfigError(
      'telegram.allowedUsers: the Telegram bot needs the numeric user ids allowed to use it (FLYNN_TELEGRAM_ALLOWED_USERS=123,456); ask @userinfobot for yours',
    );
  }

  let token = config.token;
  if (token === undefined) {
    const stored = loadOrCreateToken(config.dataDir);
    token = stored.token;
    print(`${stored.created ? 'Generated an auth token' : 'Using the auth token'} in ${stored.path} (send it as "Authorization: Bearer <token>")`);
  }

  const store = openSqliteStore({ path: join(config.dataDir, 'flynn.db') });
  const tools = new ToolRegistry();
  tools.register(createCurrentTimeTool());
  const executor = new ToolExecutor(tools, { timeoutMs: config.toolTimeoutMs });
  const router = new ModelRouter({ chain, provider: createProviderFactory(deps.providerEnv), logger });
  const agent = new Agent({
    store,
    router,
    tools,
    executor,
    systemPrompt: customPrompt ?? defaultSystemPrompt(tools.specs()),
    logger,
    maxTurns: config.maxTurns,
  });

  // grammY loads only when the bot is configured, keeping startup fast.
  const telegram =
    config.telegram.token === undefined
      ? undefined
      : (await import('./channels/telegram/channel.js')).createTelegramChannel({
          options: {
            token: config.telegram.token,
            allowedUsers: config.telegram.allowedUsers,
            apiRoot: config.telegram.apiRoot,
            ...(config.telegram.webhookUrl && config.telegram.webhookSecret
              ? { webhook: { url: config.telegram.webhookUrl, secret: config.telegram.webhookSecret } }
              : {}),
          },
          agent,
          store,
          router,
          logger,
        });

  let connectionCount = (): number => 0;
  const startedAt = Date.now();
  const methods = createMethods({
    health: {
      version: VERSION,
      startedAt,
      now: Date.now,
      sessionCount: () => store.sessionCount,
      toolCount: () => tools.size,
      connectionCount: () => connectionCount(),
      model: () => router.primary,
      ...(telegram ? { telegram: telegram.status } : {}),
    },
    store,
    agent,
    tools,
    executor,
  });

  const gateway = createGateway({
    options: {
      host: config.host,
      port: config.port,
      auth: { token, trustTailscale: config.trustTailscale, allowUsers: config.allowUsers, allowOrigins: config.allowOrigins },
      maxFrameBytes: config.maxFrameBytes,
      maxInFlight: config.maxInFlight,
      maxBacklogBytes: config.maxBacklogBytes,
      heartbeatMs: config.heartbeatMs,
    },
    methods,
    logger,
    ...(telegram ? { http: telegram.http } : {}),
  });
  connectionCount = () => gateway.connectionCount;

  let address;
  try {
    address = await gateway.listen();
  } catch (error) {
    store.close();
    throw error;
  }
  const url = `ws://${hostForUrl(config.host)}:${address.port}`;
  print(`Gateway listening on ${url}`);
  logger.info({ host: config.host, port: address.port, model: `${router.primary.provider}:${router.primary.model}` }, 'gateway listening');
  telegram?.start();

  return {
    url,
    port: address.port,
    agent,
    async stop() {
      await gateway.close();
      const telegramStopped = telegram?.stop(config.shutdownGraceMs);
      await agent.shutdown(config.shutdownGraceMs);
      await telegramStopped;
      store.close();
    },
  };
}
