/**
 * How updates reach the Telegram channel: long polling (the default) or a
 * webhook served on the gateway's HTTP server. Either way each update is
 * handed to `handle` without waiting for the previous one, so /cancel works
 * while an answer streams.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { GrammyError, HttpError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from 'pino';
import { createSecretMatcher } from '../../secret.js';

export type TelegramState = 'starting' | 'polling' | 'webhook' | 'conflict' | 'error' | 'stopped';

export interface TelegramStatus {
  readonly status: TelegramState;
  readonly username?: string;
  readonly error?: string;
}

export interface IntakeOptions {
  /** First wait after a failure; doubles up to `maxBackoffMs`. Default 1 000 ms. */
  readonly backoffMs?: number;
  /** Default 60 000 ms. */
  readonly maxBackoffMs?: number;
  /** Long-polling timeout in seconds. Default 30. */
  readonly pollTimeoutSeconds?: number;
}

export interface Webhook {
  readonly url: string;
  readonly secret: string;
}

export interface IntakeDeps {
  readonly bot: Bot;
  readonly options: IntakeOptions;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly handle: (update: Update) => void;
  /** Where the current status is kept, for `system.health`. */
  readonly status: { current: TelegramStatus };
}

/** Telegram's updates are small; anything larger is not Telegram. */
const MAX_UPDATE_BYTES = 1024 * 1024;

/**
 * Long polling with its own loop rather than `bot.start()`, so that a 409
 * (another process polling this token) is reported once and backed off
 * instead of stopping the bot or looping hot. Returns when `signal` aborts,
 * or on a refused token (401).
 */
export async function pollUpdates(deps: IntakeDeps): Promise<void> {
  const { bot, options, logger, signal, handle, status } = deps;
  // grammY types its signal with a shim; the runtime object is the platform's own.
  const grammySignal = signal as unknown as Parameters<typeof bot.api.getUpdates>[1];
  let backoff = options.backoffMs ?? 1000;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  let offset = 0;
  let reportedConflict = false;
  const wait = async (): Promise<void> => {
    await delay(backoff, undefined, { signal }).catch(() => undefined);
    backoff = Math.min(maxBackoff, backoff * 2);
  };
  const polling = (): void => {
    status.current = { status: 'polling', username: bot.botInfo.username };
    logger.info({ username: bot.botInfo.username }, 'telegram: polling');
  };
  status.current = { status: 'starting' };
  while (!signal.aborted) {
    try {
      if (!bot.isInited()) {
        await bot.init(grammySignal);
        // A webhook left set from an earlier run would make getUpdates fail.
        await bot.api.deleteWebhook({}, grammySignal);
      }
      // A long poll can take 30 s: say "polling" once the bot is known, and
      // again after a failure only when a poll has succeeded.
      if (status.current.status === 'starting') polling();
      const updates = await bot.api.getUpdates({ offset, timeout: options.pollTimeoutSeconds ?? 30, allowed_updates: ['message', 'callback_query'] }, grammySignal);
      if (status.current.status !== 'polling') polling();
      backoff = options.backoffMs ?? 1000;
      reportedConflict = false;
      for (const update of updates) {
        offset = update.update_id + 1;
        handle(update);
      }
    } catch (error) {
      if (signal.aborted) break;
      const username = bot.isInited() ? bot.botInfo.username : undefined;
      if (error instanceof GrammyError && error.error_code === 409) {
        const message = 'another process is polling this bot token (409 Conflict); stop it or use a different token';
        if (!reportedConflict) logger.error({ username }, `telegram: ${message}`);
        reportedConflict = true;
        status.current = { status: 'conflict', username, error: message };
      } else if (error instanceof GrammyError && error.error_code === 401) {
        status.current = { status: 'error', error: 'Telegram refused the bot token (401): check TELEGRAM_BOT_TOKEN' };
        logger.error('telegram: the bot token was refused (401); the channel stops');
        return;
      } else {
        const message = error instanceof GrammyError ? error.description : error instanceof HttpError ? 'network failure' : String(error);
        status.current = { status: 'error', username, error: message };
        logger.warn({ err: message }, 'telegram: polling failed, backing off');
      }
      await wait();
    }
  }
}

/** Webhook mode: get to know the bot, then tell Telegram where to post, retrying with backoff. */
export async function registerWebhook(deps: IntakeDeps, webhook: Webhook): Promise<void> {
  const { bot, options, logger, signal, status } = deps;
  const grammySignal = signal as unknown as Parameters<typeof bot.api.getUpdates>[1];
  let backoff = options.backoffMs ?? 1000;
  status.current = { status: 'starting' };
  while (!signal.aborted) {
    try {
      if (!bot.isInited()) await bot.init(grammySignal);
      await bot.api.setWebhook(webhook.url, { secret_token: webhook.secret, allowed_updates: ['message', 'callback_query'] }, grammySignal);
      status.current = { status: 'webhook', username: bot.botInfo.username };
      logger.info({ username: bot.botInfo.username }, 'telegram: webhook set');
      return;
    } catch (error) {
      if (signal.aborted) return;
      const message = error instanceof GrammyError ? error.description : String(error);
      status.current = { status: 'error', error: `setting the webhook failed: ${message}` };
      logger.warn({ err: message }, 'telegram: setting the webhook failed, backing off');
      await delay(backoff, undefined, { signal }).catch(() => undefined);
      backoff = Math.min(options.maxBackoffMs ?? 60_000, backoff * 2);
    }
  }
}

/**
 * The webhook's HTTP route: POSTs to the URL's path carrying the secret
 * token are handed to `handle`; the body is bounded; everything else falls
 * through (false).
 */
export function createWebhookRoute(deps: Pick<IntakeDeps, 'bot' | 'logger' | 'handle'>, webhook: Webhook) {
  const { bot, logger, handle } = deps;
  const webhookPath = new URL(webhook.url).pathname;
  const secretMatches = createSecretMatcher(webhook.secret);
  return function webhookRoute(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== webhookPath) return false;
    const reply = (status: number): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{}' : '');
    };
    const secret = req.headers['x-telegram-bot-api-secret-token'];
    if (typeof secret !== 'string' || !secretMatches(secret)) {
      logger.warn('telegram: webhook request with a wrong secret token');
      reply(401);
      req.resume();
      return true;
    }
    if (!bot.isInited()) {
      reply(503); // Telegram retries later
      req.resume();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UPDATE_BYTES) {
        reply(413);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      let update: Update;
      try {
        update = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Update;
        if (typeof update !== 'object' || update === null || typeof update.update_id !== 'number') throw new Error('not an update');
      } catch {
        reply(400);
        return;
      }
      handle(update);
      reply(200);
    });
    return true;
  };
}
