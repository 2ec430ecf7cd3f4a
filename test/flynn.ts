/** A whole Flynn (store, router, agent, gateway) in-process on port 0, for end-to-end tests. */
import { loadConfig, type ProviderEnv } from '../src/config.js';
import { startFlynn, type RunningFlynn } from '../src/main.js';
import { RpcClient, silentLogger, tempDir, TOKEN } from './helpers.js';

export interface TestFlynn extends RunningFlynn {
  readonly dataDir: string;
  /** Opens an authenticated client; closed by `stop`. */
  client(): Promise<RpcClient>;
}

export async function startTestFlynn(
  flags: Record<string, unknown> = {},
  env: Partial<ProviderEnv> = {},
  dataDir?: string,
): Promise<TestFlynn> {
  const dir = dataDir === undefined ? tempDir() : undefined;
  const path = dataDir ?? dir!.path;
  const config = loadConfig({ port: 0, token: TOKEN, dataDir: path, logLevel: 'silent', ...flags }, {});
  const flynn = await startFlynn({
    config,
    providerEnv: { ollamaHost: 'http://127.0.0.1:9', ...env },
    logger: silentLogger,
    print: () => {},
  });
  const clients: RpcClient[] = [];
  return {
    ...flynn,
    dataDir: path,
    async client() {
      const c = await RpcClient.open(flynn.url);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await flynn.stop();
      dir?.remove();
    },
  };
}
