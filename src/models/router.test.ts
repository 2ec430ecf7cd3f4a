import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../test/helpers.js';
import { ProviderFailure, type ModelProvider, type TurnRequest } from './provider.js';
import { ModelRouter, parseModelChain, type ProviderName } from './router.js';

/** A provider that plays a list of outcomes, one per call. */
function scripted(name: string, outcomes: (Error | string)[]): ModelProvider & { calls: number } {
  const p = {
    name,
    calls: 0,
    async turn(req: TurnRequest) {
      const outcome = outcomes[p.calls++];
      if (outcome instanceof Error) throw outcome;
      if (outcome === undefined) throw new Error('script exhausted');
      req.onText(outcome);
      return { text: outcome, toolCalls: [], usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
  return p;
}

const request = (signal = new AbortController().signal) => ({ system: '', messages: [], tools: [], signal, onText: () => {} });
const fail = (retryable: boolean, retryAfterMs?: number) => new ProviderFailure('x', 'nope', { status: retryable ? 500 : 400, retryable, retryAfterMs });

function router(providers: Record<string, ModelProvider>, spec: string, baseDelayMs = 1) {
  return new ModelRouter({ chain: parseModelChain(spec), provider: async (n: ProviderName) => providers[n]!, logger: silentLogger, baseDelayMs });
}

describe('parseModelChain', () => {
  it('reads chains, colons inside model names, and bare offline', () => {
    expect(parseModelChain('openai:gpt-4o, ollama:llama3.2:3b,offline')).toEqual([
      { provider: 'openai', model: 'gpt-4o' },
      { provider: 'ollama', model: 'llama3.2:3b' },
      { provider: 'offline', model: 'offline' },
    ]);
  });

  it('names what is wrong', () => {
    expect(() => parseModelChain('gemini:pro')).toThrow(/unknown provider "gemini"/);
    expect(() => parseModelChain('openai')).toThrow(/names no model/);
  });
});

describe('ModelRouter', () => {
  it('retries a retryable failure, then succeeds on the same model', async () => {
    const openai = scripted('openai', [fail(true), 'ok']);
    const r = await router({ openai }, 'openai:m').turn(request());
    expect(r.text).toBe('ok');
    expect(r.ref).toEqual({ provider: 'openai', model: 'm' });
    expect(openai.calls).toBe(2);
  });

  it('falls back to the next model after the retries run out', async () => {
    const openai = scripted('openai', [fail(true), fail(true), fail(true)]);
    const anthropic = scripted('anthropic', ['from b']);
    const r = await router({ openai, anthropic }, 'openai:a,anthropic:b').turn(request());
    expect(r.ref.provider).toBe('anthropic');
    expect(openai.calls).toBe(3);
  });

  it('does not retry a non-retryable failure but still falls back', async () => {
    const openai = scripted('openai', [fail(false)]);
    const anthropic = scripted('anthropic', ['b']);
    await router({ openai, anthropic }, 'openai:a,anthropic:b').turn(request());
    expect(openai.calls).toBe(1);
  });

  it('throws the last failure when every model fails', async () => {
    const openai = scripted('openai', [fail(false)]);
    await expect(router({ openai }, 'openai:a').turn(request())).rejects.toBeInstanceOf(ProviderFailure);
  });

  it('never retries once text has streamed', async () => {
    let calls = 0;
    const streamsThenFails: ModelProvider = {
      name: 'openai',
      async turn(req) {
        calls++;
        req.onText('half');
        throw fail(true);
      },
    };
    await expect(router({ openai: streamsThenFails }, 'openai:a').turn(request())).rejects.toBeInstanceOf(ProviderFailure);
    expect(calls).toBe(1);
  });

  it('waits out retry-after, and the wait is abortable', async () => {
    const openai = scripted('openai', [fail(true, 60_000), 'late']);
    const controller = new AbortController();
    const turn = router({ openai }, 'openai:a').turn(request(controller.signal));
    setImmediate(() => controller.abort());
    await expect(turn).rejects.toMatchObject({ name: 'AbortError' });
    expect(openai.calls).toBe(1);
  });
});
