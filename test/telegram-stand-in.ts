/**
 * A local server speaking the Telegram Bot API's documented shapes
 * (https://core.telegram.org/bots/api): getMe, getUpdates (long polling),
 * sendMessage, editMessageText, deleteMessage, sendChatAction,
 * answerCallbackQuery. grammY is pointed at it through `apiRoot`. Like the
 * real API it refuses text over 4096 characters and HTML it cannot parse.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentMessage {
  readonly message_id: number;
  readonly chat_id: number;
  text: string;
  parse_mode?: string;
  edits: number;
}

export interface ApiCall {
  readonly method: string;
  readonly body: Record<string, unknown>;
  readonly at: number;
}

export interface ApiFailure {
  readonly error_code: number;
  readonly description: string;
  readonly parameters?: { retry_after?: number };
}

const BOT = { id: 4242, is_bot: true, first_name: 'Flynn', username: 'flynn_test_bot' };

function balancedHtml(text: string): boolean {
  const stack: string[] = [];
  for (const m of text.matchAll(/<(\/?)([a-z]+)[^>]*>/g)) {
    if (!['b', 'i', 's', 'u', 'code', 'pre', 'a'].includes(m[2]!)) return false;
    if (m[1] === '') stack.push(m[2]!);
    else if (stack.pop() !== m[2]) return false;
  }
  return stack.length === 0 && !/&(?!amp;|lt;|gt;|quot;)/.test(text);
}

export class TelegramStandIn {
  readonly calls: ApiCall[] = [];
  readonly messages: SentMessage[] = [];
  #updates: Record<string, unknown>[] = [];
  #nextUpdate = 1;
  #nextMessage = 100;
  #failures = new Map<string, ApiFailure[]>();
  #pollers: (() => void)[] = [];
  #callWaiters: { test: (c: ApiCall) => boolean; resolve: (c: ApiCall) => void }[] = [];
  #server = createServer((req, res) => void this.#handle(req, res));
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    for (const wake of this.#pollers.splice(0)) wake();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Queues an incoming text message from `userId` in their private chat. */
  userSays(userId: number, text: string): void {
    this.#updates.push(this.textUpdate(userId, text));
    for (const wake of this.#pollers.splice(0)) wake();
  }

  /** An Update carrying a text message from `userId` (for webhook posts too). */
  textUpdate(userId: number, text: string): Record<string, unknown> {
    const entities = text.startsWith('/') ? [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] : undefined;
    return {
      update_id: this.#nextUpdate++,
      message: {
        message_id: this.#nextMessage++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: userId, type: 'private', first_name: 'User' },
        from: { id: userId, is_bot: false, first_name: 'User' },
        text,
        ...(entities ? { entities } : {}),
      },
    };
  }

  /** The next `count` calls of `method` fail with `failure`. */
  fail(method: string, failure: ApiFailure, count = 1): void {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), ...Array<ApiFailure>(count).fill(failure)]);
  }

  /** Resolves with the first call (past or future) that passes `test`. */
  waitForCall(test: (c: ApiCall) => boolean): Promise<ApiCall> {
    const seen = this.calls.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#callWaiters.push({ test, resolve }));
  }

  chatMessages(chatId: number): SentMessage[] {
    return this.messages.filter((m) => m.chat_id === chatId);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const method = /\/bot[^/]+\/(\w+)/.exec(req.url ?? '')?.[1] ?? '';
    const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
    const call = { method, body, at: Date.now() };
    this.calls.push(call);
    for (let i = this.#callWaiters.length - 1; i >= 0; i--) {
      if (this.#callWaiters[i]!.test(call)) this.#callWaiters.splice(i, 1)[0]!.resolve(call);
    }
    const reply = (status: number, payload: unknown): void => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const ok = (result: unknown): void => reply(200, { ok: true, result });
    const failure = this.#failures.get(method)?.shift();
    if (failure) return reply(failure.error_code, { ok: false, ...failure });

    switch (method) {
      case 'getMe':
        return ok(BOT);
      case 'deleteWebhook':
      case 'setWebhook':
      case 'sendChatAction':
      case 'answerCallbackQuery':
        return ok(true);
      case 'getUpdates': {
        const offset = Number(body.offset ?? 0);
        const timeoutMs = Math.min(Number(body.timeout ?? 0), 2) * 1000;
        const ready = (): Record<string, unknown>[] => this.#updates.filter((u) => (u.update_id as number) >= offset);
        if (ready().length === 0 && timeoutMs > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            this.#pollers.push(() => {
              clearTimeout(timer);
              resolve();
            });
            req.once('close', resolve);
          });
        }
        this.#updates = this.#updates.filter((u) => (u.update_id as number) >= offset);
        return ok(ready());
      }
      case 'sendMessage':
      case 'editMessageText': {
        const text = String(body.text ?? '');
        if (text.length === 0) return reply(400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
        if (text.length > 4096) return reply(400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' });
        if (body.parse_mode === 'HTML' && !balancedHtml(text)) {
          return reply(400, { ok: false, error_code: 400, description: "Bad Request: can't parse entities: unexpected end tag" });
        }
        const chatId = Number(body.chat_id);
        let message: SentMessage | undefined;
        if (method === 'sendMessage') {
          message = { message_id: this.#nextMessage++, chat_id: chatId, text, parse_mode: body.parse_mode as string | undefined, edits: 0 };
          this.messages.push(message);
        } else {
          message = this.messages.find((m) => m.chat_id === chatId && m.message_id === Number(body.message_id));
          if (!message) return reply(400, { ok: false, error_code: 400, description: 'Bad Request: message to edit not found' });
          if (message.text === text) return reply(400, { ok: false, error_code: 400, description: 'Bad Request: message is not modified' });
          message.text = text;
          message.parse_mode = body.parse_mode as string | undefined;
          message.edits++;
        }
        return ok({ message_id: message.message_id, date: 0, chat: { id: chatId, type: 'private' }, text });
      }
      case 'deleteMessage': {
        const i = this.messages.findIndex((m) => m.chat_id === Number(body.chat_id) && m.message_id === Number(body.message_id));
        if (i >= 0) this.messages.splice(i, 1);
        return ok(true);
      }
      default:
        return reply(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }
}
