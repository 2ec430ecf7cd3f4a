/**
 * The model seam: one internal message and tool-call format; each adapter
 * translates it to and from its provider's wire format.
 */
import type { ToolCall, Usage } from '../sessions/schema.js';
import type { ToolSpec } from '../tools/tool.js';

export type ChatMessage =
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string; readonly toolCalls?: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly content: string; readonly isError?: boolean };

export interface TurnRequest {
  readonly model: string;
  readonly system: string;
  readonly messages: readonly ChatMessage[];
  readonly tools: readonly ToolSpec[];
  readonly signal: AbortSignal;
  /** Called for each piece of text as it streams in. */
  readonly onText: (delta: string) => void;
}

export interface TurnResult {
  readonly text: string;
  readonly toolCalls: ToolCall[];
  readonly usage: Usage;
}

export interface ModelProvider {
  /** `anthropic`, `openai`, `ollama`, `offline`. */
  readonly name: string;
  /** One model turn, streamed. Rejects with ProviderFailure (or an abort). */
  turn(request: TurnRequest): Promise<TurnResult>;
}

/**
 * A provider call that failed. "The remote said no" (`status` set) and "the
 * network failed" (`status` undefined) are told apart, as grammY does; the
 * router decides on `retryable`.
 */
export class ProviderFailure extends Error {
  readonly provider: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(provider: string, message: string, opts: { status?: number; retryable: boolean; retryAfterMs?: number }) {
    super(message);
    this.name = 'ProviderFailure';
    this.provider = provider;
    this.status = opts.status;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** HTTP statuses worth another try: rate limits, timeouts, and the server's own failures. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** `retry-after` (seconds or an HTTP date) or `retry-after-ms`, in ms. */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms))) return Number(ms);
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Parses streamed tool-call arguments; a model that sends bad JSON gets an empty object plus the raw text. */
export function parseArguments(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { _raw: raw };
  }
}

/** The error a provider throws when its request was aborted: callers check the signal, not this. */
export function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError' });
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes both official SDKs (openai, @anthropic-ai/sdk) define, under the same names. */
export interface SdkErrorClasses {
  readonly APIUserAbortError: ErrorClass;
  readonly APIError: ErrorClass;
  readonly APIConnectionError: ErrorClass;
  /** The SDK's root error class. */
  readonly base: ErrorClass;
}

/**
 * Maps what an SDK call threw to a ProviderFailure: an HTTP status the remote
 * sent, or a network failure (retryable). An abort passes through untouched.
 */
export function toProviderFailure(provider: string, error: unknown, sdk: SdkErrorClasses): unknown {
  if (error instanceof sdk.APIUserAbortError) return error;
  if (error instanceof sdk.APIError) {
    const { status, headers } = error as Error & { status?: number; headers?: Headers };
    if (typeof status === 'number') {
      return new ProviderFailure(provider, `HTTP ${status}: ${error.message}`, {
        status,
        retryable: isRetryableStatus(status),
        retryAfterMs: retryAfterMs(headers),
      });
    }
  }
  if (error instanceof sdk.APIConnectionError) {
    return new ProviderFailure(provider, `connection failed: ${error.message}`, { retryable: true });
  }
  if (error instanceof sdk.base) return new ProviderFailure(provider, error.message, { retryable: false });
  // fetch's own errors ("terminated" when the connection drops mid-stream).
  return new ProviderFailure(provider, `network failed: ${error instanceof Error ? error.message : String(error)}`, { retryable: true });
}

/** What both adapters give their SDK client: retries belong to the router, which can also fall back. */
export function sdkClientOptions(options: { apiKey: string; baseURL?: string; timeoutMs?: number }) {
  return {
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    maxRetries: 0,
    timeout: options.timeoutMs ?? 120_000,
  };
}
