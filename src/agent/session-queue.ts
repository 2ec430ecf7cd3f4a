import { ConflictError } from '../protocol/errors.js';

/**
 * Runs tasks one at a time per key, in arrival order; different keys run
 * concurrently. The number waiting per key is bounded.
 */
export class SessionQueue {
  readonly #tails = new Map<string, { tail: Promise<unknown>; size: number }>();
  readonly #maxQueued: number;

  /** @param maxQueued runs waiting per session before -32003. Default 32. */
  constructor(maxQueued = 32) {
    this.#maxQueued = maxQueued;
  }

  enqueue<T>(key: string, task: () => Promise<T>): Promise<T> {
    const entry = this.#tails.get(key) ?? { tail: Promise.resolve(), size: 0 };
    if (entry.size >= this.#maxQueued) {
      throw new ConflictError(`Session busy: ${entry.size} runs already queued on it`, { sessionId: key, queued: entry.size });
    }
    const result = entry.tail.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    entry.tail = tail;
    entry.size++;
    this.#tails.set(key, entry);
    void tail.then(() => {
      if (--entry.size === 0 && this.#tails.get(key) === entry) this.#tails.delete(key);
    });
    return result;
  }

  get keys(): number {
    return this.#tails.size;
  }
}
