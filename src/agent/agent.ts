/**
 * The run loop: model turn → tool calls → tool results → next turn, until the
 * model stops, the run is cancelled, or `maxTurns` is reached. Runs on one
 * session are serialized; runs survive their client; every turn's messages
 * are written in one transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ConflictError, InternalError, InvalidParamsError, NotFoundError, ProviderError, RpcError } from '../protocol/errors.js';
import { ProviderFailure, type ChatMessage } from '../models/provider.js';
import { parseModelChain, type ModelRef, type ModelRouter } from '../models/router.js';
import type { Message, NewMessage, StopReason, Usage } from '../sessions/schema.js';
import type { RunRecord, SessionStore } from '../sessions/store.js';
import type { ToolExecutor } from '../tools/executor.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { AgentEvent, AgentEventBody, EventSink } from './events.js';
import { SessionQueue } from './session-queue.js';

export interface AgentDeps {
  readonly store: SessionStore;
  readonly router: ModelRouter;
  readonly tools: ToolRegistry;
  readonly executor: ToolExecutor;
  readonly systemPrompt: string;
  readonly logger: Logger;
  /** Model turns per run. Default 16. */
  readonly maxTurns?: number;
  /** Messages of history the model sees. Default 200. */
  readonly contextMessages?: number;
}

export interface SendInput {
  readonly sessionId?: string;
  readonly message: string;
  /** `PROVIDER:MODEL[,…]` for this run only. */
  readonly model?: string;
  readonly idempotencyKey?: string;
}

export interface RunResult {
  readonly runId: string;
  readonly sessionId: string;
  readonly message: Message;
  readonly stopReason: StopReason;
  readonly usage: Usage;
}

interface Run {
  readonly runId: string;
  readonly sessionId: string;
  readonly controller: AbortController;
  readonly sink: EventSink | undefined;
  readonly idempotencyKey: string | null;
  seq: number;
}

export class Agent {
  readonly #deps: AgentDeps;
  readonly #maxTurns: number;
  readonly #contextMessages: number;
  readonly #queue = new SessionQueue();
  /** Runs going or queued, each with the promise of its result (for shutdown). */
  readonly #runs = new Map<string, { run: Run; done: Promise<RunResult> }>();
  readonly #byKey = new Map<string, Promise<RunResult>>();
  #closing = false;
  /** Runs waiting for their turn to start; see #admit. */
  readonly #admissions: (() => void)[] = [];

  constructor(deps: AgentDeps) {
    this.#deps = deps;
    this.#maxTurns = deps.maxTurns ?? 16;
    this.#contextMessages = deps.contextMessages ?? 200;
  }

  /** Runs still going or queued. */
  get activeRuns(): number {
    return this.#runs.size;
  }

  /**
   * Starts (or queues) a run and resolves when it ends; its events go to
   * `sink`. Throws NotFound for an unknown session and Conflict when the
   * session's queue is full; rejects with -32011 when every model of the
   * chain failed.
   */
  send(input: SendInput, sink?: EventSink): Promise<RunResult> {
    if (this.#closing) throw new ConflictError('Shutting down: not accepting new runs');
    const key = input.idempotencyKey;
    if (key !== undefined) {
      const running = this.#byKey.get(key);
      if (running) return running;
      const done = this.#deps.store.findRunByKey(key);
      if (done) return Promise.resolve(this.#replay(done));
    }
    let chain: ModelRef[] | undefined;
    if (input.model !== undefined) {
      try {
        chain = parseModelChain(input.model);
      } catch (error) {
        throw new InvalidParamsError([{ field: 'model', message: (error as Error).message }]);
      }
    }
    const { store } = this.#deps;
    const session = input.sessionId === undefined ? store.createSession() : store.getSession(input.sessionId);
    if (session === undefined) throw new NotFoundError('sessionId', input.sessionId ?? '');

    const run: Run = {
      runId: randomUUID(),
      sessionId: session.id,
      controller: new AbortController(),
      sink,
      idempotencyKey: key ?? null,
      seq: 0,
    };
    const result = this.#queue.enqueue(session.id, () => this.#execute(run, input.message, chain));
    const tracked = result.finally(() => {
      this.#runs.delete(run.runId);
      if (key !== undefined) this.#byKey.delete(key);
    });
    this.#runs.set(run.runId, { run, done: tracked });
    if (key !== undefined) this.#byKey.set(key, tracked);
    return tracked;
  }

  /** Cancels one run, or every run (running and queued) of a session. */
  cancel(target: { runId: string } | { sessionId: string }): boolean {
    let cancelled = false;
    for (const { run } of this.#runs.values()) {
      const hit = 'runId' in target ? run.runId === target.runId : run.sessionId === target.sessionId;
      if (hit && !run.controller.signal.aborted) {
        run.controller.abort();
        cancelled = true;
      }
    }
    return cancelled;
  }

  /** Refuses new runs, lets running ones finish for `graceMs`, then cancels the rest and waits for their saves. */
  async shutdown(graceMs: number): Promise<void> {
    this.#closing = true;
    const all = (): Promise<unknown> => Promise.allSettled([...this.#runs.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([all(), graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const { run } of this.#runs.values()) run.controller.abort();
      await all();
    }
  }

  #emit(run: Run, body: AgentEventBody): void {
    const event = { runId: run.runId, sessionId: run.sessionId, seq: ++run.seq, ...body } as AgentEvent;
    run.sink?.(event);
  }

  #replay(record: RunRecord): RunResult {
    const message = record.messageId ? this.#deps.store.getMessage(record.messageId) : undefined;
    return {
      runId: record.runId,
      sessionId: record.sessionId,
      message: message ?? { id: '', role: 'assistant', content: '', createdAt: new Date(0).toISOString() },
      stopReason: record.stopReason,
      usage: record.usage,
    };
  }

  /**
   * Starting a run costs a couple of milliseconds of CPU (store writes, the
   * provider request). Admitting one start per event-loop turn lets the
   * deltas of runs already streaming through in between, so a burst of new
   * runs does not stall the answers in progress.
   */
  #admit(): Promise<void> {
    return new Promise((resolve) => {
      this.#admissions.push(resolve);
      if (this.#admissions.length === 1) setImmediate(this.#pump);
    });
  }

  readonly #pump = (): void => {
    this.#admissions.shift()?.();
    if (this.#admissions.length > 0) setImmediate(this.#pump);
  };

  async #execute(run: Run, text: string, chain: ModelRef[] | undefined): Promise<RunResult> {
    const { store, router, tools, executor, systemPrompt, logger } = this.#deps;
    const signal = run.controller.signal;
    await this.#admit();
    this.#emit(run, { type: 'run.started' });
    logger.info({ run: run.runId, session: run.sessionId }, 'run started');
    store.appendMessages(run.sessionId, [{ role: 'user', content: text }]);
    const context = toChat(store.recentMessages(run.sessionId, this.#contextMessages));
    const usage = { inputTokens: 0, outputTokens: 0 };
    let lastAssistant: Message | undefined;
    let stopReason: StopReason = 'max_turns';
    let partial = '';

    for (let turn = 0; turn < this.#maxTurns; turn++) {
      partial = '';
      if (signal.aborted) {
        stopReason = 'cancelled';
        break;
      }
      let result;
      try {
        result = await router.turn(
          {
            system: systemPrompt,
            messages: context,
            tools: tools.specs(),
            signal,
            onText: (delta) => {
              partial += delta;
              this.#emit(run, { type: 'text.delta', text: delta });
            },
          },
          chain,
        );
      } catch (error) {
        if (signal.aborted) {
          stopReason = 'cancelled';
          break;
        }
        return this.#fail(run, error, partial, usage);
      }
      usage.inputTokens += result.usage.inputTokens;
      usage.outputTokens += result.usage.outputTokens;
      if (result.toolCalls.length === 0) {
        stopReason = 'end';
        partial = result.text;
        break;
      }

      const assistant: NewMessage = { role: 'assistant', content: result.text, toolCalls: result.toolCalls };
      const turnMessages: NewMessage[] = [assistant];
      for (const call of result.toolCalls) {
        this.#emit(run, { type: 'tool.call', id: call.id, name: call.name, arguments: call.arguments });
        const outcome = await executor.execute(call.name, call.arguments, signal);
        const content = outcome.ok ? outcome.content : `Error: ${outcome.message}`;
        const isError = outcome.ok ? outcome.isError : true;
        this.#emit(run, { type: 'tool.result', id: call.id, content, isError });
        turnMessages.push({ role: 'tool', toolCallId: call.id, content, isError });
      }
      const saved = store.appendMessages(run.sessionId, turnMessages);
      lastAssistant = saved[0];
      context.push(...saved.map(toChatMessage));
      partial = '';
    }

    // Every run ends on an assistant message: the answer, the partial text, or (cancelled early) an empty one.
    const finalText = stopReason === 'end' || partial !== '' || lastAssistant === undefined;
    const record: RunRecord = { runId: run.runId, sessionId: run.sessionId, idempotencyKey: run.idempotencyKey, stopReason, usage, messageId: lastAssistant?.id ?? null };
    const saved = store.finishRun(record, finalText ? [{ role: 'assistant', content: partial }] : []);
    const message = saved[0] ?? lastAssistant!;
    this.#emit(run, { type: 'run.finished', stopReason });
    logger.info({ run: run.runId, session: run.sessionId, stopReason, ...usage }, 'run finished');
    return { runId: run.runId, sessionId: run.sessionId, message, stopReason, usage };
  }

  /** A model failure that no retry or fallback could mend: keep what streamed, tell the client why. */
  #fail(run: Run, error: unknown, partial: string, usage: Usage): never {
    const { store, logger } = this.#deps;
    const rpc =
      error instanceof ProviderFailure
        ? new ProviderError(error.provider, error.message, error.retryable, error.retryAfterMs)
        : error instanceof RpcError
          ? error
          : new InternalError();
    if (!(error instanceof ProviderFailure)) logger.error({ err: error, run: run.runId }, 'run failed');
    else logger.warn({ run: run.runId, provider: error.provider, status: error.status }, 'run failed: model provider');
    // A failed run keeps no idempotency key: retrying with the same key runs again.
    store.finishRun(
      { runId: run.runId, sessionId: run.sessionId, idempotencyKey: null, stopReason: 'error', usage, messageId: null },
      [{ role: 'assistant', content: partial }],
    );
    const wire = rpc.toJSON();
    this.#emit(run, { type: 'run.error', error: wire });
    this.#emit(run, { type: 'run.finished', stopReason: 'error' });
    throw new RpcError(rpc.code, rpc.message, { ...(rpc.data as object), runId: run.runId, sessionId: run.sessionId });
  }
}

/** Stored messages → the model's view; a window that starts mid-turn is trimmed to its first user message. */
function toChat(messages: readonly Message[]): ChatMessage[] {
  const start = messages.findIndex((m) => m.role === 'user');
  return start === -1 ? [] : messages.slice(start).map(toChatMessage);
}

function toChatMessage(m: Message): ChatMessage {
  if (m.role === 'user') return { role: 'user', content: m.content };
  if (m.role === 'assistant') return { role: 'assistant', content: m.content, ...(m.toolCalls ? { toolCalls: m.toolCalls } : {}) };
  return { role: 'tool', toolCallId: m.toolCallId ?? '', content: m.content, ...(m.isError ? { isError: true } : {}) };
}
