import { MikroORM } from '@mikro-orm/postgresql';
import { TRPCClientError } from '@trpc/client';
import type { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { expect, inject } from 'vitest';
import { type AppRouter, createMirixClient, type MirixClient } from '../../client/index.js';
import { createApp } from '../../server/app.js';
import type { AppEnv } from '../../server/services.js';
import { createOrmConfig } from '../../server/db/orm-config.js';
import { createLogger } from '../../server/logger.js';
import { createApiRedis, workerRedisOptions } from '../../server/redis.js';
import {
  createEmbeddingProvider,
  type EmbeddingProvider,
} from '../../server/modules/embeddings/embedding.provider.js';
import { startEmbedWorker } from '../../workers/embed-worker.js';
import { startConsolidateWorker } from '../../workers/consolidate-worker.js';
import type { WorkerMetrics } from '../../workers/metrics.js';
import { VaultCipher } from '../../server/modules/memory/vault-cipher.js';
import { createTestDatabase, type TestDatabase } from './db.js';

/** A fixed vault key for tests (never used outside them). */
export const TEST_VAULT_KEYS = { activeKeyId: 'test1', keys: new Map([['test1', Buffer.alloc(32, 7)]]) };

export interface TestServer {
  url: string;
  env: AppEnv;
  orm: MikroORM;
  redis: Redis;
  db: TestDatabase;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  client: (credential?: { token?: string; apiKey?: string }) => MirixClient;
  close: () => Promise<void>;
}

export interface TestServerOptions {
  env?: Partial<AppEnv>;
  /** Use this ORM instead of one on a fresh database (the caller closes it). */
  orm?: MikroORM;
  redisUrl?: string;
  /** A built web app to serve at / (the end-to-end tests build their own). */
  webRoot?: string;
}

/** ORM settings for tests: small pool, short timeouts, driver chatter to a silent logger. */
export function testOrmConfig(url: string) {
  return createOrmConfig(
    { DATABASE_URL: url, DB_POOL_MAX: 5, DB_CONNECT_TIMEOUT_MS: 2000, NODE_ENV: 'test' },
    {},
    pino({ level: 'silent' }),
  );
}

/** The real app on an ephemeral loopback port, on its own database and Redis key space. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const db = opts.orm ? null : await createTestDatabase();
  const orm = opts.orm ?? (await MikroORM.init(testOrmConfig(db!.url)));
  const redis = createApiRedis(opts.redisUrl ?? inject('redisUrl'));
  redis.on('error', () => {});
  // Commands fail fast until the connection is ready (no offline queue): a rate limit consumed
  // before then would be counted by the in-memory stand-in, not in Redis. Start tests connected.
  if (!opts.redisUrl && redis.status !== 'ready')
    await new Promise((resolve) => redis.once('ready', resolve));
  const logs: string[] = [];
  const logger = createLogger(
    { LOG_LEVEL: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  const env: AppEnv = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    ACCESS_TOKEN_TTL_SECONDS: 3600,
    LOGIN_MAX_FAILURES: 5,
    LOGIN_MAX_FAILURES_PER_ADDRESS: 1000,
    LOGIN_MAX_FAILURES_PER_ACCOUNT: 1000,
    LOGIN_FAILURE_WINDOW_SECONDS: 600,
    TRUST_PROXY: 'loopback',
    VAULT_KEYS: TEST_VAULT_KEYS,
    QUEUE_PREFIX: `test-${randomUUID()}`,
    EMBEDDING_PROVIDER: 'hashed',
    EMBEDDING_MODEL: 'mirix-hashed-v1',
    EMBEDDING_DIM: 768,
    LLM_TIMEOUT_MS: 5000,
    LLM_MAX_RETRIES: 0,
    CHAT_HISTORY_MESSAGES: 20,
    CHAT_MEMORY_TOP_K: 5,
    CONSOLIDATE_ATTEMPTS: 3,
    RATE_LIMIT_PER_USER: 100_000,
    RATE_LIMIT_AUTH_PER_ADDRESS: 100_000,
    RATE_LIMIT_ANONYMOUS_PER_ADDRESS: 100_000,
    RATE_LIMIT_WINDOW_SECONDS: 60,
    CONSOLIDATE_BACKOFF_MS: 200,
    ...opts.env,
  };
  const { handler, services } = createApp({
    env,
    orm,
    redis,
    logger,
    redisKeyPrefix: `test:${randomUUID()}`,
    ...(opts.webRoot && { webRoot: opts.webRoot }),
  });
  const server: Server = await new Promise((resolve) => {
    const s = createServer(handler).listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    env,
    orm,
    redis,
    db: db ?? { name: '', url: '', drop: async () => {} },
    logs,
    client: (credential = {}) => createMirixClient({ url, ...credential }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.queues.close();
      await services.memoryEvents.close();
      redis.disconnect();
      if (!opts.orm) {
        await orm.close(true);
        await db!.drop();
      }
    },
  };
}

let counter = 0;

/** Registers a fresh user and logs in; returns the user, its token and a client using it. */
export async function signUp(server: TestServer, name = 'user') {
  const username = `${name}${++counter}_${randomBytes(3).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const anonymous = server.client();
  const user = await anonymous.auth.register.mutate({ username, email: `${username}@example.com`, password });
  const { accessToken } = await anonymous.auth.login.mutate({ username, password });
  return { user, username, password, token: accessToken, client: server.client({ token: accessToken }) };
}

/** Asserts that a call failed with this tRPC code (and so this HTTP status). */
export async function expectTRPCError(promise: Promise<unknown>, code: string, httpStatus?: number) {
  const err = await promise.then(
    () => {
      throw new Error(`expected ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCClientError);
  const clientError = err as TRPCClientError<AppRouter>;
  expect(clientError.data?.code).toBe(code);
  if (httpStatus !== undefined) expect(clientError.data?.httpStatus).toBe(httpStatus);
  return clientError as TRPCClientError<AppRouter> & {
    data: NonNullable<TRPCClientError<AppRouter>['data']>;
  };
}

/** The embed worker, in-process, on the test server's database and queue prefix. */
export function startTestWorker(
  server: TestServer,
  opts: { provider?: EmbeddingProvider; sweepMinAgeMs?: number; batchSize?: number; writers?: number } = {},
) {
  return startEmbedWorker({
    orm: server.orm,
    provider: opts.provider ?? createEmbeddingProvider(server.env),
    log: pino({ level: 'silent' }),
    connection: workerRedisOptions(inject('redisUrl')),
    prefix: server.env.QUEUE_PREFIX,
    concurrency: 64,
    batchSize: opts.batchSize ?? 128,
    writers: opts.writers,
    sweepIntervalMs: 3_600_000,
    sweepMinAgeMs: opts.sweepMinAgeMs ?? 0,
  });
}

/** The consolidation worker, in-process, on the test server's database, queue prefix and LLM settings. */
export function startTestConsolidateWorker(
  server: TestServer,
  opts: {
    concurrency?: number;
    lockMs?: number;
    maxStalls?: number;
    maxSteps?: number;
    /** Default 0: the meta manager and the type managers, whatever the content's length. */
    directMaxChars?: number;
    metrics?: WorkerMetrics;
    /** The worker's logger (default: silent). */
    log?: Logger;
  } = {},
) {
  return startConsolidateWorker({
    metrics: opts.metrics,
    orm: server.orm,
    llmEnv: server.env,
    embeddings: createEmbeddingProvider(server.env),
    cipher: new VaultCipher(server.env.VAULT_KEYS),
    log: opts.log ?? pino({ level: 'silent' }),
    connection: workerRedisOptions(inject('redisUrl')),
    prefix: server.env.QUEUE_PREFIX,
    concurrency: opts.concurrency ?? 8,
    maxSteps: opts.maxSteps ?? 5,
    directMaxChars: opts.directMaxChars ?? 0,
    attempts: server.env.CONSOLIDATE_ATTEMPTS,
    backoffMs: server.env.CONSOLIDATE_BACKOFF_MS,
    lockMs: opts.lockMs ?? 30_000,
    maxStalls: opts.maxStalls,
    sweepIntervalMs: 3_600_000,
    // Tests call sweep() themselves; jobs recorded over a minute ago are the sweep's.
    sweepMinAgeMs: 60_000,
    waitMs: 50,
  });
}
