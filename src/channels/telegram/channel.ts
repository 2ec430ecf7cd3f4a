/**
 * The Telegram channel: the same agent, sessions, tools and model router as
 * the gateway, reached from a phone. Long polling with its own loop, so a
 * 409 (another process polling this token) is reported once and backed off
 * rather than looped on, and updates are handled without waiting for each
 * other (so /cancel works while an answer streams).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { autoRetry } from '@grammyjs/auto-retry';
import { Bot, GrammyError, HttpError, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from 'pino';
import type { Agent } from '../../agent/agent.js';
import type { AgentEvent } from '../../agent/events.js';
import type { ModelRouter } from '../../models/router.js';
import { RpcError } from '../../protocol/errors.js';
import type { SessionStore } from '../../sessions/store.js';
import { createSecretMatcher } from '../../secret.js';
import { AnswerStream } from './answer-stream.js';
import { escapeHtml } from './format.js';

export const CHANNEL = 'telegram';

export type TelegramState = 'starting' | 'polling' | 'webhook' | 'conflict' | 'error' | 'stopped';

export interface TelegramStatus {
  readonly status: TelegramState;
  readonly username?: string;
  readonly error?: string;
}

export interface TelegramOptions {
  readonly token: string;
  /** Numeric Telegram user ids allowed to talk to the agent. */
  readonly allowedUsers: readonly number[];
  /** A self-hosted Bot API server; default Telegram's. */
  readonly apiRoot?: string;
  /** Gap between API calls for one answer. Default 250 ms. */
  readonly editIntervalMs?: number;
  /** First wait after a polling failure; doubles up to `maxBackoffMs`. Default 1 000 ms. */
  readonly backoffMs?: number;
  /** Default 60 000 ms. */
  readonly maxBackoffMs?: number;
  /** Long-polling timeout in seconds. Default 30. */
  readonly pollTimeoutSeconds?: number;
  /**
   * Receive updates by webhook instead of long polling: Telegram posts to
   * `url` (public, HTTPS, reaching this gateway's port, e.g. through a
   * reverse proxy) with `secret` in `X-Telegram-Bot-Api-Secret-Token`; the
   * gateway serves the URL's path.
   */
  readonly webhook?: { readonly url: string; readonly secret: string };
}

export interface TelegramDeps {
  readonly options: TelegramOptions;
  readonly agent: Agent;
  readonly store: SessionStore;
  readonly router: ModelRouter;
  readonly logger: Logger;
}

export interface TelegramChannel {
  start(): void;
  /** The webhook route for the gateway's HTTP server; false for any other request. */
  http(req: IncomingMessage, res: ServerResponse): boolean;
  /** Stops polling at once; waits up to `drainMs` for answers being delivered. */
  stop(drainMs?: number): Promise<void>;
  status(): TelegramStatus;
}

const HELP = [
  'I am Flynn, your own AI agent. Send me a message and I answer here.',
  '',
  '/new — start a fresh session',
  '/sessions — your recent sessions',
  '/switch N — continue session N of /sessions',
  '/cancel — stop the answer being written',
  '/model — the model answering',
  '/help — this text',
].join('\n');

const REFUSAL = 'Sorry, this is a private assistant.';
/** Strangers remembered (to refuse each only once); the oldest is forgotten first. */
const MAX_REFUSED = 10_000;
const TYPING_EVERY_MS = 4000;
/** Telegram's updates are small; anything larger is not Telegram. */
const MAX_UPDATE_BYTES = 1024 * 1024;
const RECENT_SESSIONS = 10;

export function createTelegramChannel(deps: TelegramDeps): TelegramChannel {
  const { options, agent, store, router, logger } = deps;
  const bot = new Bot(options.token, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});
  // 429s are waited out (retry_after), 5xx and network failures retried with backoff.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 120 }));
  const allowed = new Set(options.allowedUsers);
  const refused = new Set<number>();
  const controller = new AbortController();
  let state: TelegramStatus = { status: 'stopped' };
  let loop: Promise<void> | undefined;
  const inFlight = new Set<Promise<unknown>>();

  function sessionFor(chatId: number): string {
    const bound = store.getBinding(CHANNEL, String(chatId));
    if (bound !== undefined && store.getSession(bound) !== undefined) return bound;
    const session = store.createSession();
    store.setBinding(CHANNEL, String(chatId), session.id);
    return session.id;
  }

  // Strangers get one refusal and never reach the model or the store.
  bot.use(async (ctx, next) => {
    const from = ctx.from?.id;
    if (from !== undefined && allowed.has(from)) return next();
    if (from === undefined || refused.has(from)) return;
    if (refused.size >= MAX_REFUSED) refused.delete(refused.values().next().value!);
    refused.add(from);
    logger.info({ user: from }, 'telegram: refused a user not in allowedUsers');
    if (ctx.chat) await ctx.reply(REFUSAL);
  });

  bot.command(['start', 'help'], (ctx) => ctx.reply(HELP));

  bot.command('new', async (ctx) => {
    const session = store.createSession();
    store.setBinding(CHANNEL, String(ctx.chat.id), session.id);
    await ctx.reply('Started a new session.');
  });

  bot.command('sessions', async (ctx) => {
    const current = sessionFor(ctx.chat.id);
    const { items } = store.listSessions(RECENT_SESSIONS);
    const lines = items.map(
      (s, i) => `${i + 1}. ${escapeHtml(s.title ?? 'Untitled')} (${s.messageCount} messages)${s.id === current ? ' ← current' : ''}`,
    );
    await ctx.reply(lines.length > 0 ? `${lines.join('\n')}\n\n/switch N to continue one.` : 'No sessions yet.', { parse_mode: 'HTML' });
  });

  bot.command('switch', async (ctx) => {
    const arg = ctx.match.trim();
    const { items } = store.listSessions(RECENT_SESSIONS);
    const n = Number(arg);
    const target = Number.isInteger(n) && n >= 1 ? items[n - 1] : arg !== '' ? store.getSession(arg) : undefined;
    if (!target) {
      await ctx.reply(`Usage: /switch N, with N from /sessions (1–${Math.max(items.length, 1)}).`);
      return;
    }
    store.setBinding(CHANNEL, String(ctx.chat.id), target.id);
    await ctx.reply(`Switched to “${target.title ?? 'Untitled'}” (${target.messageCount} messages).`);
  });

  bot.command('cancel', async (ctx) => {
    const cancelled = agent.cancel({ sessionId: sessionFor(ctx.chat.id) });
    await ctx.reply(cancelled ? 'Cancelled.' : 'Nothing is running.');
  });

  bot.command('model', async (ctx) => {
    const { provider, model } = router.primary;
    await ctx.reply(`Model: ${provider}:${model}`);
  });

  bot.on('message:text', (ctx) => answer(ctx, ctx.message.text));

  bot.catch((error) => logger.error({ err: error.error instanceof Error ? error.error.message : String(error.error) }, 'telegram handler failed'));

  async function answer(ctx: Context, text: string): Promise<void> {
    const chatId = ctx.chat!.id;
    const stream = new AnswerStream({ api: bot.api, chatId, logger, minIntervalMs: options.editIntervalMs });
    const typing = (): void => void bot.api.sendChatAction(chatId, 'typing').catch(() => undefined);
    typing();
    const timer = setInterval(typing, TYPING_EVERY_MS);
    const sink = (event: AgentEvent): void => {
      if (event.type === 'text.delta') stream.text(event.text);
      else if (event.type === 'tool.call') stream.tool(event.name);
    };
    try {
      const result = await agent.send({ sessionId: sessionFor(chatId), message: text }, sink);
      if (result.stopReason === 'cancelled') stream.text('\n\n_(cancelled)_');
    } catch (error) {
      const message = error instanceof RpcError ? error.message : 'something went wrong';
      stream.text(`\n\n⚠️ ${message}`);
      if (!(error instanceof RpcError)) logger.error({ err: error }, 'telegram run failed');
    } finally {
      clearInterval(timer);
    }
    await stream.finish();
  }

  function handle(update: Update): void {
    const task = bot.handleUpdate(update).catch((error: unknown) => logger.error({ err: String(error) }, 'telegram update failed'));
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }

  async function poll(): Promise<void> {
    const signal = controller.signal;
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
      state = { status: 'polling', username: bot.botInfo.username };
      logger.info({ username: bot.botInfo.username }, 'telegram: polling');
    };
    state = { status: 'starting' };
    while (!signal.aborted) {
      try {
        if (!bot.isInited()) {
          await bot.init(grammySignal);
          // A webhook left set from an earlier run would make getUpdates fail.
          await bot.api.deleteWebhook({}, grammySignal);
        }
        // A long poll can take 30 s: say "polling" once the bot is known, and
        // again after a failure only when a poll has succeeded.
        if (state.status === 'starting') polling();
        const updates = await bot.api.getUpdates({ offset, timeout: options.pollTimeoutSeconds ?? 30, allowed_updates: ['message', 'callback_query'] }, grammySignal);
        if (state.status !== 'polling') polling();
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
          state = { status: 'conflict', username, error: message };
        } else if (error instanceof GrammyError && error.error_code === 401) {
          state = { status: 'error', error: 'Telegram refused the bot token (401): check TELEGRAM_BOT_TOKEN' };
          logger.error('telegram: the bot token was refused (401); the channel stops');
          return;
        } else {
          const message = error instanceof GrammyError ? error.description : error instanceof HttpError ? 'network failure' : String(error);
          state = { status: 'error', username, error: message };
          logger.warn({ err: message }, 'telegram: polling failed, backing off');
        }
        await wait();
      }
    }
  }

  /** Webhook mode: get to know the bot, then tell Telegram where to post, retrying with backoff. */
  async function registerWebhook(webhook: { url: string; secret: string }): Promise<void> {
    const signal = controller.signal;
    const grammySignal = signal as unknown as Parameters<typeof bot.api.getUpdates>[1];
    let backoff = options.backoffMs ?? 1000;
    state = { status: 'starting' };
    while (!signal.aborted) {
      try {
        if (!bot.isInited()) await bot.init(grammySignal);
        await bot.api.setWebhook(webhook.url, { secret_token: webhook.secret, allowed_updates: ['message', 'callback_query'] }, grammySignal);
        state = { status: 'webhook', username: bot.botInfo.username };
        logger.info({ username: bot.botInfo.username }, 'telegram: webhook set');
        return;
      } catch (error) {
        if (signal.aborted) return;
        const message = error instanceof GrammyError ? error.description : String(error);
        state = { status: 'error', error: `setting the webhook failed: ${message}` };
        logger.warn({ err: message }, 'telegram: setting the webhook failed, backing off');
        await delay(backoff, undefined, { signal }).catch(() => undefined);
        backoff = Math.min(options.maxBackoffMs ?? 60_000, backoff * 2);
      }
    }
  }

  const webhookPath = options.webhook ? new URL(options.webhook.url).pathname : undefined;
  const secretMatches = options.webhook ? createSecretMatcher(options.webhook.secret) : undefined;

  function http(req: IncomingMessage, res: ServerResponse): boolean {
    if (webhookPath === undefined || secretMatches === undefined) return false;
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
  }

  return {
    http,
    start() {
      loop ??= (options.webhook ? registerWebhook(options.webhook) : poll()).finally(() => {
        if (state.status !== 'error' && state.status !== 'webhook') state = { status: 'stopped' };
      });
    },
    async stop(drainMs = 5000) {
      controller.abort();
      await loop;
      const drained = new AbortController();
      await Promise.race([Promise.allSettled([...inFlight]), delay(drainMs, undefined, { signal: drained.signal }).catch(() => undefined)]);
      drained.abort();
      state = { status: 'stopped', ...(state.username ? { username: state.username } : {}) };
    },
    status: () => state,
  };
}
