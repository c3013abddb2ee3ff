import type { MikroORM } from '@mikro-orm/postgresql';
import type { IncomingMessage } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import proxyAddr from 'proxy-addr';
import type { Env } from './env.js';
import { consolidateJobOptions, JobQueues } from './jobs/queues.js';
import { Metrics } from './metrics.js';
import { LoginLimiter, RequestLimiter, TokenService } from './modules/auth/index.js';
import type { ChatEnv } from './modules/chat/index.js';
import { MemoryEventHub } from './modules/consolidation/index.js';
import {
  createEmbeddingProvider,
  type EmbeddingEnv,
  type EmbeddingProvider,
} from './modules/embeddings/index.js';
import { VaultCipher } from './modules/memory/index.js';

export type AppEnv = Pick<
  Env,
  | 'JWT_SECRET'
  | 'ACCESS_TOKEN_TTL_SECONDS'
  | 'LOGIN_MAX_FAILURES'
  | 'LOGIN_MAX_FAILURES_PER_ADDRESS'
  | 'LOGIN_MAX_FAILURES_PER_ACCOUNT'
  | 'LOGIN_FAILURE_WINDOW_SECONDS'
  | 'TRUST_PROXY'
  | 'VAULT_KEYS'
  | 'QUEUE_PREFIX'
  | 'CONSOLIDATE_ATTEMPTS'
  | 'RATE_LIMIT_PER_USER'
  | 'RATE_LIMIT_AUTH_PER_ADDRESS'
  | 'RATE_LIMIT_ANONYMOUS_PER_ADDRESS'
  | 'RATE_LIMIT_WINDOW_SECONDS'
  | 'CONSOLIDATE_BACKOFF_MS'
  | EmbeddingEnvKeys
  | keyof ChatEnv
>;
type EmbeddingEnvKeys = keyof EmbeddingEnv;

export interface AppDeps {
  env: AppEnv;
  orm: MikroORM;
  /** The API's Redis connection (fail-fast: `enableOfflineQueue: false`). */
  redis: Redis;
  logger: Logger;
  /** Namespace for this app's Redis keys (tests give each app its own). */
  redisKeyPrefix?: string;
  /** The built web app to serve at / (default: web/dist beside the server). */
  webRoot?: string;
}

/** Long-lived collaborators that procedures reach through `ctx.services`. */
export interface AppServices {
  orm: MikroORM;
  redis: Redis;
  tokens: TokenService;
  loginLimiter: LoginLimiter;
  cipher: VaultCipher;
  queues: JobQueues;
  embeddings: EmbeddingProvider;
  /** LLM and chat settings (providers are created per turn from the agent's modelConfig). */
  chatEnv: ChatEnv;
  /** Relays consolidation job events from Redis to `memory.events` streams. */
  memoryEvents: MemoryEventHub;
  metrics: Metrics;
  requestLimiter: RequestLimiter;
  /** The client's address, X-Forwarded-For honoured as far as TRUST_PROXY allows. */
  clientAddress: (req: IncomingMessage) => string;
}

/**
 * The API's long-lived collaborators, built once from its dependencies. The transports (tRPC, REST,
 * the queue dashboard) take this value; only the composition root (app.ts) builds it.
 */
export function createServices(deps: AppDeps, trustProxy: Parameters<typeof proxyAddr>[1]): AppServices {
  const { env, logger } = deps;
  const queues = new JobQueues(deps.redis, {
    prefix: env.QUEUE_PREFIX,
    jobOptions: { consolidate: consolidateJobOptions(env) },
  });
  return {
    cipher: new VaultCipher(env.VAULT_KEYS),
    queues,
    embeddings: createEmbeddingProvider(env),
    chatEnv: env,
    memoryEvents: new MemoryEventHub(deps.redis, env.QUEUE_PREFIX, logger),
    metrics: new Metrics(queues, logger),
    requestLimiter: new RequestLimiter(deps.redis, {
      perUser: env.RATE_LIMIT_PER_USER,
      authPerAddress: env.RATE_LIMIT_AUTH_PER_ADDRESS,
      anonymousPerAddress: env.RATE_LIMIT_ANONYMOUS_PER_ADDRESS,
      windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
      keyPrefix: deps.redisKeyPrefix ?? 'mirix',
    }),
    orm: deps.orm,
    redis: deps.redis,
    tokens: new TokenService(env.JWT_SECRET, env.ACCESS_TOKEN_TTL_SECONDS),
    loginLimiter: new LoginLimiter(deps.redis, {
      maxFailuresPerAccount: env.LOGIN_MAX_FAILURES,
      maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_ADDRESS,
      maxFailuresPerAccountAllAddresses: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
      keyPrefix: deps.redisKeyPrefix ?? 'mirix',
    }),
    clientAddress: (req) => proxyAddr(req, trustProxy),
  };
}
