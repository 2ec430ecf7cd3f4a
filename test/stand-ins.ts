/**
 * Local HTTP servers that speak the providers' documented streaming wire
 * formats (Server-Sent Events), scripted per test. The official SDKs are
 * pointed at them through their baseURL; nothing is mocked.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TurnRequest } from '../src/models/provider.js';

export interface ScriptedReply {
  /** HTTP status; non-2xx sends `errorBody` as JSON. */
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly errorBody?: unknown;
  /** SSE frames, each already formatted (`data: …\n\n` or `event: …\ndata: …\n\n`). */
  readonly frames?: readonly string[];
  /** Pause before each frame. */
  readonly frameDelayMs?: number;
  /** After the frames, keep the response open until the client goes away. */
  readonly hang?: boolean;
  /** After the frames, destroy the socket: a stream cut mid-way. */
  readonly cut?: boolean;
}

export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Record<string, unknown>;
  /** Resolves true when the client closed the request before the reply ended. */
  readonly aborted: Promise<boolean>;
}

export interface StandIn {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Replies are used in order; when the script runs out, `fallback` answers. */
  enqueue(...replies: ScriptedReply[]): void;
  /** Resolves with the n-th request (1-based) once it has arrived. */
  request(n: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export async function startStandIn(fallback: ScriptedReply = { status: 500, errorBody: { error: { message: 'script exhausted' } } }): Promise<StandIn> {
  const script: ScriptedReply[] = [];
  const requests: RecordedRequest[] = [];
  const waiters: { n: number; resolve: (r: RecordedRequest) => void }[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let finished = false;
    const aborted = new Promise<boolean>((resolve) => {
      res.once('close', () => resolve(!finished));
    });
    const recorded = { path: req.url ?? '', headers: req.headers, body: JSON.parse(raw || '{}') as Record<string, unknown>, aborted };
    requests.push(recorded);
    for (const w of waiters.filter((w) => w.n === requests.length)) w.resolve(recorded);

    const reply = script.shift() ?? fallback;
    const status = reply.status ?? 200;
    if (status >= 300) {
      res.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
      finished = true;
      res.end(JSON.stringify(reply.errorBody ?? { error: { message: `status ${status}` } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers });
    res.flushHeaders();
    for (const frame of reply.frames ?? []) {
      if (reply.frameDelayMs) await new Promise((r) => setTimeout(r, reply.frameDelayMs));
      if (res.destroyed) return;
      res.write(frame);
    }
    if (reply.cut) {
      // Let the frames reach the kernel first, then drop the connection without finishing the reply.
      await new Promise<void>((resolve) => res.write('', () => resolve()));
      res.socket?.destroy();
      return;
    }
    if (reply.hang) return; // until the client aborts
    finished = true;
    res.end();
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => script.push(...replies),
    request: (n) =>
      requests[n - 1] ? Promise.resolve(requests[n - 1]!) : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- OpenAI Chat Completions (https://platform.openai.com/docs/api-reference/chat-streaming) ----

const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

function chunk(delta: Record<string, unknown>, finish: string | null = null): string {
  return sse({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'stand-in',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
}

function usageChunk(prompt: number, completion: number): string {
  return sse({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'stand-in',
    choices: [],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  });
}

export const openai = {
  /** A streamed text answer, one chunk per piece, then usage and [DONE]. */
  text(pieces: readonly string[], usage = { prompt: 11, completion: 7 }): string[] {
    return [
      chunk({ role: 'assistant', content: '' }),
      ...pieces.map((p) => chunk({ content: p })),
      chunk({}, 'stop'),
      usageChunk(usage.prompt, usage.completion),
      'data: [DONE]\n\n',
    ];
  },
  /** A tool call whose name and arguments arrive split across chunks. */
  toolCall(id: string, name: string, args: Record<string, unknown>, usage = { prompt: 20, completion: 9 }): string[] {
    const json = JSON.stringify(args);
    const mid = Math.floor(json.length / 2);
    return [
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: json.slice(0, mid) } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: json.slice(mid) } }] }),
      chunk({}, 'tool_calls'),
      usageChunk(usage.prompt, usage.completion),
      'data: [DONE]\n\n',
    ];
  },
  /** Only the opening pieces of an answer: pair with `cut` or `hang`. */
  partial(pieces: readonly string[]): string[] {
    return [chunk({ role: 'assistant', content: '' }), ...pieces.map((p) => chunk({ content: p }))];
  },
};

// ---- Anthropic Messages (https://docs.anthropic.com/en/docs/build-with-claude/streaming) ----

const event = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

function messageStart(inputTokens: number): string {
  return event('message_start', {
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      content: [],
      model: 'stand-in',
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 1 },
    },
  });
}

export const anthropic = {
  text(pieces: readonly string[], usage = { input: 13, output: 5 }): string[] {
    return [
      messageStart(usage.input),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('ping', {}),
      ...pieces.map((p) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } })),
      event('content_block_stop', { index: 0 }),
      event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output } }),
      event('message_stop', {}),
    ];
  },
  /** Some text, then a tool_use block whose input JSON is split across deltas. */
  toolUse(id: string, name: string, input: Record<string, unknown>, text = 'Let me check.'): string[] {
    const json = JSON.stringify(input);
    const mid = Math.floor(json.length / 2);
    return [
      messageStart(30),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
      event('content_block_stop', { index: 0 }),
      event('content_block_start', { index: 1, content_block: { type: 'tool_use', id, name, input: {} } }),
      event('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
      event('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: json.slice(0, mid) } }),
      event('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: json.slice(mid) } }),
      event('content_block_stop', { index: 1 }),
      event('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 12 } }),
      event('message_stop', {}),
    ];
  },
  partial(pieces: readonly string[]): string[] {
    return [
      messageStart(5),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      ...pieces.map((p) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } })),
    ];
  },
};

/** A model turn request for adapter tests; `deltas` collects what streamed. */
export function turnRequest(model: string, over: Partial<TurnRequest> = {}): TurnRequest & { deltas: string[] } {
  const deltas: string[] = [];
  return {
    model,
    system: 'be brief',
    messages: [{ role: 'user', content: 'hi' }],
    tools: [{ name: 'current_time', description: 'time', inputSchema: { type: 'object', properties: {} } }],
    signal: new AbortController().signal,
    onText: (d) => deltas.push(d),
    deltas,
    ...over,
  };
}
