#!/usr/bin/env node
/** The `flynn` command: argument parsing only, then `startFlynn`. */
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, loadProviderEnv } from '../config.js';
import { createLogger } from '../logger.js';
import { startFlynn } from '../main.js';
import { VERSION } from '../version.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface GatewayFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  token?: string;
  config?: string;
  trustTailscale?: boolean;
  allowUser?: string[];
  allowOrigin?: string[];
  maxFrameBytes?: string;
  maxInFlight?: string;
  logLevel?: string;
  model?: string;
  systemPromptFile?: string;
  maxTurns?: string;
}

async function runGateway(flags: GatewayFlags): Promise<void> {
  const { allowUser, allowOrigin, ...rest } = flags;
  const config = loadConfig({ ...rest, allowUsers: allowUser, allowOrigins: allowOrigin }, process.env);
  const logger = createLogger(config.logLevel);
  const flynn = await startFlynn({
    config,
    providerEnv: loadProviderEnv(process.env),
    logger,
    print: (line) => process.stdout.write(`${line}\n`),
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      // A second signal means "now": skip the grace period.
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    flynn.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

const program = new Command('flynn').description('Flynn: a self-hosted personal AI agent').version(VERSION);

program
  .command('gateway', { isDefault: true })
  .description('run the agent and its WebSocket gateway')
  .option('--host <host>', 'interface to bind (default 127.0.0.1)')
  .option('--port <port>', 'port to listen on; 0 picks a free one (default 18790)')
  .option('--data-dir <dir>', 'where the store and token live (default ~/.flynn)')
  .option('--token <token>', 'bearer token clients must present (default: generated and stored in the data dir)')
  .option('--config <file>', 'JSON config file')
  .addOption(new Option('--trust-tailscale', 'accept Tailscale-User-Login from loopback peers (Tailscale Serve)'))
  .option('--allow-user <login>', 'Tailscale login allowed in (repeatable)', collect)
  .option('--allow-origin <origin>', 'browser origin allowed besides the gateway itself (repeatable)', collect)
  .option('--max-frame-bytes <n>', 'largest frame accepted (default 1048576)')
  .option('--max-in-flight <n>', 'requests in flight per connection (default 128)')
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default info)')
  .option('--model <provider:model>', 'model, or a comma-separated fallback chain (anthropic|openai|ollama|offline)')
  .option('--system-prompt-file <file>', 'replace the default system prompt')
  .option('--max-turns <n>', 'model turns per run (default 16)')
  .action(async (flags: GatewayFlags) => {
    try {
      await runGateway(flags);
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(`flynn: ${error.message}\n`);
        process.exit(2);
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        const { address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
        const why = code === 'EADDRINUSE' ? 'is in use' : code === 'EACCES' ? 'needs privileges' : 'is not an address of this machine';
        process.stderr.write(`flynn: cannot listen on ${address ?? ''}:${port ?? ''}: it ${why}; choose another with --host / --port\n`);
        process.exit(1);
      }
      throw error;
    }
  });

await program.parseAsync(process.argv);
