import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidParamsError, RpcError } from './errors.js';
import { batchFrame, errorFrame, isInvalid, notificationFrame, parseFrame, resultFrame, toItem, type Item } from './jsonrpc.js';

function single(text: string): Item {
  const frame = parseFrame(text);
  if (frame.kind !== 'single') throw new Error(`expected a single item, got ${frame.kind}`);
  return frame.item;
}

function invalidCode(item: Item): number {
  if (!isInvalid(item)) throw new Error('expected an invalid item');
  return item.error.code;
}

describe('parseFrame', () => {
  it('answers a parse error with id null when the frame is not JSON', () => {
    const frame = parseFrame('{"jsonrpc":"2.0", "method"');
    expect(frame.kind).toBe('reply');
    if (frame.kind !== 'reply') return;
    expect(JSON.parse(frame.reply)).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: expect.any(String) },
    });
  });

  it('answers one invalid request for an empty batch', () => {
    const frame = parseFrame('[]');
    expect(frame.kind).toBe('reply');
    if (frame.kind !== 'reply') return;
    expect(JSON.parse(frame.reply)).toMatchObject({ id: null, error: { code: -32600 } });
  });

  it('reads a request with a number id and object params', () => {
    expect(single('{"jsonrpc":"2.0","id":7,"method":"a.b","params":{"x":1}}')).toEqual({
      id: 7,
      method: 'a.b',
      params: { x: 1 },
    });
  });

  it('keeps a string id and a null id distinct from a notification', () => {
    expect(single('{"jsonrpc":"2.0","id":"abc","method":"m"}')).toMatchObject({ id: 'abc' });
    expect(single('{"jsonrpc":"2.0","id":null,"method":"m"}')).toMatchObject({ id: null });
    const notification = single('{"jsonrpc":"2.0","method":"m"}');
    expect(isInvalid(notification)).toBe(false);
    expect((notification as { id: unknown }).id).toBeUndefined();
  });

  it('splits a batch into per-item results, valid and invalid', () => {
    const frame = parseFrame('[{"jsonrpc":"2.0","id":1,"method":"m"}, 1, {"jsonrpc":"2.0","method":"n"}]');
    expect(frame.kind).toBe('batch');
    if (frame.kind !== 'batch') return;
    expect(frame.items).toHaveLength(3);
    expect(isInvalid(frame.items[0]!)).toBe(false);
    expect(invalidCode(frame.items[1]!)).toBe(ErrorCode.InvalidRequest);
    expect(isInvalid(frame.items[2]!)).toBe(false);
  });
});

describe('toItem', () => {
  it.each([
    ['a non-object', 5],
    ['a string', 'x'],
    ['null', null],
    ['a missing jsonrpc', { id: 1, method: 'm' }],
    ['jsonrpc 1.0', { jsonrpc: '1.0', id: 1, method: 'm' }],
    ['a missing method', { jsonrpc: '2.0', id: 1 }],
    ['a numeric method', { jsonrpc: '2.0', id: 1, method: 5 }],
    ['an empty method', { jsonrpc: '2.0', id: 1, method: '' }],
    ['an object id', { jsonrpc: '2.0', id: {}, method: 'm' }],
    ['a boolean id', { jsonrpc: '2.0', id: true, method: 'm' }],
    ['primitive params', { jsonrpc: '2.0', id: 1, method: 'm', params: 3 }],
    ['null params', { jsonrpc: '2.0', id: 1, method: 'm', params: null }],
  ])('rejects %s as an invalid request', (_name, value) => {
    expect(invalidCode(toItem(value))).toBe(-32600);
  });

  it('echoes a usable id on an invalid request and null otherwise', () => {
    const withId = toItem({ jsonrpc: '1.0', id: 'k', method: 'm' });
    const badId = toItem({ jsonrpc: '2.0', id: [1], method: 'm' });
    expect(isInvalid(withId) && withId.id).toBe('k');
    expect(isInvalid(badId) && badId.id).toBeNull();
  });

  it('accepts array params at the envelope (the method decides)', () => {
    expect(isInvalid(toItem({ jsonrpc: '2.0', id: 1, method: 'm', params: [1] }))).toBe(false);
  });
});

describe('frames', () => {
  it('builds a result, an error with data, a notification and a batch', () => {
    expect(JSON.parse(resultFrame(1, { a: 1 }))).toEqual({ jsonrpc: '2.0', id: 1, result: { a: 1 } });
    expect(JSON.parse(resultFrame('x', undefined))).toEqual({ jsonrpc: '2.0', id: 'x', result: null });
    const err = JSON.parse(errorFrame(2, new InvalidParamsError([{ field: 'limit', message: 'too big' }])));
    expect(err).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: {
        code: -32602,
        message: 'Invalid params: limit: too big',
        data: { field: 'limit', issues: [{ field: 'limit', message: 'too big' }] },
      },
    });
    expect(JSON.parse(errorFrame(3, new RpcError(-32002, 'nope')))).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32002, message: 'nope' },
    });
    expect(JSON.parse(notificationFrame('agent.event', { seq: 1 }))).toEqual({
      jsonrpc: '2.0',
      method: 'agent.event',
      params: { seq: 1 },
    });
    expect(batchFrame([])).toBeUndefined();
    expect(JSON.parse(batchFrame([resultFrame(1, 1), resultFrame(2, 2)])!)).toHaveLength(2);
  });
});
