import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { ConfigError, isLoopbackHost, loadConfig, loadProviderEnv } from './config.js';

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function configFile(value: unknown): string {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir.path, 'flynn.json');
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig({}, {});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 18790, maxFrameBytes: 1048576, maxInFlight: 128, logLevel: 'info', trustTailscale: false });
    expect(c.token).toBeUndefined();
  });

  it('layers flags over env over file', () => {
    const file = configFile({ port: 1111, host: '127.0.0.2', logLevel: 'debug' });
    const c = loadConfig({ config: file, port: '3333' }, { FLYNN_PORT: '2222', FLYNN_HOST: '127.0.0.3' });
    expect(c.port).toBe(3333);
    expect(c.host).toBe('127.0.0.3');
    expect(c.logLevel).toBe('debug');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({}, { FLYNN_PORT: '', FLYNN_TOKEN: '  ' }).port).toBe(18790);
  });

  it('reads lists and booleans from the environment', () => {
    const c = loadConfig({}, { FLYNN_ALLOW_ORIGIN: 'https://a.example, https://b.example', FLYNN_TRUST_TAILSCALE: 'true', FLYNN_TELEGRAM_ALLOWED_USERS: '1,22' });
    expect(c.allowOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.trustTailscale).toBe(true);
    expect(c.telegram.allowedUsers).toEqual([1, 22]);
  });

  it.each([
    [{ port: '70000' }, {}, /port/],
    [{}, { FLYNN_MAX_FRAME_BYTES: 'lots' }, /maxFrameBytes/],
    [{ logLevel: 'loud' }, {}, /logLevel/],
    [{ token: 'short' }, {}, /token/],
    [{}, { FLYNN_TRUST_TAILSCALE: 'maybe' }, /trustTailscale/],
  ])('names the bad key: %j %j', (flags, env, key) => {
    expect(() => loadConfig(flags, env)).toThrow(ConfigError);
    expect(() => loadConfig(flags, env)).toThrow(key);
  });

  it('needs a webhook secret with a webhook URL', () => {
    expect(() => loadConfig({}, { FLYNN_TELEGRAM_WEBHOOK_URL: 'https://flynn.example/hook' })).toThrow(/telegram.webhookSecret/);
    const ok = loadConfig({}, { FLYNN_TELEGRAM_WEBHOOK_URL: 'https://flynn.example/hook', FLYNN_TELEGRAM_WEBHOOK_SECRET: 'a-long-enough-secret' });
    expect(ok.telegram).toMatchObject({ webhookUrl: 'https://flynn.example/hook', webhookSecret: 'a-long-enough-secret' });
  });

  it('names an unknown key in the config file', () => {
    expect(() => loadConfig({ config: configFile({ prot: 1 }) }, {})).toThrow(/prot/);
  });

  it('says when the config file is missing or not JSON', () => {
    expect(() => loadConfig({ config: '/nonexistent/flynn.json' }, {})).toThrow(/cannot read config file/);
    expect(() => loadConfig({ config: configFile('{oops') }, {})).toThrow(/not valid JSON/);
  });
});

describe('loadProviderEnv', () => {
  it('defaults OLLAMA_HOST and ignores empty keys', () => {
    expect(loadProviderEnv({ OPENAI_API_KEY: '' })).toEqual({
      anthropicApiKey: undefined,
      anthropicBaseUrl: undefined,
      openaiApiKey: undefined,
      openaiBaseUrl: undefined,
      ollamaHost: 'http://127.0.0.1:11434',
    });
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback from the rest', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '192.168.1.2', '::', 'example.com'].some(isLoopbackHost)).toBe(false);
  });
});
