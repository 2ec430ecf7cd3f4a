/**
 * The Telegram channel: the same agent, sessions, tools and model router as
 * the gateway, reached from a phone. This module is the bot's behaviour
 * (access, commands, answers); `intake.ts` is how updates arrive.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { autoRetry } from '@grammyjs/auto-retry';
import { Bot, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from 'pino';
import type { Agent } from '../../agent/agent.js';
import type { AgentEvent } from '../../agent/events.js';
import type { ModelRouter } from '../../models/router.js';
import { RpcError } from '../../protocol/errors.js';
import type { SessionStore } from '../../sessions/store.js';
import { AnswerStream } from './answer-stream.js';
import { escapeHtml } from './format.js';
import { createWebhookRoute, pollUpdates, registerWebhook, type IntakeOptions, type TelegramStatus, type Webhook } from './intake.js';

export const CHANNEL = 'telegram';

export type { TelegramStatus };

export interface TelegramOptions extends IntakeOptions {
  readonly token: string;
  /** Numeric Telegram user ids allowed to talk to the agent. */
  readonly allowedUsers: readonly number[];
  /** A self-hosted Bot API server; default Telegram's. */
  readonly apiRoot?: string;
  /** Gap between API calls for one answer. Default 250 ms. */
  readonly editIntervalMs?: number;
  /**
   * Receive updates by webhook instead of long polling: Telegram posts to
   * `url` (public, HTTPS, reaching this gateway's port, e.g. through a
   * reverse proxy) with `secret` in `X-Telegram-Bot-Api-Secret-Token`; the
   * gateway serves the URL's path.
   */
  readonly webhook?: Webhook;
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
const RECENT_SESSIONS = 10;

export function createTelegramChannel(deps: TelegramDeps): TelegramChannel {
  const { options, agent, store, router, logger } = deps;
  const bot = new Bot(options.token, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});
  // 429s are waited out (retry_after), 5xx and network failures retried with backoff.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 120 }));
  const allowed = new Set(options.allowedUsers);
  const refused = new Set<number>();
  const controller = new AbortController();
  const status: { current: TelegramStatus } = { current: { status: 'stopped' } };
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

  const intake = { bot, options, logger, signal: controller.signal, handle, status };

  return {
    http: options.webhook ? createWebhookRoute(intake, options.webhook) : () => false,
    start() {
      loop ??= (options.webhook ? registerWebhook(intake, options.webhook) : pollUpdates(intake)).finally(() => {
        if (status.current.status !== 'error' && status.current.status !== 'webhook') status.current = { status: 'stopped' };
      });
    },
    async stop(drainMs = 5000) {
      controller.abort();
      await loop;
      const drained = new AbortController();
      await Promise.race([Promise.allSettled([...inFlight]), delay(drainMs, undefined, { signal: drained.signal }).catch(() => undefined)]);
      drained.abort();
      status.current = { status: 'stopped', ...(status.current.username ? { username: status.current.username } : {}) };
    },
    status: () => status.current,
  };
}
