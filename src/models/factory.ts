/**
 * Builds providers from the environment the official SDKs read. SDKs are
 * imported only when their provider is first used, which keeps startup fast.
 */
import type { ProviderEnv } from '../config.js';
import type { ModelProvider } from './provider.js';
import { parseModelChain, type ModelRef, type ProviderName } from './router.js';

/** Default models when a key is present but no `--model` is given. */
const DEFAULT_MODELS = { anthropic: 'claude-sonnet-4-5', openai: 'gpt-4o-mini' } as const;

/**
 * The chain to use: `--model` if given; else the provider whose key is set;
 * else the offline provider. Throws with what to set when a named provider
 * has no key.
 */
export function resolveModelChain(spec: string | undefined, env: ProviderEnv): ModelRef[] {
  const chain = spec
    ? parseModelChain(spec)
    : env.anthropicApiKey
      ? [{ provider: 'anthropic' as const, model: DEFAULT_MODELS.anthropic }]
      : env.openaiApiKey
        ? [{ provider: 'openai' as const, model: DEFAULT_MODELS.openai }]
        : [{ provider: 'offline' as const, model: 'offline' }];
  for (const ref of chain) {
    if (ref.provider === 'anthropic' && !env.anthropicApiKey) {
      throw new Error(`--model ${ref.provider}:${ref.model} needs ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for another endpoint)`);
    }
    if (ref.provider === 'openai' && !env.openaiApiKey && !env.openaiBaseUrl) {
      throw new Error(`--model ${ref.provider}:${ref.model} needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local server`);
    }
  }
  return chain;
}

export function createProviderFactory(env: ProviderEnv, offline: { chunkDelayMs?: number } = {}) {
  const cache = new Map<ProviderName, Promise<ModelProvider>>();

  async function build(name: ProviderName): Promise<ModelProvider> {
    switch (name) {
      case 'anthropic': {
        const { createAnthropicProvider } = await import('./anthropic.js');
        return createAnthropicProvider({ apiKey: env.anthropicApiKey ?? '', baseURL: env.anthropicBaseUrl });
      }
      case 'openai': {
        const { createOpenAICompatibleProvider } = await import('./openai-compatible.js');
        // Local OpenAI-compatible servers take any key; the SDK insists on one.
        return createOpenAICompatibleProvider({ name, apiKey: env.openaiApiKey ?? 'unused', baseURL: env.openaiBaseUrl });
      }
      case 'ollama': {
        const { createOpenAICompatibleProvider } = await import('./openai-compatible.js');
        return createOpenAICompatibleProvider({ name, apiKey: 'ollama', baseURL: `${env.ollamaHost.replace(/\/+$/, '')}/v1` });
      }
      case 'offline': {
        const { createOfflineProvider } = await import('./offline.js');
        return createOfflineProvider(offline);
      }
    }
  }

  return (name: ProviderName): Promise<ModelProvider> => {
    let provider = cache.get(name);
    if (!provider) cache.set(name, (provider = build(name)));
    return provider;
  };
}
