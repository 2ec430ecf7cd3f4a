import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openai, startStandIn, turnRequest, type StandIn } from '../../test/stand-ins.js';
import { createOpenAICompatibleProvider } from './openai-compatible.js';
import { ProviderFailure, type ModelProvider, type TurnRequest } from './provider.js';

let standIn: StandIn;
let provider: ModelProvider;

beforeEach(async () => {
  standIn = await startStandIn();
  provider = createOpenAICompatibleProvider({ name: 'openai', apiKey: 'sk-test', baseURL: `${standIn.url}/v1` });
});
afterEach(() => standIn.close());

const request = (over: Partial<TurnRequest> = {}) => turnRequest('gpt-test', over);

describe('openai-compatible provider', () => {
  it('streams text deltas and reads usage from the final chunk', async () => {
    standIn.enqueue({ frames: openai.text(['Hel', 'lo', ' there']) });
    const req = request();
    const result = await provider.turn(req);
    expect(req.deltas).toEqual(['Hel', 'lo', ' there']);
    expect(result).toEqual({ text: 'Hello there', toolCalls: [], usage: { inputTokens: 11, outputTokens: 7 } });
    const sent = standIn.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-test');
    expect(sent.body).toMatchObject({
      model: 'gpt-test',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'current_time' } }],
    });
  });

  it('assembles a tool call split across chunks', async () => {
    standIn.enqueue({ frames: openai.toolCall('call_1', 'current_time', { timezone: 'Europe/Berlin' }) });
    const result = await provider.turn(request());
    expect(result.toolCalls).toEqual([{ id: 'call_1', name: 'current_time', arguments: { timezone: 'Europe/Berlin' } }]);
    expect(result.usage).toEqual({ inputTokens: 20, outputTokens: 9 });
  });

  it('sends assistant tool calls and tool results back in the wire format', async () => {
    standIn.enqueue({ frames: openai.text(['ok']) });
    await provider.turn(
      request({
        messages: [
          { role: 'user', content: 'time?' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'current_time', arguments: {} }] },
          { role: 'tool', toolCallId: 'c1', content: '12:00' },
        ],
      }),
    );
    expect(standIn.requests[0]!.body.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'time?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'current_time', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '12:00' },
    ]);
  });

  it('reports HTTP 500 as a retryable failure with its status', async () => {
    standIn.enqueue({ status: 500, errorBody: { error: { message: 'boom', type: 'server_error' } } });
    const error = await provider.turn(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderFailure);
    expect(error).toMatchObject({ provider: 'openai', status: 500, retryable: true });
  });

  it('reports HTTP 429 with its retry-after', async () => {
    standIn.enqueue({ status: 429, headers: { 'retry-after': '2' }, errorBody: { error: { message: 'slow down' } } });
    expect(await provider.turn(request()).catch((e: unknown) => e)).toMatchObject({ status: 429, retryable: true, retryAfterMs: 2000 });
  });

  it('reports HTTP 400 as not retryable', async () => {
    standIn.enqueue({ status: 400, errorBody: { error: { message: 'bad' } } });
    expect(await provider.turn(request()).catch((e: unknown) => e)).toMatchObject({ status: 400, retryable: false });
  });

  it('fails a stream cut mid-way instead of passing off half an answer', async () => {
    standIn.enqueue({ frames: openai.partial(['Half', ' an']), cut: true });
    const req = request();
    const error = await provider.turn(req).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderFailure);
    expect(req.deltas.join('')).toBe('Half an');
  });

  it('aborts the upstream HTTP request when the signal fires', async () => {
    standIn.enqueue({ frames: openai.partial(['Still']), hang: true });
    const controller = new AbortController();
    const req = request({ signal: controller.signal, onText: () => controller.abort() });
    const error = await provider.turn(req).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ProviderFailure);
    expect(await standIn.requests[0]!.aborted).toBe(true);
  });
});
