import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from './errors.js';

describe('error catalogue', () => {
  it('matches the code table of docs/PROTOCOL.md exactly', () => {
    const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Error codes'), doc.indexOf('## Limits'));
    const documented = [...section.matchAll(/^\| (-\d+) \|/gm)].map((m) => Number(m[1])).sort();
    expect(documented).toEqual(Object.values(ErrorCode).sort());
  });
});
