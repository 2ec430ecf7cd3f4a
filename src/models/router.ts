/**
 * The model router, one instance shared by every connection and channel:
 * retries a retryable failure with capped, abortable backoff (obeying
 * retry-after), then falls back to the next model of the chain. Once text has
 * streamed to the client a turn is never retried, so nothing is repeated.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ProviderFailure, type ModelProvider, type TurnRequest, type TurnResult } from './provider.js';

export const PROVIDERS = ['anthropic', 'openai', 'ollama', 'offline'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface ModelRef {
  readonly provider: ProviderName;
  readonly model: string;
}

/** Parses `PROVIDER:MODEL[,PROVIDER:MODEL…]`; the model part may itself hold colons (`ollama:llama3.2:3b`). */
export function parseModelChain(spec: string): ModelRef[] {
  const refs = spec.split(',').map((part) => {
    const entry = part.trim();
    const colon = entry.indexOf(':');
    const provider = colon === -1 ? entry : entry.slice(0, colon);
    const model = colon === -1 ? '' : entry.slice(colon + 1);
    if (!(PROVIDERS as readonly string[]).includes(provider)) {
      throw new Error(`unknown provider "${provider}" in "${entry}": use one of ${PROVIDERS.join(', ')} as PROVIDER:MODEL`);
    }
    if (model === '' && provider !== 'offline') throw new Error(`"${entry}" names no model: write ${provider}:MODEL`);
    return { provider: provider as ProviderName, model: model || 'offline' };
  });
  if (refs.length === 0) throw new Error('empty model list');
  return refs;
}

export interface RouterOptions {
  readonly chain: readonly ModelRef[];
  /** Resolves a provider by name (built lazily: SDKs load only when used). */
  readonly provider: (name: ProviderName) => Promise<ModelProvider>;
  readonly logger: Logger;
  /** Retries per model after the first try. Default 2. */
  readonly retries?: number;
  /** First backoff; doubles per retry. Default 250 ms. */
  readonly baseDelayMs?: number;
  /** Cap on any single wait, retry-after included. Default 10 000 ms. */
  readonly maxDelayMs?: number;
}

export type RoutedTurn = TurnResult & { readonly ref: ModelRef };

export class ModelRouter {
  readonly #options: RouterOptions;

  constructor(options: RouterOptions) {
    if (options.chain.length === 0) throw new Error('the model chain is empty');
    this.#options = options;
  }

  /** The model `system.health` reports. */
  get primary(): ModelRef {
    return this.#options.chain[0]!;
  }

  async turn(request: Omit<TurnRequest, 'model'>, chain: readonly ModelRef[] = this.#options.chain): Promise<RoutedTurn> {
    const { retries = 2, baseDelayMs = 250, maxDelayMs = 10_000, logger } = this.#options;
    let streamed = false;
    const tracked = {
      ...request,
      onText: (delta: string) => {
        streamed = true;
        request.onText(delta);
      },
    };
    let last: unknown;
    for (const ref of chain) {
      const provider = await this.#options.provider(ref.provider);
      for (let attempt = 0; attempt <= retries; attempt++) {
        try {
          const result = await provider.turn({ ...tracked, model: ref.model });
          return { ...result, ref };
        } catch (error) {
          if (!(error instanceof ProviderFailure) || streamed || request.signal.aborted) throw error;
          last = error;
          logger.warn({ provider: ref.provider, model: ref.model, status: error.status, attempt, retryable: error.retryable }, 'model call failed');
          if (!error.retryable || attempt === retries) break;
          const wait = Math.min(maxDelayMs, error.retryAfterMs ?? baseDelayMs * 2 ** attempt);
          await delay(wait, undefined, { signal: request.signal });
        }
      }
    }
    throw last;
  }
}
