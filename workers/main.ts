// The worker process: `npm run worker`. One BullMQ Worker per queue, graceful on SIGTERM/SIGINT.
import { initOrm } from '../server/db/orm.js';
import { loadEnvOrExit } from '../server/env.js';
import { exitOnEmbeddingMismatch, onShutdownSignal } from '../server/lifecycle.js';
import { createLogger } from '../server/logger.js';
import { createEmbeddingProvider } from '../server/modules/embeddings/embedding.provider.js';
import { workerRedisOptions } from '../server/redis.js';
import { startEmbedWorker } from './embed-worker.js';

const { env } = loadEnvOrExit();
const logger = createLogger(env).child({ service: 'mirix-worker' });
const orm = await initOrm(env, logger);
await exitOnEmbeddingMismatch(orm, env.EMBEDDING_DIM, logger);

const provider = createEmbeddingProvider(env);
const embed = startEmbedWorker({
  orm,
  provider,
  log: logger,
  connection: workerRedisOptions(env.REDIS_URL),
  prefix: env.QUEUE_PREFIX,
  concurrency: env.WORKER_CONCURRENCY,
  batchSize: env.EMBEDDING_BATCH_SIZE,
  sweepIntervalMs: env.EMBED_SWEEP_INTERVAL_MS,
});
logger.info(
  { model: provider.model, dim: provider.dim, concurrency: env.WORKER_CONCURRENCY },
  'MIRIX-TS worker started (queues: embed)',
);
void embed.sweep();

onShutdownSignal(logger, async (signal) => {
  logger.info({ signal }, 'worker shutting down: finishing active jobs');
  await embed.close();
  await orm.close();
  logger.info('worker shutdown complete');
});
