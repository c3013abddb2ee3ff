import type { Env } from '../env.js';
import { AppError, AppErrorCode } from '../errors.js';
import { AnthropicProvider } from './anthropic.provider.js';
import { OpenAIProvider } from './openai.provider.js';
import type { LlmProvider } from './types.js';

export type LlmEnv = Pick<
  Env,
  | 'OPENAI_API_KEY'
  | 'OPENAI_BASE_URL'
  | 'ANTHROPIC_API_KEY'
  | 'ANTHROPIC_BASE_URL'
  | 'LLM_TIMEOUT_MS'
  | 'LLM_MAX_RETRIES'
>;

/**
 * The provider an agent's modelConfig names. OpenAI-compatible servers (Ollama, vLLM, ...) need
 * only a base URL; OpenAI itself and Anthropic need a key. Unconfigured means PRECONDITION_FAILED,
 * naming what to set.
 */
export function createLlmProvider(name: 'openai' | 'anthropic', env: LlmEnv): LlmProvider {
  // One SDK client per provider and configuration, reused across turns (and its keep-alive pool).
  let byName = cache.get(env);
  if (!byName) cache.set(env, (byName = new Map<string, LlmProvider>()));
  let provider = byName.get(name);
  if (!provider) byName.set(name, (provider = buildProvider(name, env)));
  return provider;
}

const cache = new WeakMap<LlmEnv, Map<string, LlmProvider>>();

function buildProvider(name: 'openai' | 'anthropic', env: LlmEnv): LlmProvider {
  const common = { timeoutMs: env.LLM_TIMEOUT_MS, maxRetries: env.LLM_MAX_RETRIES };
  if (name === 'openai') {
    if (!env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) {
      throw new AppError(
        AppErrorCode.PreconditionFailed,
        'No OpenAI provider is configured: set OPENAI_API_KEY, or OPENAI_BASE_URL for an OpenAI-compatible server (Ollama, vLLM, LM Studio)',
      );
    }
    return new OpenAIProvider({ ...common, apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL });
  }
  if (!env.ANTHROPIC_API_KEY) {
    throw new AppError(
      AppErrorCode.PreconditionFailed,
      'No Anthropic provider is configured: set ANTHROPIC_API_KEY',
    );
  }
  return new AnthropicProvider({ ...common, apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL });
}

export type * from './types.js';
