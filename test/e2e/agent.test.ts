import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { AgentEvent } from '../../src/agent/events.js';
import { openSqliteStore } from '../../src/sessions/sqlite-store.js';
import type { Message, Session } from '../../src/sessions/schema.js';
import type { RpcClient} from '../helpers.js';
import { tempDir, type Notification } from '../helpers.js';
import { startTestFlynn, type TestFlynn } from '../flynn.js';
import { anthropic, openai, startStandIn, type StandIn } from '../stand-ins.js';

interface SendResult {
  runId: string;
  sessionId: string;
  message: Message;
  stopReason: string;
  usage: { inputTokens: number; outputTokens: number };
}

let flynn: TestFlynn | undefined;
const standIns: StandIn[] = [];

afterEach(async () => {
  await flynn?.stop();
  flynn = undefined;
  for (const s of standIns.splice(0)) await s.close();
});

async function withOpenAI(flags: Record<string, unknown> = {}): Promise<{ flynn: TestFlynn; upstream: StandIn }> {
  const upstream = await startStandIn();
  standIns.push(upstream);
  flynn = await startTestFlynn({ model: 'openai:gpt-test', ...flags }, { openaiApiKey: 'sk-test', openaiBaseUrl: `${upstream.url}/v1` });
  return { flynn, upstream };
}

function events(c: RpcClient, runId?: string): AgentEvent[] {
  return c.notifications
    .filter((n) => n.method === 'agent.event')
    .map((n) => n.params as unknown as AgentEvent)
    .filter((e) => runId === undefined || e.runId === runId);
}

const isEvent = (type: string) => (n: Notification) => n.method === 'agent.event' && n.params.type === type;

describe('agent over the gateway', () => {
  it('streams an offline answer whose deltas make up the saved message, seq from 1', async () => {
    flynn = await startTestFlynn();
    const c = await flynn.client();
    const result = await c.call<SendResult>('agent.send', { message: 'hello' });
    expect(result.stopReason).toBe('end');
    const evs = events(c, result.runId);
    expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i + 1));
    expect(evs[0]!.type).toBe('run.started');
    expect(evs.at(-1)).toMatchObject({ type: 'run.finished', stopReason: 'end' });
    const deltas = evs.filter((e) => e.type === 'text.delta');
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.map((e) => (e as { text: string }).text).join('')).toBe(result.message.content);
    expect(result.message.content).toMatch(/No model is configured/);
    expect(result.message.content).toMatch(/--model/);
    const history = await c.call<{ messages: Message[] }>('sessions.history', { sessionId: result.sessionId });
    expect(history.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'hello'],
      ['assistant', result.message.content],
    ]);
    const health = await c.call('system.health');
    expect(health).toMatchObject({ sessions: 1, tools: 1, model: { provider: 'offline' } });
  });

  it('runs a tool round trip through an OpenAI-compatible server', async () => {
    const { flynn, upstream } = await withOpenAI();
    upstream.enqueue({ frames: openai.toolCall('call_9', 'current_time', { timezone: 'Europe/Berlin' }) }, { frames: openai.text(['It is ', 'noon.']) });
    const c = await flynn.client();
    const result = await c.call<SendResult>('agent.send', { message: 'time in Berlin?' });
    expect(result.message.content).toBe('It is noon.');
    expect(result.usage).toEqual({ inputTokens: 31, outputTokens: 16 });
    const types = events(c, result.runId).map((e) => e.type);
    expect(types).toEqual(['run.started', 'tool.call', 'tool.result', 'text.delta', 'text.delta', 'run.finished']);
    const toolResult = events(c, result.runId).find((e) => e.type === 'tool.result') as { content: string; isError: boolean };
    expect(toolResult.isError).toBe(false);
    expect(toolResult.content).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0[12]:00 \(Europe\/Berlin\)$/);
    // The second model call carries the tool result back.
    const second = upstream.requests[1]!.body.messages as { role: string; tool_call_id?: string }[];
    expect(second.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_9' });
    const history = await c.call<{ messages: Message[] }>('sessions.history', { sessionId: result.sessionId });
    expect(history.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(history.messages[1]!.toolCalls).toEqual([{ id: 'call_9', name: 'current_time', arguments: { timezone: 'Europe/Berlin' } }]);
  });

  it('runs a tool round trip through an Anthropic Messages server', async () => {
    const upstream = await startStandIn();
    standIns.push(upstream);
    upstream.enqueue({ frames: anthropic.toolUse('toolu_7', 'current_time', { timezone: 'Asia/Tokyo' }) }, { frames: anthropic.text(['Evening ', 'in Tokyo.']) });
    flynn = await startTestFlynn({ model: 'anthropic:claude-test' }, { anthropicApiKey: 'sk-ant', anthropicBaseUrl: upstream.url });
    const c = await flynn.client();
    const result = await c.call<SendResult>('agent.send', { message: 'time in Tokyo?' });
    expect(result.message.content).toBe('Evening in Tokyo.');
    expect(events(c, result.runId).map((e) => e.type)).toEqual([
      'run.started',
      'text.delta', // "Let me check." before the tool call
      'tool.call',
      'tool.result',
      'text.delta',
      'text.delta',
      'run.finished',
    ]);
    const second = upstream.requests[1]!.body.messages as { role: string; content: { type: string; tool_use_id?: string; content?: string }[] }[];
    const toolResult = second.at(-1)!.content[0]!;
    expect(toolResult).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_7' });
    expect(toolResult.content).toMatch(/\+09:00 \(Asia\/Tokyo\)$/);
    const history = await c.call<{ messages: Message[] }>('sessions.history', { sessionId: result.sessionId });
    expect(history.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'time in Tokyo?'],
      ['assistant', 'Let me check.'],
      ['tool', toolResult.content],
      ['assistant', 'Evening in Tokyo.'],
    ]);
  });

  it('gives an unknown tool back to the model as an error result', async () => {
    const { flynn, upstream } = await withOpenAI();
    upstream.enqueue({ frames: openai.toolCall('call_x', 'rm_rf', { path: '/' }) }, { frames: openai.text(['Sorry.']) });
    const c = await flynn.client();
    const result = await c.call<SendResult>('agent.send', { message: 'clean up' });
    expect(result.stopReason).toBe('end');
    const toolResult = events(c, result.runId).find((e) => e.type === 'tool.result');
    expect(toolResult).toMatchObject({ id: 'call_x', isError: true, content: expect.stringMatching(/no tool named rm_rf/) });
  });

  it('cancels mid-stream: the upstream request is aborted and the partial text saved', async () => {
    const { flynn, upstream } = await withOpenAI();
    upstream.enqueue({ frames: openai.partial(['Once upon', ' a time']), hang: true });
    const c = await flynn.client();
    const pending = c.call<SendResult>('agent.send', { message: 'tell me a story' });
    const first = await c.waitFor(isEvent('text.delta'));
    await c.waitFor((n) => isEvent('text.delta')(n) && n.params.text === ' a time');
    expect(await c.call('agent.cancel', { runId: first.params.runId })).toEqual({ cancelled: true });
    const result = await pending;
    expect(result.stopReason).toBe('cancelled');
    expect(result.message.content).toBe('Once upon a time');
    expect(await upstream.requests[0]!.aborted).toBe(true);
    expect(events(c, result.runId).at(-1)).toMatchObject({ type: 'run.finished', stopReason: 'cancelled' });
    const history = await c.call<{ messages: Message[] }>('sessions.history', { sessionId: result.sessionId });
    expect(history.messages.map((m) => m.content)).toEqual(['tell me a story', 'Once upon a time']);
    expect(await c.call('agent.cancel', { runId: result.runId })).toEqual({ cancelled: false });
  });

  it('falls back to the second model after the first keeps failing', async () => {
    const primary = await startStandIn({ status: 503, errorBody: { error: { message: 'down' } } });
    const secondary = await startStandIn();
    standIns.push(primary, secondary);
    secondary.enqueue({ frames: anthropic.text(['From ', 'Claude']) });
    flynn = await startTestFlynn(
      { model: 'openai:gpt-test,anthropic:claude-test' },
      { openaiApiKey: 'sk', openaiBaseUrl: `${primary.url}/v1`, anthropicApiKey: 'sk-ant', anthropicBaseUrl: secondary.url },
    );
    const c = await flynn.client();
    const result = await c.call<SendResult>('agent.send', { message: 'hi' });
    expect(result.message.content).toBe('From Claude');
    expect(primary.requests).toHaveLength(3); // the first try and two retries
    expect(secondary.requests).toHaveLength(1);
  });

  it('answers -32011 with run.error when every model fails, keeping the user message', async () => {
    const { flynn, upstream } = await withOpenAI();
    upstream.enqueue({ status: 401, errorBody: { error: { message: 'bad key' } } });
    const c = await flynn.client();
    const response = await c.request('agent.send', { message: 'hi' });
    expect(response.error).toMatchObject({ code: -32011, data: { provider: 'openai', retryable: false } });
    const data = response.error!.data as { runId: string; sessionId: string };
    expect(events(c, data.runId).map((e) => e.type)).toEqual(['run.started', 'run.error', 'run.finished']);
    expect(upstream.requests).toHaveLength(1); // not retryable: no retry
    // The same idempotency key after a failure runs again.
    upstream.enqueue({ status: 401, errorBody: { error: { message: 'bad key' } } }, { frames: openai.text(['second try']) });
    const first = await c.request('agent.send', { message: 'retry me', idempotencyKey: 'k-fail' });
    expect(first.error).toMatchObject({ code: -32011 });
    const again = await c.call<SendResult>('agent.send', { message: 'retry me', idempotencyKey: 'k-fail' });
    expect(again.message.content).toBe('second try');
    const history = await c.call<{ messages: Message[] }>('sessions.history', { sessionId: data.sessionId });
    expect(history.messages[0]).toMatchObject({ role: 'user', content: 'hi' });
  });

  it('keeps two concurrent sends on one session in order', async () => {
    const { flynn, upstream } = await withOpenAI();
    upstream.enqueue({ frames: openai.text(['first ', 'answer']), frameDelayMs: 15 }, { frames: openai.text(['second answer']) });
    const c = await flynn.client();
    const { session } = await c.call<{ session: Session }>('sessions.create', { title: 'order' });
    const a = c.call<SendResult>('agent.send', { sessionId: session.id, message: 'one' });
    const b = c.call<SendResult>('agent.send', { sessionId: session.id, message: 'two' });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.message.content).toBe('first answer');
    expect(rb.message.content).toBe('second answer');
    const all = events(c);
    const aFinished = all.findIndex((e) => e.runId === ra.runId && e.type === 'run.finished');
    const bStarted = all.findIndex((e) => e.runId === rb.runId && e.type === 'run.started');
    expect(bStarted).toBeGreaterThan(aFinished);
    const history = await c.call<{ messages: Message[] }>('sessions.history', { sessionId: session.id });
    expect(history.messages.map((m) => m.content)).toEqual(['one', 'first answer', 'two', 'second answer']);
    // The second model call saw the whole first turn.
    expect((upstream.requests[1]!.body.messages as unknown[]).length).toBe(4);
  });

  it('finishes and saves a run whose client went away', async () => {
    const { flynn, upstream } = await withOpenAI();
    upstream.enqueue({ frames: openai.text(['survived ', 'the ', 'disconnect']), frameDelayMs: 10 }, { frames: openai.text(['ok']) });
    const gone = await flynn.client();
    void gone.request('agent.send', { message: 'keep going' });
    const started = await gone.waitFor(isEvent('text.delta'));
    gone.close();
    const c = await flynn.client();
    // Queued behind the first run on the same session, so it ends after it.
    await c.call('agent.send', { sessionId: started.params.sessionId, message: 'and then?' });
    const history = await c.call<{ messages: Message[] }>('sessions.history', { sessionId: started.params.sessionId as string });
    expect(history.messages.map((m) => m.content)).toEqual(['keep going', 'survived the disconnect', 'and then?', 'ok']);
  });

  it('returns the first result for a repeated idempotencyKey without running again', async () => {
    const { flynn, upstream } = await withOpenAI();
    upstream.enqueue({ frames: openai.text(['once']), frameDelayMs: 10 });
    const c = await flynn.client();
    const [r1, r2] = await Promise.all([
      c.call<SendResult>('agent.send', { message: 'pay', idempotencyKey: 'k-1' }),
      c.call<SendResult>('agent.send', { message: 'pay', idempotencyKey: 'k-1' }),
    ]);
    const r3 = await c.call<SendResult>('agent.send', { message: 'pay', idempotencyKey: 'k-1' });
    expect(r2).toEqual(r1);
    expect(r3).toEqual(r1);
    expect(upstream.requests).toHaveLength(1);
  });

  it('keeps nothing behind once runs end', async () => {
    flynn = await startTestFlynn();
    const c = await flynn.client();
    const sessions = await Promise.all([1, 2, 3].map(() => c.call<{ session: Session }>('sessions.create', {})));
    const sends = Array.from({ length: 30 }, (_, i) => c.call<SendResult>('agent.send', { sessionId: sessions[i % 3]!.session.id, message: `m${i}`, idempotencyKey: `k${i}` }));
    await c.waitFor((n) => n.params.type === 'run.started');
    expect(flynn.agent.activeRuns).toBeGreaterThan(0);
    const results = await Promise.all(sends);
    expect(results.every((r) => r.stopReason === 'end')).toBe(true);
    expect(flynn.agent.activeRuns).toBe(0);
    const health = await c.call<{ sessions: number }>('system.health');
    expect(health.sessions).toBe(3);
  });

  it('stops at maxTurns when the model keeps calling tools', async () => {
    const { flynn, upstream } = await withOpenAI({ maxTurns: 2 });
    upstream.enqueue({ frames: openai.toolCall('c1', 'current_time', {}) }, { frames: openai.toolCall('c2', 'current_time', {}) });
    const c = await flynn.client();
    const result = await c.call<SendResult>('agent.send', { message: 'loop' });
    expect(result.stopReason).toBe('max_turns');
    expect(upstream.requests).toHaveLength(2);
    expect(result.message.toolCalls?.[0]?.id).toBe('c2');
  });

  it('cancels every run of a session by sessionId', async () => {
    const { flynn, upstream } = await withOpenAI();
    upstream.enqueue({ frames: openai.partial(['a']), hang: true });
    const c = await flynn.client();
    const { session } = await c.call<{ session: Session }>('sessions.create', {});
    const first = c.call<SendResult>('agent.send', { sessionId: session.id, message: 'one' });
    const second = c.call<SendResult>('agent.send', { sessionId: session.id, message: 'two' });
    await c.waitFor(isEvent('text.delta'));
    expect(await c.call('agent.cancel', { sessionId: session.id })).toEqual({ cancelled: true });
    expect((await first).stopReason).toBe('cancelled');
    expect((await second).stopReason).toBe('cancelled');
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('model configuration', () => {
  it('sends the system prompt file to the model, and reaches Ollama on OLLAMA_HOST', async () => {
    const upstream = await startStandIn();
    standIns.push(upstream);
    upstream.enqueue({ frames: openai.text(['hi from llama']) });
    const dir = tempDir();
    onTestFinished(() => dir.remove());
    const promptFile = `${dir.path}/prompt.txt`;
    writeFileSync(promptFile, 'You are a pirate.');
    flynn = await startTestFlynn({ model: 'ollama:llama3.2:3b', systemPromptFile: promptFile }, { ollamaHost: upstream.url });
    const c = await flynn.client();
    expect((await c.call('system.health')).model).toEqual({ provider: 'ollama', model: 'llama3.2:3b' });
    const result = await c.call<SendResult>('agent.send', { message: 'ahoy' });
    expect(result.message.content).toBe('hi from llama');
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body.model).toBe('llama3.2:3b');
    expect((sent.body.messages as { role: string; content: string }[])[0]).toEqual({ role: 'system', content: 'You are a pirate.' });
  });

  it('uses the default system prompt naming Flynn and its tools', async () => {
    const { flynn, upstream } = await withOpenAI();
    upstream.enqueue({ frames: openai.text(['ok']) });
    const c = await flynn.client();
    await c.call('agent.send', { message: 'hi' });
    const system = (upstream.requests[0]!.body.messages as { content: string }[])[0]!.content;
    expect(system).toMatch(/You are Flynn/);
    expect(system).toMatch(/current_time/);
  });
});

describe('agent and session methods: bad input', () => {
  it('answers precise errors', async () => {
    flynn = await startTestFlynn();
    const c = await flynn.client();
    expect((await c.request('agent.send', { sessionId: 'nope', message: 'x' })).error).toMatchObject({ code: -32002 });
    expect((await c.request('agent.send', { message: '' })).error).toMatchObject({ code: -32602, data: { field: 'message' } });
    expect((await c.request('agent.send', { message: 'x', model: 'gpt4' })).error).toMatchObject({ code: -32602, data: { field: 'model' } });
    expect((await c.request('agent.cancel', {})).error).toMatchObject({ code: -32602, data: { field: 'runId' } });
    expect((await c.request('agent.cancel', { runId: 'a', sessionId: 'b' })).error).toMatchObject({ code: -32602 });
    expect((await c.request('sessions.history', { sessionId: 'nope' })).error).toMatchObject({ code: -32002 });
    expect((await c.request('sessions.list', { limit: 0 })).error).toMatchObject({ code: -32602, data: { field: 'limit' } });
    expect((await c.request('sessions.list', { limit: 201 })).error).toMatchObject({ code: -32602, data: { field: 'limit' } });
    expect((await c.request('sessions.list', { cursor: 'garbage' })).error).toMatchObject({ code: -32602, data: { field: 'cursor' } });
  });

  it('lists and invokes tools', async () => {
    flynn = await startTestFlynn();
    const c = await flynn.client();
    const { tools } = await c.call<{ tools: { name: string; inputSchema: Record<string, unknown> }[] }>('tools.list');
    expect(tools).toEqual([
      expect.objectContaining({ name: 'current_time', inputSchema: expect.objectContaining({ type: 'object', properties: { timezone: expect.any(Object) } }) }),
    ]);
    const ok = await c.call<{ content: string; isError: boolean }>('tools.invoke', { name: 'current_time', arguments: { timezone: 'Asia/Tokyo' } });
    expect(ok.isError).toBe(false);
    expect(ok.content).toMatch(/\+09:00 \(Asia\/Tokyo\)$/);
    const utc = await c.call<{ content: string }>('tools.invoke', { name: 'current_time' });
    expect(utc.content).toMatch(/Z \(UTC\)$/);
    const badZone = await c.call<{ content: string; isError: boolean }>('tools.invoke', { name: 'current_time', arguments: { timezone: 'Mars/Olympus' } });
    expect(badZone).toMatchObject({ isError: true, content: expect.stringMatching(/unknown time zone/) });
    expect((await c.request('tools.invoke', { name: 'nope' })).error).toMatchObject({ code: -32002 });
    expect((await c.request('tools.invoke', { name: 'current_time', arguments: { timezone: 5 } })).error).toMatchObject({
      code: -32602,
      data: { field: 'arguments.timezone' },
    });
  });
});

describe('sessions', () => {
  it('pages sessions newest first and history across 1,000 messages with no gap or repeat', async () => {
    const dir = tempDir();
    const store = openSqliteStore({ path: `${dir.path}/flynn.db` });
    const session = store.createSession('long');
    for (let i = 0; i < 10; i++) {
      store.appendMessages(
        session.id,
        Array.from({ length: 100 }, (_, j) => ({ role: j % 2 === 0 ? ('user' as const) : ('assistant' as const), content: `m${i * 100 + j}` })),
      );
    }
    for (let i = 0; i < 5; i++) store.createSession(`s${i}`);
    store.close();
    flynn = await startTestFlynn({}, {}, dir.path);
    onTestFinished(() => dir.remove());
    const c = await flynn.client();

    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    do {
      const page: { messages: Message[]; nextCursor?: string } = await c.call('sessions.history', { sessionId: session.id, limit: 90, ...(before ? { before } : {}) });
      seen.unshift(...page.messages.map((m) => m.content));
      before = page.nextCursor;
      pages++;
    } while (before);
    expect(pages).toBe(12);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`));

    const first = await c.call<{ sessions: Session[]; nextCursor: string }>('sessions.list', { limit: 4 });
    expect(first.sessions.map((s) => s.title)).toEqual(['s4', 's3', 's2', 's1']);
    const rest = await c.call<{ sessions: Session[]; nextCursor?: string }>('sessions.list', { limit: 4, cursor: first.nextCursor });
    expect(rest.sessions.map((s) => s.title)).toEqual(['s0', 'long']);
    expect(rest.nextCursor).toBeUndefined();
    expect(rest.sessions[1]!.messageCount).toBe(1000);
  });
});
