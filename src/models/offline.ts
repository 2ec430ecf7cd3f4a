/**
 * The provider used when no model is configured: no network, says so and how
 * to fix it, and still drives the whole run loop — streamed deltas, a tool
 * round trip (ask it for the time), history, cancellation — so clients can be
 * built and tested offline.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { abortError, type ModelProvider, type TurnRequest, type TurnResult } from './provider.js';

export const OFFLINE_NOTICE =
  'No model is configured, so this is Flynn\'s offline provider answering. ' +
  'To talk to a real model, start the gateway with one of: ' +
  'ANTHROPIC_API_KEY=… and --model anthropic:claude-sonnet-4-5; ' +
  'OPENAI_API_KEY=… and --model openai:gpt-4o-mini; ' +
  'or a running Ollama and --model ollama:llama3.2 (OLLAMA_HOST if it is not on 127.0.0.1:11434). ' +
  'Ask me for the time to see a tool call go round.';

export interface OfflineOptions {
  /** Pause between deltas; 0 still yields to the event loop. */
  readonly chunkDelayMs?: number;
}

function chunks(text: string, size: number): string[] {
  const words = text.split(/(?<= )/);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += size) out.push(words.slice(i, i + size).join(''));
  return out;
}

export function createOfflineProvider(options: OfflineOptions = {}): ModelProvider {
  const pause = options.chunkDelayMs ?? 0;
  return {
    name: 'offline',
    async turn(request: TurnRequest): Promise<TurnResult> {
      const last = request.messages[request.messages.length - 1];
      const inputTokens = request.messages.reduce((n, m) => n + Math.ceil(m.content.length / 4), 0);
      const wantsTime = last?.role === 'user' && /\btime\b/i.test(last.content);
      if (wantsTime && request.tools.some((t) => t.name === 'current_time')) {
        return { text: '', toolCalls: [{ id: `offline_${Date.now().toString(36)}`, name: 'current_time', arguments: {} }], usage: { inputTokens, outputTokens: 8 } };
      }
      const reply = last?.role === 'tool' ? `The current_time tool says: ${last.content}. ${OFFLINE_NOTICE}` : OFFLINE_NOTICE;
      let text = '';
      for (const piece of chunks(reply, 6)) {
        if (request.signal.aborted) throw abortError();
        await delay(pause, undefined, { signal: request.signal }).catch(() => {
          throw abortError();
        });
        text += piece;
        request.onText(piece);
      }
      return { text, toolCalls: [], usage: { inputTokens, outputTokens: Math.ceil(text.length / 4) } };
    },
  };
}
