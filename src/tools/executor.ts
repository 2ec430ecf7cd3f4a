/**
 * Runs tools: validates arguments against the tool's schema, enforces a
 * timeout, passes an AbortSignal, and turns every failure into a value —
 * the agent hands those to the model as error results, never crashing a run.
 */
import type { ToolRegistry } from './registry.js';

export type ToolFailure = 'not_found' | 'invalid_arguments' | 'timeout' | 'cancelled' | 'failed';

export type ToolOutcome =
  | { readonly ok: true; readonly content: string; readonly isError: boolean }
  | { readonly ok: false; readonly reason: ToolFailure; readonly message: string; readonly field?: string };

export interface ExecutorOptions {
  /** Per-call limit. Default 60 000 ms. */
  readonly timeoutMs: number;
}

export class ToolExecutor {
  readonly #registry: ToolRegistry;
  readonly #timeoutMs: number;

  constructor(registry: ToolRegistry, options: ExecutorOptions) {
    this.#registry = registry;
    this.#timeoutMs = options.timeoutMs;
  }

  async execute(name: string, args: unknown, signal?: AbortSignal): Promise<ToolOutcome> {
    const tool = this.#registry.get(name);
    if (tool === undefined) return { ok: false, reason: 'not_found', message: `no tool named ${name}` };
    const parsed = tool.input.safeParse(args ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.map(String).join('.') ?? '';
      return { ok: false, reason: 'invalid_arguments', field, message: `invalid arguments: ${field ? `${field}: ` : ''}${issue?.message ?? ''}` };
    }
    if (signal?.aborted) return { ok: false, reason: 'cancelled', message: 'cancelled' };

    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const stopped = new Promise<ToolOutcome>((resolve) => {
      timer = setTimeout(() => {
        // Settle first: aborting fires the 'cancelled' listener below synchronously.
        resolve({ ok: false, reason: 'timeout', message: `timed out after ${this.#timeoutMs} ms` });
        controller.abort(new Error('timeout'));
      }, this.#timeoutMs);
      controller.signal.addEventListener('abort', () => resolve({ ok: false, reason: 'cancelled', message: 'cancelled' }), { once: true });
    });
    try {
      const run = Promise.resolve()
        .then(() => tool.run(parsed.data, { signal: controller.signal }))
        .then(
          (out): ToolOutcome => ({ ok: true, content: out.content, isError: out.isError ?? false }),
          (error: unknown): ToolOutcome => ({ ok: false, reason: 'failed', message: error instanceof Error ? error.message : String(error) }),
        );
      // Whichever settles first: a tool that ignores its signal cannot hold the run.
      return await Promise.race([run, stopped]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
