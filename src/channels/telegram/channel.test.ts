import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { createProviderFactory } from '../../models/factory.js';
import { ModelRouter, parseModelChain } from '../../models/router.js';
import { openSqliteStore } from '../../sessions/sqlite-store.js';
import type { SessionStore } from '../../sessions/store.js';
import { createCurrentTimeTool } from '../../tools/builtin/current-time.js';
import { ToolExecutor } from '../../tools/executor.js';
import { ToolRegistry } from '../../tools/registry.js';
import { silentLogger } from '../../../test/helpers.js';
import { openai, startStandIn, type StandIn } from '../../../test/stand-ins.js';
import { TelegramStandIn } from '../../../test/telegram-stand-in.js';
import { createTelegramChannel, type TelegramChannel, type TelegramOptions } from './channel.js';
import { htmlToPlain, MESSAGE_LIMIT } from './format.js';

const ALICE = 1001;
const MALLORY = 666;

interface Harness {
  telegram: TelegramStandIn;
  model: StandIn;
  store: SessionStore;
  agent: Agent;
  channel: TelegramChannel;
}

let h: Harness | undefined;

afterEach(async () => {
  if (!h) return;
  await h.channel.stop(1000);
  await h.agent.shutdown(0);
  await h.telegram.close();
  await h.model.close();
  h.store.close();
  h = undefined;
});

async function start(extra: Partial<TelegramOptions> = {}): Promise<Harness> {
  const telegram = await new TelegramStandIn().start();
  const model = await startStandIn();
  const store = openSqliteStore({ path: ':memory:' });
  const tools = new ToolRegistry();
  tools.register(createCurrentTimeTool());
  const router = new ModelRouter({
    chain: parseModelChain('openai:gpt-test'),
    provider: createProviderFactory({ openaiApiKey: 'sk', openaiBaseUrl: `${model.url}/v1`, ollamaHost: '' }),
    logger: silentLogger,
  });
  const agent = new Agent({ store, router, tools, executor: new ToolExecutor(tools, { timeoutMs: 1000 }), systemPrompt: 's', logger: silentLogger });
  const channel = createTelegramChannel({
    options: { token: '123:ABC', allowedUsers: [ALICE], apiRoot: telegram.url, editIntervalMs: 20, backoffMs: 50, maxBackoffMs: 400, pollTimeoutSeconds: 1, ...extra },
    agent,
    store,
    router,
    logger: silentLogger,
  });
  h = { telegram, model, store, agent, channel };
  channel.start();
  return h;
}

/** Resolves once the bot has said something that matches, in the chat. */
function botSaid(t: TelegramStandIn, chat: number, pattern: RegExp) {
  return t.waitForCall((c) => (c.method === 'sendMessage' || c.method === 'editMessageText') && c.body.chat_id === chat && pattern.test(String(c.body.text)));
}

describe('telegram channel', () => {
  it('streams an answer into one edited message, with the typing indicator', async () => {
    const { telegram, model, store } = await start();
    model.enqueue({ frames: openai.text(['Hello', ' **Alice**', ', how', ' are you?']), frameDelayMs: 40 });
    telegram.userSays(ALICE, 'hi there');
    await botSaid(telegram, ALICE, /how are you\?$/);
    const messages = telegram.chatMessages(ALICE);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.text).toBe('Hello <b>Alice</b>, how are you?');
    expect(messages[0]!.parse_mode).toBe('HTML');
    expect(messages[0]!.edits).toBeGreaterThan(0);
    expect(telegram.calls.some((c) => c.method === 'sendChatAction' && c.body.action === 'typing')).toBe(true);
    // Edits are spaced.
    const edits = telegram.calls.filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText').map((c) => c.at);
    for (let i = 1; i < edits.length; i++) expect(edits[i]! - edits[i - 1]!).toBeGreaterThanOrEqual(18);
    // The chat is bound to a session that holds the turn (stop waits for the run to be saved).
    await h!.channel.stop(2000);
    const sessionId = store.getBinding('telegram', String(ALICE))!;
    expect(store.history(sessionId, 10).items.map((m) => m.content)).toEqual(['hi there', 'Hello **Alice**, how are you?']);
  });

  it('refuses a stranger once and never calls the model', async () => {
    const { telegram, model, store } = await start();
    telegram.userSays(MALLORY, 'let me in');
    telegram.userSays(MALLORY, 'please');
    telegram.userSays(ALICE, '/help');
    await botSaid(telegram, ALICE, /\/switch N/);
    const toMallory = telegram.chatMessages(MALLORY);
    expect(toMallory.map((m) => m.text)).toEqual(['Sorry, this is a private assistant.']);
    expect(model.requests).toHaveLength(0);
    expect(store.sessionCount).toBe(0);
  });

  it('starts, lists and switches sessions', async () => {
    const { telegram, model, store } = await start();
    model.enqueue({ frames: openai.text(['first answer']) }, { frames: openai.text(['second answer']) }, { frames: openai.text(['back again']) });
    telegram.userSays(ALICE, 'Trip to Lisbon');
    await botSaid(telegram, ALICE, /first answer/);
    const first = store.getBinding('telegram', String(ALICE));
    telegram.userSays(ALICE, '/new');
    await botSaid(telegram, ALICE, /Started a new session/);
    telegram.userSays(ALICE, 'Groceries');
    await botSaid(telegram, ALICE, /second answer/);
    expect(store.getBinding('telegram', String(ALICE))).not.toBe(first);
    telegram.userSays(ALICE, '/sessions');
    const list = await botSaid(telegram, ALICE, /1\. Groceries/);
    expect(String(list.body.text)).toMatch(/1\. Groceries \(2 messages\) ← current\n2\. Trip to Lisbon \(2 messages\)/);
    telegram.userSays(ALICE, '/switch 2');
    await botSaid(telegram, ALICE, /Switched to “Trip to Lisbon”/);
    expect(store.getBinding('telegram', String(ALICE))).toBe(first);
    telegram.userSays(ALICE, 'and then?');
    await botSaid(telegram, ALICE, /back again/);
    expect(store.history(first!, 10).items.map((m) => m.content)).toEqual(['Trip to Lisbon', 'first answer', 'and then?', 'back again']);
    telegram.userSays(ALICE, '/switch 9');
    await botSaid(telegram, ALICE, /Usage: \/switch N/);
  });

  it('cancels the answer being written', async () => {
    const { telegram, model } = await start();
    model.enqueue({ frames: openai.partial(['Writing a very long essay']), hang: true });
    telegram.userSays(ALICE, 'essay please');
    await botSaid(telegram, ALICE, /Writing a very long essay/);
    telegram.userSays(ALICE, '/cancel');
    await botSaid(telegram, ALICE, /^Cancelled\.$/);
    await botSaid(telegram, ALICE, /Writing a very long essay\n\n<i>\(cancelled\)<\/i>/);
    expect(await model.requests[0]!.aborted).toBe(true);
  });

  it('splits an answer past 4096 characters into messages, whole and in order', async () => {
    const { telegram, model, store } = await start();
    // Markdown, escapes and emoji, with paragraphs, well past the limit once rendered.
    const paragraph = (i: number) => `## Part ${i}\n**Bold** & _italic_ <tags> 🎉🚀 \`code_${i}\` ${'lorem ipsum dolor '.repeat(25)}`;
    const answer = Array.from({ length: 20 }, (_, i) => paragraph(i)).join('\n\n');
    const pieces = answer.match(/[\s\S]{1,700}/g)!;
    model.enqueue({ frames: openai.text(pieces) });
    telegram.userSays(ALICE, 'long one');
    await botSaid(telegram, ALICE, /Part 19/);
    await h!.channel.stop(5000); // waits for the answer's final flush
    const messages = telegram.chatMessages(ALICE);
    expect(messages.length).toBeGreaterThan(2);
    for (const m of messages) expect(m.text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    const shown = messages.map((m) => htmlToPlain(m.text)).join('');
    // Every character of the answer, in order, once: only the Markdown markers are gone.
    const plain = (i: number) => `Part ${i}\nBold & italic <tags> 🎉🚀 code_${i} ${'lorem ipsum dolor '.repeat(25)}`;
    expect(shown).toBe(Array.from({ length: 20 }, (_, i) => plain(i)).join('\n\n'));
    const sessionId = store.getBinding('telegram', String(ALICE))!;
    expect(store.history(sessionId, 10).items[1]!.content).toBe(answer);
  });

  it('honours a 429 retry_after before sending again', async () => {
    const { telegram, model } = await start();
    model.enqueue({ frames: openai.text(['patience']) });
    telegram.fail('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    telegram.userSays(ALICE, 'hello');
    const sends = () => telegram.calls.filter((c) => c.method === 'sendMessage');
    const delivered = await telegram.waitForCall((c) => c.method === 'sendMessage' && sends().length >= 2);
    const refused = sends()[0]!;
    expect(telegram.chatMessages(ALICE).map((m) => m.text)).toEqual(['patience']);
    expect(delivered.at - refused.at).toBeGreaterThanOrEqual(1000);
  });

  it('reports a 409 conflict once in status and backs off instead of looping', async () => {
    const { telegram, channel } = await start();
    telegram.fail('getUpdates', { error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' }, 4);
    const polls = () => telegram.calls.filter((c) => c.method === 'getUpdates');
    await telegram.waitForCall((c) => c.method === 'getUpdates' && polls().length >= 4);
    expect(channel.status()).toMatchObject({ status: 'conflict', username: 'flynn_test_bot', error: expect.stringMatching(/409/) });
    await telegram.waitForCall((c) => c.method === 'getUpdates' && polls().length >= 5);
    const gaps = polls()
      .slice(0, 5)
      .map((c, i, all) => (i === 0 ? 0 : c.at - all[i - 1]!.at))
      .slice(1);
    // 50, 100, 200, 400 ms: each wait at least the backoff, and growing.
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    expect(gaps[3]).toBeGreaterThanOrEqual(390);
    await telegram.waitForCall(() => channel.status().status === 'polling');
    expect(channel.status().status).toBe('polling');
  });

  it('falls back to plain text when Telegram refuses the entities, and retries a 5xx', async () => {
    const { telegram, model } = await start();
    model.enqueue({ frames: openai.text(['**bold** claim']) });
    telegram.fail('sendMessage', { error_code: 502, description: 'Bad Gateway' });
    telegram.fail('sendMessage', { error_code: 400, description: "Bad Request: can't parse entities: unsupported start tag" });
    telegram.userSays(ALICE, 'hello');
    await botSaid(telegram, ALICE, /^bold claim$/);
    await h!.channel.stop(2000);
    expect(telegram.chatMessages(ALICE)).toEqual([expect.objectContaining({ text: 'bold claim', parse_mode: undefined })]);
  });

  it('tells the user when an answer finally cannot be delivered, and keeps it whole in history', async () => {
    const { telegram, model, store } = await start();
    model.enqueue({ frames: openai.text(['an answer Telegram will not take']) });
    telegram.fail('sendMessage', { error_code: 403, description: 'Forbidden: bot was blocked by the user' }, 2);
    telegram.userSays(ALICE, 'hello');
    await botSaid(telegram, ALICE, /couldn't deliver the whole answer/);
    const sessionId = store.getBinding('telegram', String(ALICE))!;
    expect(store.history(sessionId, 10).items[1]!.content).toBe('an answer Telegram will not take');
  });
});

describe('telegram channel in webhook mode', () => {
  it('sets the webhook with its secret, answers posted updates, and refuses a wrong secret', async () => {
    const secret = 'webhook-secret-0123456789';
    const { telegram, model, channel } = await start({ webhook: { url: 'https://flynn.example/telegram/hook', secret } });
    const server = createServer((req, res) => {
      if (!channel.http(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/telegram/hook`;
    const set = await telegram.waitForCall((c) => c.method === 'setWebhook');
    expect(set.body).toMatchObject({ url: 'https://flynn.example/telegram/hook', secret_token: secret });
    // setWebhook is called once the bot is initialised, so updates are accepted from here on.

    const post = (body: unknown, token?: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { 'x-telegram-bot-api-secret-token': token } : {}) }, body: JSON.stringify(body) });
    expect((await post(telegram.textUpdate(ALICE, 'sneaky'), 'wrong-secret-0123456789')).status).toBe(401);
    expect((await post(telegram.textUpdate(ALICE, 'sneaky'))).status).toBe(401);
    expect((await post({ not: 'an update' }, secret)).status).toBe(400);
    expect((await fetch(url.replace('/hook', '/other'), { method: 'POST' })).status).toBe(404);
    expect(model.requests).toHaveLength(0);

    model.enqueue({ frames: openai.text(['hooked']) });
    expect((await post(telegram.textUpdate(ALICE, 'hello by webhook'), secret)).status).toBe(200);
    await botSaid(telegram, ALICE, /^hooked$/);
    expect(model.requests).toHaveLength(1);
    expect(channel.status()).toEqual({ status: 'webhook', username: 'flynn_test_bot' });
    expect(telegram.calls.some((c) => c.method === 'getUpdates')).toBe(false);
  });
});
