/**
 * One streamed answer in a Telegram chat: deltas are rendered and the
 * messages edited in place, no two API calls closer than `minIntervalMs`,
 * never more than one flush at a time (a slow Telegram merges edits instead of
 * queueing them). Past 4096 characters the answer continues in new messages.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { GrammyError } from 'grammy';
import type { Logger } from 'pino';
import { htmlToPlain, renderMarkdown, renderNote, splitAtoms, type Atom } from './format.js';

/** The part of grammY's `Api` an answer needs. */
export interface MessageApi {
  sendMessage(chatId: number, text: string, other?: { parse_mode?: 'HTML' }): Promise<{ message_id: number }>;
  editMessageText(chatId: number, messageId: number, text: string, other?: { parse_mode?: 'HTML' }): Promise<unknown>;
  deleteMessage(chatId: number, messageId: number): Promise<unknown>;
}

export interface AnswerStreamOptions {
  readonly api: MessageApi;
  readonly chatId: number;
  readonly logger: Logger;
  /** Gap between API calls for one answer. Default 250 ms (Telegram limits edits). */
  readonly minIntervalMs?: number;
}

export const UNDELIVERED_NOTICE =
  "⚠️ I couldn't deliver the whole answer here. It is saved in full in this session's history.";

type Piece = { kind: 'text'; text: string } | { kind: 'tool'; name: string };

const NEWLINE: Atom = { kind: 'char', html: '\n', char: '\n' };

export class AnswerStream {
  readonly #options: AnswerStreamOptions;
  readonly #interval: number;
  readonly #pieces: Piece[] = [];
  readonly #sent: { id: number; html: string }[] = [];
  #dirty = false;
  #loop: Promise<void> | undefined;
  #lastCall = 0;
  #lastApplyOk = true;

  constructor(options: AnswerStreamOptions) {
    this.#options = options;
    this.#interval = options.minIntervalMs ?? 250;
  }

  text(delta: string): void {
    const last = this.#pieces[this.#pieces.length - 1];
    if (last?.kind === 'text') last.text += delta;
    else this.#pieces.push({ kind: 'text', text: delta });
    this.#kick();
  }

  /** Shows a tool call compactly, as an italic line. */
  tool(name: string): void {
    this.#pieces.push({ kind: 'tool', name });
    this.#kick();
  }

  /** Flushes the final state; resolves false (after telling the user) if it could not be delivered. */
  async finish(): Promise<boolean> {
    while (this.#loop) await this.#loop;
    this.#dirty = true;
    await this.#flush();
    if (this.#lastApplyOk) return true;
    await this.#options.api.sendMessage(this.#options.chatId, UNDELIVERED_NOTICE).catch(() => undefined);
    return false;
  }

  /** The messages as last sent, oldest first (tests and diagnostics). */
  get messages(): readonly string[] {
    return this.#sent.map((m) => m.html);
  }

  #kick(): void {
    this.#dirty = true;
    if (!this.#loop) void this.#flush();
  }

  /** One drain loop at a time; `.finally` runs after the assignment, so the slot is always cleared. */
  #flush(): Promise<void> {
    this.#loop ??= this.#drain().finally(() => {
      this.#loop = undefined;
    });
    return this.#loop;
  }

  async #drain(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      await this.#apply();
    }
  }

  #render(): string[] {
    const atoms: Atom[] = [];
    for (const piece of this.#pieces) {
      if (piece.kind === 'text') renderMarkdown(piece.text, atoms);
      else {
        if (atoms.length > 0 && atoms[atoms.length - 1] !== NEWLINE) atoms.push(NEWLINE);
        renderNote(`🔧 ${piece.name}`, atoms);
        atoms.push(NEWLINE);
      }
    }
    return splitAtoms(atoms);
  }

  async #apply(): Promise<void> {
    const { api, chatId, logger } = this.#options;
    const chunks = this.#render();
    let ok = true;
    try {
      for (let i = 0; i < chunks.length; i++) {
        const html = chunks[i]!;
        const sent = this.#sent[i];
        if (sent?.html === html) continue;
        if (sent) await this.#call((other) => api.editMessageText(chatId, sent.id, other ? html : htmlToPlain(html), other));
        else {
          const message = await this.#call((other) => api.sendMessage(chatId, other ? html : htmlToPlain(html), other));
          if (message === undefined) throw new Error('sendMessage returned no message');
          this.#sent.push({ id: message.message_id, html });
        }
        this.#sent[i]!.html = html;
      }
      // Rendering can shrink when closing syntax arrives; drop messages left over.
      while (this.#sent.length > chunks.length) {
        const extra = this.#sent.pop()!;
        await this.#call(() => api.deleteMessage(chatId, extra.id));
      }
    } catch (error) {
      ok = false;
      logger.warn({ chat: chatId, err: error instanceof GrammyError ? error.description : String(error) }, 'telegram delivery failed');
    }
    this.#lastApplyOk = ok;
  }

  /**
   * One API call, spaced from the previous one. `call` gets the HTML options
   * first; if Telegram refuses the entities it is called again without them
   * (the plain-text fallback). "message is not modified" counts as done.
   */
  async #call<T>(call: (other?: { parse_mode: 'HTML' }) => Promise<T>): Promise<T | undefined> {
    const wait = this.#lastCall + this.#interval - Date.now();
    if (wait > 0) await delay(wait);
    try {
      return await call({ parse_mode: 'HTML' });
    } catch (error) {
      if (!(error instanceof GrammyError) || error.error_code !== 400) throw error;
      if (/not modified/i.test(error.description)) return undefined;
      if (!/parse entities|can't parse|unsupported start tag/i.test(error.description)) throw error;
      return await call(undefined);
    } finally {
      this.#lastCall = Date.now();
    }
  }
}
