/**
 * Per-address throttling of failed authentication. Fixed windows, and a map
 * bounded in size so that a flood of addresses cannot grow memory.
 */

export interface ThrottleOptions {
  /** Failures allowed per address per window. Default 10. */
  readonly maxFailures?: number;
  /** Window length in ms. Default 60 000. */
  readonly windowMs?: number;
  /** Addresses tracked at most; the oldest is forgotten first. Default 10 000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry {
  failures: number;
  resetAt: number;
}

export class FailureThrottle {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: ThrottleOptions = {}) {
    this.#maxFailures = options.maxFailures ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** How long `address` must wait, in ms; 0 when it may try. */
  retryAfterMs(address: string): number {
    const entry = this.#entries.get(address);
    if (entry === undefined) return 0;
    const left = entry.resetAt - this.#now();
    if (left <= 0) {
      this.#entries.delete(address);
      return 0;
    }
    return entry.failures >= this.#maxFailures ? left : 0;
  }

  recordFailure(address: string): void {
    const now = this.#now();
    const entry = this.#entries.get(address);
    if (entry !== undefined && entry.resetAt > now) {
      entry.failures++;
      return;
    }
    if (entry !== undefined) this.#entries.delete(address);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(address, { failures: 1, resetAt: now + this.#windowMs });
  }

  recordSuccess(address: string): void {
    this.#entries.delete(address);
  }

  get size(): number {
    return this.#entries.size;
  }
}
