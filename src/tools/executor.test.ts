import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCurrentTimeTool, isoInZone } from './builtin/current-time.js';
import { ToolExecutor } from './executor.js';
import { ToolRegistry } from './registry.js';
import { defineTool } from './tool.js';

function setup(timeoutMs = 1000) {
  const registry = new ToolRegistry();
  registry.register(createCurrentTimeTool(() => new Date('2026-07-01T12:34:56.789Z')));
  registry.register(
    defineTool({
      name: 'stuck',
      description: 'never finishes and ignores its signal',
      input: z.strictObject({}),
      run: () => new Promise(() => {}),
    }),
  );
  registry.register(
    defineTool({
      name: 'boom',
      description: 'throws',
      input: z.strictObject({}),
      run: () => {
        throw new Error('kaput');
      },
    }),
  );
  return { registry, executor: new ToolExecutor(registry, { timeoutMs }) };
}

describe('ToolRegistry', () => {
  it('refuses names the providers would refuse, and duplicates', () => {
    const { registry } = setup();
    const tool = (name: string) => defineTool({ name, description: '', input: z.strictObject({}), run: () => ({ content: '' }) });
    expect(() => registry.register(tool('has space'))).toThrow(/must match/);
    expect(() => registry.register(tool('x'.repeat(65)))).toThrow(/must match/);
    expect(() => registry.register(tool('current_time'))).toThrow(/already registered/);
  });

  it('publishes JSON Schema generated from the zod schema', () => {
    const spec = setup().registry.specs().find((s) => s.name === 'current_time')!;
    expect(spec.inputSchema).toMatchObject({ type: 'object', properties: { timezone: { type: 'string' } }, additionalProperties: false });
    expect(spec.inputSchema.$schema).toBeUndefined();
  });
});

describe('ToolExecutor', () => {
  it('runs a tool with validated arguments', async () => {
    const out = await setup().executor.execute('current_time', { timezone: 'America/New_York' });
    expect(out).toEqual({ ok: true, content: '2026-07-01T08:34:56.789-04:00 (America/New_York)', isError: false });
  });

  it('reports unknown tools, bad arguments, throws and timeouts as values', async () => {
    const { executor } = setup(50);
    expect(await executor.execute('nope', {})).toMatchObject({ ok: false, reason: 'not_found' });
    expect(await executor.execute('current_time', { timezone: 3 })).toMatchObject({ ok: false, reason: 'invalid_arguments', field: 'timezone' });
    expect(await executor.execute('boom', {})).toMatchObject({ ok: false, reason: 'failed', message: 'kaput' });
    expect(await executor.execute('stuck', {})).toMatchObject({ ok: false, reason: 'timeout' });
  });

  it('stops waiting for a tool at once when the run is cancelled', async () => {
    const { executor } = setup(60_000);
    const controller = new AbortController();
    const pending = executor.execute('stuck', {}, controller.signal);
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, reason: 'cancelled' });
  });
});

describe('isoInZone', () => {
  it('writes UTC as Z and other zones with their offset', () => {
    const d = new Date('2026-01-15T23:30:00.005Z');
    expect(isoInZone(d, 'UTC')).toBe('2026-01-15T23:30:00.005Z');
    expect(isoInZone(d, 'Asia/Kolkata')).toBe('2026-01-16T05:00:00.005+05:30');
  });
});
