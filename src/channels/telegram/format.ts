/**
 * Markdown → Telegram HTML, and splitting that HTML into messages.
 *
 * Telegram allows 4096 characters per message. The split is made on the text
 * exactly as it will be sent (escaped, with tags), so an answer that only
 * grows past the limit once converted is still split, never dropped. Each
 * piece is valid on its own: entities open at a cut are closed before it and
 * reopened after it; an escape (`&amp;`) or a surrogate pair is never cut.
 * Cuts prefer a paragraph break, then a line break, then a space.
 */

/** Telegram's per-message limit, counted in UTF-16 code units. */
export const MESSAGE_LIMIT = 4096;

/** One indivisible piece of the rendered HTML. */
export type Atom =
  | { readonly kind: 'char'; readonly html: string; readonly char: string }
  | { readonly kind: 'open'; readonly html: string; readonly close: string }
  | { readonly kind: 'close'; readonly html: string };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeChar(c: string): string {
  return c === '&' || c === '<' || c === '>' ? ESCAPES[c]! : c;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ESCAPES[c]!);
}

function chars(text: string, out: Atom[]): void {
  // for…of walks code points, so a surrogate pair stays one atom.
  for (const c of text) out.push({ kind: 'char', html: escapeChar(c), char: c });
}

function wrap(open: string, close: string, inner: () => void, out: Atom[]): void {
  out.push({ kind: 'open', html: open, close });
  inner();
  out.push({ kind: 'close', html: close });
}

// Inline syntax, earliest match wins. Underscore emphasis needs non-word
// characters around it so snake_case_names stay as they are.
const INLINE =
  /`([^`\n]+)`|\*\*(?=\S)([^\n]*?\S)\*\*|__(?=\S)([^\n]*?\S)__|~~(?=\S)([^\n]*?\S)~~|\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)|\*(?=[^\s*])([^*\n]*?[^\s*])\*|(?<![\p{L}\p{N}_])_(?=[^\s_])([^_\n]*?[^\s_])_(?![\p{L}\p{N}_])/u;

function inline(text: string, out: Atom[]): void {
  let rest = text;
  while (rest !== '') {
    const m = INLINE.exec(rest);
    if (!m) {
      chars(rest, out);
      return;
    }
    chars(rest.slice(0, m.index), out);
    const [whole, code, bold1, bold2, strike, linkText, url, italic1, italic2] = m;
    if (code !== undefined) wrap('<code>', '</code>', () => chars(code, out), out);
    else if (bold1 !== undefined || bold2 !== undefined) wrap('<b>', '</b>', () => inline((bold1 ?? bold2)!, out), out);
    else if (strike !== undefined) wrap('<s>', '</s>', () => inline(strike, out), out);
    else if (linkText !== undefined) wrap(`<a href="${escapeHtml(url!)}">`, '</a>', () => inline(linkText, out), out);
    else wrap('<i>', '</i>', () => inline((italic1 ?? italic2)!, out), out);
    rest = rest.slice(m.index + whole.length);
  }
}

function block(text: string, out: Atom[]): void {
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) wrap('<b>', '</b>', () => inline(heading[1]!, out), out);
    else inline(line, out);
    if (i < lines.length - 1) chars('\n', out);
  });
}

const FENCE = /```[\w+-]*\n?([\s\S]*?)```/g;

/** Renders Markdown (as models write it) to Telegram-HTML atoms. Unknown or unclosed syntax stays literal. */
export function renderMarkdown(markdown: string, out: Atom[] = []): Atom[] {
  let last = 0;
  for (const m of markdown.matchAll(FENCE)) {
    block(markdown.slice(last, m.index), out);
    wrap('<pre>', '</pre>', () => chars(m[1]!.replace(/\n$/, ''), out), out);
    last = m.index + m[0].length;
  }
  block(markdown.slice(last), out);
  return out;
}

/** Atoms for text shown as is, in italics (tool-call lines). */
export function renderNote(text: string, out: Atom[] = []): Atom[] {
  wrap('<i>', '</i>', () => chars(text, out), out);
  return out;
}

interface Cut {
  /** Index of the first atom after the cut. */
  readonly at: number;
  readonly parts: number;
  readonly length: number;
  readonly stack: readonly Extract<Atom, { kind: 'open' }>[];
}

function closing(stack: Cut['stack']): string {
  let s = '';
  for (let i = stack.length - 1; i >= 0; i--) s += stack[i]!.close;
  return s;
}

/** Splits atoms into messages of at most `limit` UTF-16 code units each. */
export function splitAtoms(atoms: readonly Atom[], limit = MESSAGE_LIMIT): string[] {
  const messages: string[] = [];
  let start = 0;
  let reopen: Cut['stack'] = [];
  while (start < atoms.length) {
    const parts = reopen.map((a) => a.html);
    let length = parts.reduce((n, p) => n + p.length, 0);
    let stack = reopen;
    let paragraph: Cut | undefined;
    let line: Cut | undefined;
    let word: Cut | undefined;
    let i = start;
    for (; i < atoms.length; i++) {
      const atom = atoms[i]!;
      const next = atom.kind === 'open' ? [...stack, atom] : atom.kind === 'close' ? stack.slice(0, -1) : stack;
      if (length + atom.html.length + closing(next).length > limit && i > start) break;
      parts.push(atom.html);
      length += atom.html.length;
      stack = next;
      if (atom.kind === 'char' && (atom.char === '\n' || atom.char === ' ')) {
        const cut = { at: i + 1, parts: parts.length, length, stack };
        const prev = atoms[i - 1];
        if (atom.char === ' ') word = cut;
        else if (prev?.kind === 'char' && prev.char === '\n') paragraph = cut;
        else line = cut;
      }
    }
    if (i === atoms.length) {
      messages.push(parts.join('') + closing(stack));
      break;
    }
    const half = limit / 2;
    const cut =
      (paragraph && paragraph.length >= half ? paragraph : undefined) ??
      (line && line.length >= half ? line : undefined) ??
      word ??
      line ??
      paragraph ?? { at: i, parts: parts.length, length, stack };
    messages.push(parts.slice(0, cut.parts).join('') + closing(cut.stack));
    start = cut.at;
    reopen = cut.stack;
  }
  return messages.filter((m) => htmlToPlain(m).trim() !== '');
}

/** What Telegram shows for an HTML message: the plain-text fallback when entities are refused. */
export function htmlToPlain(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}
