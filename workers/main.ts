// The worker process: `npm run worker`. One BullMQ Worker per queue, graceful on SIGTERM/SIGINT.
import { openDatabaseOrExit } from '../server/db/orm.js';
import { loadEnvOrExit } from '../server/env.js';
import { exitOnEmbeddingMismatch, onShutdownSignal } from '../server/lifecycle.js';
import { createLogger } from '../server/logger.js';
import { createEmbeddingProvider } from '../server/modules/embeddings/index.js';
import { workerRedisOptions } from '../server/redis.js';
import { startEmbedWorker } from './embed-worker.js';
import { startConsolidateWorker } from './consolidate-worker.js';
import { WorkerMetrics } from './metrics.js';
import { startRetention } from './retention.js';
import { startAbandonedTurnSweep } from './abandoned-turns.js';
import { VaultCipher } from '../server/modules/memory/index.js';

const { env } = loadEnvOrExit();
const logger = createLogger(env, undefined, 'mirix-worker');
const orm = await openDatabaseOrExit(env, logger);
await exitOnEmbeddingMismatch(orm, env.EMBEDDING_DIM, logger);

const provider = createEmbeddingProvider(env);
const metrics = new WorkerMetrics();
const embed = startEmbedWorker({
  orm,
  provider,
  log: logger,
  connection: workerRedisOptions(env.REDIS_URL),
  prefix: env.QUEUE_PREFIX,
  concurrency: env.WORKER_CONCURRENCY,
  batchSize: env.EMBEDDING_BATCH_SIZE,
  writers: env.EMBEDDING_WRITERS,
  sweepIntervalMs: env.EMBED_SWEEP_INTERVAL_MS,
  metrics,
});
const consolidate = startConsolidateWorker({
  orm,
  llmEnv: env,
  embeddings: provider,
  cipher: new VaultCipher(env.VAULT_KEYS),
  log: logger,
  connection: workerRedisOptions(env.REDIS_URL),
  prefix: env.QUEUE_PREFIX,
  concurrency: env.CONSOLIDATE_CONCURRENCY,
  maxSteps: env.MEMORY_MANAGER_MAX_STEPS,
  directMaxChars: env.CONSOLIDATE_DIRECT_MAX_CHARS,
  attempts: env.CONSOLIDATE_ATTEMPTS,
  backoffMs: env.CONSOLIDATE_BACKOFF_MS,
  lockMs: env.CONSOLIDATE_LOCK_MS,
  maxStalls: env.CONSOLIDATE_MAX_STALLS,
  sweepIntervalMs: env.CONSOLIDATE_SWEEP_INTERVAL_MS,
  metrics,
});
const retention = startRetention({
  orm,
  log: logger,
  jobInputDays: env.JOB_INPUT_RETENTION_DAYS,
  historyDays: env.HISTORY_RETENTION_DAYS,
  historyKeepVersions: env.HISTORY_KEEP_VERSIONS,
  intervalMs: env.RETENTION_INTERVAL_MS,
  metrics,
});
const abandonedTurns = startAbandonedTurnSweep({
  orm,
  log: logger,
  abandonAfterMs: env.CHAT_TURN_ABANDON_MS,
  metrics,
});
// Metrics are worth a warning, not a worker: a busy port (a second worker on this host) turns them off.
const metricsServer =
  env.WORKER_METRICS_PORT > 0
    ? await metrics.serve(env.WORKER_METRICS_PORT, env.HOST).catch((err: unknown) => {
        logger.warn({ err, port: env.WORKER_METRICS_PORT }, 'worker metrics not served');
        return null;
      })
    : null;
logger.info(
  {
    model: provider.model,
    dim: provider.dim,
    concurrency: { embed: env.WORKER_CONCURRENCY, consolidate: env.CONSOLIDATE_CONCURRENCY },
    metricsPort: metricsServer?.port ?? null,
  },
  'MIRIX-TS worker started (queues: embed, consolidate)',
);
void embed.sweep();
void consolidate.sweep();

/** Resolves true when `work` settles within `ms`, false when the time runs out first. */
const within = (work: Promise<unknown>, ms: number) =>
  Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref()),
  ]);

// Shutdown ends within SHUTDOWN_TIMEOUT_MS whatever is down: BullMQ's close waits for active jobs
// and for Redis, which may never answer. A job cut short is not lost: Postgres still has it, and
// once its lock expires BullMQ hands it to another worker.
onShutdownSignal(logger, async (signal) => {
  logger.info({ signal, timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, 'worker shutting down: finishing active jobs');
  const graceful = Promise.all([
    embed.close(),
    consolidate.close(),
    retention.stop(),
    abandonedTurns.stop(),
    metricsServer?.close(),
  ]);
  if (!(await within(graceful, env.SHUTDOWN_TIMEOUT_MS)))
    logger.warn(
      { timeoutMs: env.SHUTDOWN_TIMEOUT_MS },
      'jobs or Redis did not finish in time; stopping anyway (unfinished jobs go to another worker)',
    );
  await within(orm.close(), 2_000);
  logger.info('worker shutdown complete');
});
