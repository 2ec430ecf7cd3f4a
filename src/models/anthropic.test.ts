import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anthropic, startStandIn, turnRequest, type StandIn } from '../../test/stand-ins.js';
import { createAnthropicProvider } from './anthropic.js';
import { ProviderFailure, type ModelProvider, type TurnRequest } from './provider.js';

let standIn: StandIn;
let provider: ModelProvider;

beforeEach(async () => {
  standIn = await startStandIn();
  provider = createAnthropicProvider({ apiKey: 'sk-ant-test', baseURL: standIn.url });
});
afterEach(() => standIn.close());

const request = (over: Partial<TurnRequest> = {}) => turnRequest('claude-test', over);

describe('anthropic provider', () => {
  it('streams text deltas and reads usage from message_start and message_delta', async () => {
    standIn.enqueue({ frames: anthropic.text(['Bon', 'jour']) });
    const req = request();
    const result = await provider.turn(req);
    expect(req.deltas).toEqual(['Bon', 'jour']);
    expect(result).toEqual({ text: 'Bonjour', toolCalls: [], usage: { inputTokens: 13, outputTokens: 5 } });
    const sent = standIn.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    // The SDK sends the key as x-api-key or as a bearer token, depending on its version.
    expect(sent.headers['x-api-key'] ?? sent.headers.authorization).toMatch(/^(Bearer )?sk-ant-test$/);
    expect(sent.body).toMatchObject({
      model: 'claude-test',
      stream: true,
      system: 'be brief',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      tools: [{ name: 'current_time', input_schema: { type: 'object' } }],
    });
  });

  it('assembles tool_use input split across input_json_delta events', async () => {
    standIn.enqueue({ frames: anthropic.toolUse('toolu_1', 'current_time', { timezone: 'Asia/Tokyo' }) });
    const req = request();
    const result = await provider.turn(req);
    expect(result.text).toBe('Let me check.');
    expect(result.toolCalls).toEqual([{ id: 'toolu_1', name: 'current_time', arguments: { timezone: 'Asia/Tokyo' } }]);
    expect(result.usage).toEqual({ inputTokens: 30, outputTokens: 12 });
  });

  it('sends tool results as tool_result blocks in one user turn', async () => {
    standIn.enqueue({ frames: anthropic.text(['ok']) });
    await provider.turn(
      request({
        messages: [
          { role: 'user', content: 'time?' },
          { role: 'assistant', content: 'Checking.', toolCalls: [{ id: 't1', name: 'current_time', arguments: {} }, { id: 't2', name: 'x', arguments: { a: 1 } }] },
          { role: 'tool', toolCallId: 't1', content: '12:00' },
          { role: 'tool', toolCallId: 't2', content: 'no such tool', isError: true },
        ],
      }),
    );
    expect(standIn.requests[0]!.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'time?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 't1', name: 'current_time', input: {} },
          { type: 'tool_use', id: 't2', name: 'x', input: { a: 1 } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: '12:00' },
          { type: 'tool_result', tool_use_id: 't2', content: 'no such tool', is_error: true },
        ],
      },
    ]);
  });

  it('reports 529 overloaded and 500 as retryable, 401 as not', async () => {
    standIn.enqueue(
      { status: 529, errorBody: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } },
      { status: 401, errorBody: { type: 'error', error: { type: 'authentication_error', message: 'bad key' } } },
    );
    expect(await provider.turn(request()).catch((e: unknown) => e)).toMatchObject({ provider: 'anthropic', status: 529, retryable: true });
    expect(await provider.turn(request()).catch((e: unknown) => e)).toMatchObject({ status: 401, retryable: false });
  });

  it('reports 429 with retry-after', async () => {
    standIn.enqueue({ status: 429, headers: { 'retry-after': '3' }, errorBody: { type: 'error', error: { type: 'rate_limit_error', message: 'slow' } } });
    expect(await provider.turn(request()).catch((e: unknown) => e)).toMatchObject({ status: 429, retryAfterMs: 3000 });
  });

  it('fails a stream cut mid-way', async () => {
    standIn.enqueue({ frames: anthropic.partial(['Par', 'tial']), cut: true });
    const req = request();
    expect(await provider.turn(req).catch((e: unknown) => e)).toBeInstanceOf(ProviderFailure);
    expect(req.deltas.join('')).toBe('Partial');
  });

  it('aborts the upstream HTTP request when the signal fires', async () => {
    standIn.enqueue({ frames: anthropic.partial(['Wait']), hang: true });
    const controller = new AbortController();
    const error = await provider.turn(request({ signal: controller.signal, onText: () => controller.abort() })).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ProviderFailure);
    expect(await standIn.requests[0]!.aborted).toBe(true);
  });
});
