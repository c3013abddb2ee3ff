import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { z } from 'zod';

/**
 * The one description of MIRIX-TS's environment. Every variable is documented in `.env.example`.
 * Nothing else in the code base reads `process.env` (enforced by lint).
 */
const ZEnv = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Express "trust proxy": which hops may set X-Forwarded-For (client addresses for rate limits). */
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .transform((v): boolean | number | string =>
      v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v,
    ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .describe('PostgreSQL with the pgvector extension available'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(3600),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(100),
  LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** Calls per RATE_LIMIT_WINDOW_SECONDS for each user (or API key); over it, 429 with Retry-After. */
  RATE_LIMIT_PER_USER: z.coerce.number().int().min(1).default(6000),
  /** Sign-in and sign-up calls per window from one client address. */
  RATE_LIMIT_AUTH_PER_ADDRESS: z.coerce.number().int().min(1).default(60),
  /** Calls per window from one client address without valid credentials (docs, failed sign-ins, 401s). */
  RATE_LIMIT_ANONYMOUS_PER_ADDRESS: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
  /** `hashed`: the offline lexical embedder (no network). `openai`: any OpenAI-compatible endpoint. */
  EMBEDDING_PROVIDER: z.enum(['hashed', 'openai']).default('hashed'),
  /** Defaults to `mirix-hashed-v1` (hashed) or `text-embedding-3-small` (openai). */
  EMBEDDING_MODEL: z.string().min(1).max(200).optional(),
  EMBEDDING_DIM: z.coerce.number().int().min(16).max(4000).default(768),
  /** Falls back to OPENAI_BASE_URL / OPENAI_API_KEY. */
  EMBEDDING_BASE_URL: z.url().optional(),
  EMBEDDING_API_KEY: z.string().min(1).optional(),
  /** Texts per provider call (the worker gathers at least this many across jobs when it can). */
  EMBEDDING_BATCH_SIZE: z.coerce.number().int().min(1).max(2048).default(128),
  /** Embedding batches one worker process writes at once; jobs arriving meanwhile join later batches. */
  EMBEDDING_WRITERS: z.coerce.number().int().min(1).max(64).default(2),
  /**
   * Knowledge-vault encryption keys: `id:base64(32 bytes)`, comma-separated; the first encrypts,
   * all decrypt (rotation). Required in production.
   */
  VAULT_KEYS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const keys = new Map<string, Buffer>();
      for (const part of v.split(',').map((p) => p.trim())) {
        const match = /^([A-Za-z0-9_-]{1,64}):([A-Za-z0-9+/=_-]+)$/.exec(part);
        const key = match?.[2] ? Buffer.from(match[2], 'base64') : null;
        if (!match?.[1] || key?.length !== 32) {
          ctx.addIssue({ code: 'custom', message: 'each key must be id:base64 of exactly 32 bytes' });
          return z.NEVER;
        }
        keys.set(match[1], key);
      }
      return { activeKeyId: v.split(':')[0]!.trim(), keys };
    }),
  /** BullMQ key prefix in Redis. */
  QUEUE_PREFIX: z.string().min(1).max(50).default('mirix'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(64),
  /** How often the worker looks for memories still waiting for an embedding. */
  EMBED_SWEEP_INTERVAL_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Consolidation jobs run at once per worker process (an agent's jobs still run one at a time, in order). */
  CONSOLIDATE_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(32),
  /** LLM calls each memory manager may make per job (MIRIX's MAX_STEPS). */
  MEMORY_MANAGER_MAX_STEPS: z.coerce.number().int().min(1).max(20).default(5),
  // Content up to this many characters (a chat turn, a note) goes to one memory manager with every
  // type's tools, usually one LLM call; longer content to the meta manager and the type managers.
  CONSOLIDATE_DIRECT_MAX_CHARS: z.coerce.number().int().min(0).max(1_000_000).default(2000),
  /** Attempts per consolidation job; failures retry with exponential backoff from CONSOLIDATE_BACKOFF_MS. */
  CONSOLIDATE_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  CONSOLIDATE_BACKOFF_MS: z.coerce.number().int().min(10).default(2000),
  /** A worker that holds a job this long without renewing its lock is presumed dead; the job goes to another. */
  CONSOLIDATE_LOCK_MS: z.coerce.number().int().min(500).default(30_000),
  /**
   * Times a job may lose its worker (a crash, a kill, a lock not renewed) before it is failed as a
   * job that kills its worker. Crashes do not use up CONSOLIDATE_ATTEMPTS: the job did nothing wrong.
   */
  CONSOLIDATE_MAX_STALLS: z.coerce.number().int().min(1).max(1000).default(20),
  /** How often the worker re-queues jobs recorded in Postgres that Redis does not have (e.g. after an outage). */
  CONSOLIDATE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Days after a consolidation job finishes before its raw input is purged (0 keeps inputs forever). */
  JOB_INPUT_RETENTION_DAYS: z.coerce.number().int().min(0).default(30),
  /**
   * Memory history: a version older than HISTORY_RETENTION_DAYS is deleted unless it is one of its
   * item's last HISTORY_KEEP_VERSIONS (0 days keeps history forever).
   */
  HISTORY_RETENTION_DAYS: z.coerce.number().int().min(0).default(180),
  HISTORY_KEEP_VERSIONS: z.coerce.number().int().min(1).default(10),
  /** How often the worker applies retention. */
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).default(3_600_000),
  /** The worker process serves Prometheus metrics on this port (0 turns it off). */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  /** For Anthropic-compatible gateways and local test doubles. */
  ANTHROPIC_BASE_URL: z.url().optional(),
  /** Per LLM request; the SDKs retry 429, 5xx and timeouts LLM_MAX_RETRIES times with backoff. */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
  LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /**
   * A user message still pending this long after it was sent is marked failed (TURN_ABANDONED) by
   * the worker: its turn ended without recording how (the database went away mid-turn, or the API
   * process died). Longer than any turn can run; the sweep runs every half of it, at most a minute.
   */
  CHAT_TURN_ABANDON_MS: z.coerce.number().int().min(1000).default(600_000),
  /** Earlier messages of the conversation sent with each chat turn. */
  CHAT_HISTORY_MESSAGES: z.coerce.number().int().min(0).max(200).default(20),
  /** Memories per type retrieved into the chat prompt. */
  CHAT_MEMORY_TOP_K: z.coerce.number().int().min(0).max(50).default(5),
});

type ParsedEnv = z.infer<typeof ZEnv>;
export type Env = Omit<ParsedEnv, 'JWT_SECRET' | 'EMBEDDING_MODEL'> & {
  JWT_SECRET: string;
  EMBEDDING_MODEL: string;
};

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

export interface LoadedEnv {
  env: Env;
  /** Things worth telling the operator at start-up (never secret values). */
  warnings: string[];
}

/** Empty strings count as unset, so `FOO=` in a .env file means "use the default". */
function withoutEmpty(source: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(source).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
}

/** Validates an environment; throws EnvError listing every problem at once. */
export function parseEnv(source: Record<string, string | undefined>): LoadedEnv {
  const result = ZEnv.safeParse(withoutEmpty(source));
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const parsed = result.data;
  const warnings: string[] = [];
  let jwtSecret = parsed.JWT_SECRET;
  if (!jwtSecret) {
    if (parsed.NODE_ENV === 'production') {
      throw new EnvError(['JWT_SECRET: required in production (at least 32 characters)']);
    }
    jwtSecret = randomBytes(32).toString('base64url');
    warnings.push(
      'JWT_SECRET is not set: generated an ephemeral one. Tokens stop working when the process restarts; set JWT_SECRET in .env.',
    );
  }
  if (!parsed.VAULT_KEYS) {
    if (parsed.NODE_ENV === 'production') {
      throw new EnvError(['VAULT_KEYS: required in production (id:base64 of 32 random bytes)']);
    }
    warnings.push('VAULT_KEYS is not set: knowledge-vault writes and reveals answer 503 until it is.');
  }
  const embeddingModel =
    parsed.EMBEDDING_MODEL ??
    (parsed.EMBEDDING_PROVIDER === 'hashed' ? 'mirix-hashed-v1' : 'text-embedding-3-small');
  return { env: { ...parsed, JWT_SECRET: jwtSecret, EMBEDDING_MODEL: embeddingModel }, warnings };
}

/**
 * Reads `.env` (if present; real environment variables win) and parses the result.
 * Call once, at a process's start.
 */
export function loadEnv(envFile = '.env'): LoadedEnv {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return parseEnv(process.env);
}

/** For entry points: parse or exit with a readable list of problems. */
export function loadEnvOrExit(envFile?: string): LoadedEnv {
  try {
    return loadEnv(envFile);
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`${err.message}\nSee .env.example for every variable.\n`);
      process.exit(1);
    }
    throw err;
  }
}
