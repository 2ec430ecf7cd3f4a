import { describe, expect, it } from 'vitest';
import { SessionQueue } from './session-queue.js';

describe('SessionQueue', () => {
  it('runs tasks of one key in order and other keys concurrently', async () => {
    const q = new SessionQueue();
    const log: string[] = [];
    let releaseA!: () => void;
    const a = q.enqueue('s1', () => new Promise<void>((r) => (releaseA = r)).then(() => log.push('a')));
    const b = q.enqueue('s1', async () => log.push('b'));
    const c = q.enqueue('s2', async () => log.push('c'));
    await c;
    expect(log).toEqual(['c']);
    releaseA();
    await Promise.all([a, b]);
    expect(log).toEqual(['c', 'a', 'b']);
    expect(q.keys).toBe(0);
  });

  it('keeps going after a task fails', async () => {
    const q = new SessionQueue();
    const failed = q.enqueue('s', () => Promise.reject(new Error('x')));
    const next = q.enqueue('s', async () => 'ran');
    await expect(failed).rejects.toThrow('x');
    expect(await next).toBe('ran');
  });

  it('refuses with -32003 past its bound', () => {
    const q = new SessionQueue(2);
    const never = () => new Promise<void>(() => {});
    void q.enqueue('s', never);
    void q.enqueue('s', never);
    expect(() => q.enqueue('s', never)).toThrow(expect.objectContaining({ code: -32003 }));
  });
});
