import { describe, expect, it } from 'vitest';
import { htmlToPlain, MESSAGE_LIMIT, renderMarkdown, splitAtoms } from './format.js';

const html = (md: string) => splitAtoms(renderMarkdown(md)).join('');

/** Checks that every tag opened in a message is closed in it, in order. */
function balanced(message: string): boolean {
  const stack: string[] = [];
  for (const m of message.matchAll(/<(\/?)(\w+)[^>]*>/g)) {
    if (m[1] === '') stack.push(m[2]!);
    else if (stack.pop() !== m[2]) return false;
  }
  return stack.length === 0;
}

describe('renderMarkdown', () => {
  it('renders the common inline syntax and escapes HTML', () => {
    expect(html('**bold** and *it* and _it2_ and ~~gone~~ and `a<b>` & [link](https://x.example/?a=1&b=2)')).toBe(
      '<b>bold</b> and <i>it</i> and <i>it2</i> and <s>gone</s> and <code>a&lt;b&gt;</code> &amp; <a href="https://x.example/?a=1&amp;b=2">link</a>',
    );
  });

  it('renders fenced code as pre without touching what is inside', () => {
    expect(html('see:\n```ts\nconst a = b ** 2 < 3;\n```\ndone')).toBe('see:\n<pre>const a = b ** 2 &lt; 3;</pre>\ndone');
  });

  it('leaves snake_case, lone stars and unclosed markers literal', () => {
    expect(html('call my_tool_name with 2 * 3 and **open')).toBe('call my_tool_name with 2 * 3 and **open');
  });

  it('turns headings into bold lines and nests emphasis', () => {
    expect(html('# Title\n**bold _and italic_**')).toBe('<b>Title</b>\n<b>bold <i>and italic</i></b>');
  });
});

describe('splitAtoms', () => {
  it('keeps a short answer in one message', () => {
    expect(splitAtoms(renderMarkdown('hello'))).toEqual(['hello']);
  });

  it('prefers paragraph breaks, then lines, then words', () => {
    const para = `${'a'.repeat(60)}\n\n${'b'.repeat(30)}`;
    expect(splitAtoms(renderMarkdown(para), 80)).toEqual([`${'a'.repeat(60)}\n\n`, 'b'.repeat(30)]);
    const lines = `${'a'.repeat(50)}\n${'b'.repeat(50)}`;
    expect(splitAtoms(renderMarkdown(lines), 80)).toEqual([`${'a'.repeat(50)}\n`, 'b'.repeat(50)]);
    const words = `${'word '.repeat(30)}`.trim();
    const parts = splitAtoms(renderMarkdown(words), 52);
    expect(parts.every((p) => p.length <= 52)).toBe(true);
    expect(parts.slice(0, -1).every((p) => p.endsWith(' '))).toBe(true);
    expect(parts.join('')).toBe(words);
  });

  it('closes and reopens entities around a cut, and never splits an escape or a surrogate pair', () => {
    const md = `**${'x&y 😀 '.repeat(40).trim()}**`;
    const parts = splitAtoms(renderMarkdown(md), 100);
    expect(parts.length).toBeGreaterThan(3);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(100);
      expect(balanced(p)).toBe(true);
      expect(p.startsWith('<b>')).toBe(true);
      expect(/&(?!amp;|lt;|gt;|quot;)/.test(p)).toBe(false);
      expect(/[\uD800-\uDBFF]$/.test(htmlToPlain(p))).toBe(false);
    }
    expect(parts.map(htmlToPlain).join('')).toBe(htmlToPlain(html(md)));
  });

  it('splits an answer that passes the limit only once escaped, losing and repeating nothing', () => {
    // 3,000 characters of text, but every < becomes &lt;: about 6,000 as sent.
    const md = `${'a < b\n'.repeat(500)}`;
    expect(md.length).toBeLessThan(MESSAGE_LIMIT);
    const parts = splitAtoms(renderMarkdown(md));
    expect(parts.length).toBe(2);
    expect(parts.every((p) => p.length <= MESSAGE_LIMIT)).toBe(true);
    expect(parts.map(htmlToPlain).join('')).toBe(md);
  });

  it('splits long code blocks into valid pre pieces', () => {
    const md = `\`\`\`\n${'line of code;\n'.repeat(600)}\`\`\``;
    const parts = splitAtoms(renderMarkdown(md));
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
      expect(p.startsWith('<pre>') && p.endsWith('</pre>')).toBe(true);
    }
  });
});
