/**
 * Configuration: flags > `FLYNN_*` environment > config file > defaults,
 * validated by one zod schema. The only module that reads `process.env`
 * (its caller passes it in).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_LIMITS } from './gateway/limits.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** "true"/"1"/"yes" from the environment; real booleans from a file or flag. */
const Bool = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  return v;
}, z.boolean());

/** A list from a file (array) or from the environment / a flag (comma-separated). */
const List = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : v,
  z.array(z.string().min(1)),
);

const Int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const TelegramConfig = z.strictObject({
  token: z.string().min(1).optional(),
  allowedUsers: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v),
    z.array(z.coerce.number().int().positive()),
  ).default([]),
  apiRoot: z.url().optional(),
  /** Webhook mode: the public URL Telegram posts updates to; the gateway serves its path. */
  webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Sent back by Telegram in X-Telegram-Bot-Api-Secret-Token; required with webhookUrl. */
  webhookSecret: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'use 16–256 characters of A-Z, a-z, 0-9, _ and -').optional(),
}).refine((t) => t.webhookUrl === undefined || t.webhookSecret !== undefined, {
  message: 'webhookUrl needs webhookSecret (FLYNN_TELEGRAM_WEBHOOK_SECRET)',
  path: ['webhookSecret'],
});

export const Config = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: Int(0, 65535).default(18790),
  dataDir: z.string().min(1).default(join(homedir(), '.flynn')),
  /** When unset, a random token is generated and stored in the data dir. */
  token: z.string().min(16, 'must be at least 16 characters').optional(),
  trustTailscale: Bool.default(false),
  allowUsers: List.default([]),
  allowOrigins: List.default([]),
  maxFrameBytes: Int(1024, 64 * 1024 * 1024).default(DEFAULT_LIMITS.maxFrameBytes),
  maxInFlight: Int(1, 100_000).default(DEFAULT_LIMITS.maxInFlight),
  maxBacklogBytes: Int(64 * 1024, 1024 * 1024 * 1024).default(DEFAULT_LIMITS.maxBacklogBytes),
  heartbeatMs: Int(1000, 3_600_000).default(DEFAULT_LIMITS.heartbeatMs),
  shutdownGraceMs: Int(0, 600_000).default(5000),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** `PROVIDER:MODEL[,PROVIDER:MODEL…]`; unset means offline unless a provider key is present. */
  model: z.string().min(1).optional(),
  systemPromptFile: z.string().min(1).optional(),
  systemPrompt: z.string().min(1).optional(),
  maxTurns: Int(1, 1000).default(16),
  toolTimeoutMs: Int(100, 3_600_000).default(60_000),
  telegram: TelegramConfig.default({ allowedUsers: [] }),
});

export type Config = z.infer<typeof Config>;

/** Endpoints and keys for the providers, read from the variables the official SDKs use. */
export interface ProviderEnv {
  readonly anthropicApiKey?: string;
  readonly anthropicBaseUrl?: string;
  readonly openaiApiKey?: string;
  readonly openaiBaseUrl?: string;
  readonly ollamaHost: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Flag name (as commander reports it) → config key, and the env var for each key. */
const ENV_KEYS: Record<string, string> = {
  host: 'FLYNN_HOST',
  port: 'FLYNN_PORT',
  dataDir: 'FLYNN_DATA_DIR',
  token: 'FLYNN_TOKEN',
  trustTailscale: 'FLYNN_TRUST_TAILSCALE',
  allowUsers: 'FLYNN_ALLOW_USER',
  allowOrigins: 'FLYNN_ALLOW_ORIGIN',
  maxFrameBytes: 'FLYNN_MAX_FRAME_BYTES',
  maxInFlight: 'FLYNN_MAX_IN_FLIGHT',
  maxBacklogBytes: 'FLYNN_MAX_BACKLOG_BYTES',
  heartbeatMs: 'FLYNN_HEARTBEAT_MS',
  shutdownGraceMs: 'FLYNN_SHUTDOWN_GRACE_MS',
  logLevel: 'FLYNN_LOG_LEVEL',
  model: 'FLYNN_MODEL',
  systemPromptFile: 'FLYNN_SYSTEM_PROMPT_FILE',
  maxTurns: 'FLYNN_MAX_TURNS',
  toolTimeoutMs: 'FLYNN_TOOL_TIMEOUT_MS',
};

const TELEGRAM_ENV_KEYS: Record<string, string> = {
  token: 'TELEGRAM_BOT_TOKEN',
  allowedUsers: 'FLYNN_TELEGRAM_ALLOWED_USERS',
  apiRoot: 'FLYNN_TELEGRAM_API_ROOT',
  webhookUrl: 'FLYNN_TELEGRAM_WEBHOOK_URL',
  webhookSecret: 'FLYNN_TELEGRAM_WEBHOOK_SECRET',
};

type Env = Readonly<Record<string, string | undefined>>;
type Raw = Record<string, unknown>;

/** An empty variable counts as unset. */
function envValue(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

function fromEnv(env: Env): Raw {
  const raw: Raw = {};
  for (const [key, name] of Object.entries(ENV_KEYS)) {
    const v = envValue(env, name);
    if (v !== undefined) raw[key] = v;
  }
  const telegram: Raw = {};
  for (const [key, name] of Object.entries(TELEGRAM_ENV_KEYS)) {
    const v = envValue(env, name);
    if (v !== undefined) telegram[key] = v;
  }
  if (Object.keys(telegram).length > 0) raw.telegram = telegram;
  return raw;
}

function readConfigFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  return value as Raw;
}

/** Later layers win; `telegram` merges key by key. */
function merge(layers: Raw[]): Raw {
  const out: Raw = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (key === 'telegram' && typeof value === 'object' && value !== null) {
        out.telegram = { ...(out.telegram as Raw | undefined), ...(value as Raw) };
      } else {
        out[key] = value;
      }
    }
  }
  return out;
}

/**
 * Builds the configuration from parsed flags (keys as in `Config`, plus
 * `config` for the file path), the environment and the file it names.
 * Throws `ConfigError` naming the bad key.
 */
export function loadConfig(flags: Raw, env: Env): Config {
  const { config: configPath, ...flagValues } = flags;
  const envRaw = fromEnv(env);
  const path = (configPath as string | undefined) ?? envValue(env, 'FLYNN_CONFIG');
  const fileRaw = path === undefined ? {} : readConfigFile(resolve(path));
  const parsed = Config.safeParse(merge([fileRaw, envRaw, flagValues]));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') || (issue && 'keys' in issue ? (issue.keys as string[]).join(', ') : '');
    throw new ConfigError(`invalid configuration: ${key ? `${key}: ` : ''}${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function loadProviderEnv(env: Env): ProviderEnv {
  return {
    anthropicApiKey: envValue(env, 'ANTHROPIC_API_KEY'),
    anthropicBaseUrl: envValue(env, 'ANTHROPIC_BASE_URL'),
    openaiApiKey: envValue(env, 'OPENAI_API_KEY'),
    openaiBaseUrl: envValue(env, 'OPENAI_BASE_URL'),
    ollamaHost: envValue(env, 'OLLAMA_HOST') ?? 'http://127.0.0.1:11434',
  };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
