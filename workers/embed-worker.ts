import type { MikroORM } from '@mikro-orm/postgresql';
import { Queue, type RedisOptions, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { QUEUES } from '../shared/jobs/index.js';
import { DEFAULT_JOB_OPTIONS, JobQueues, scheduleEmbeddings } from '../server/jobs/queues.js';
import type { EmbeddingProvider } from '../server/modules/embeddings/index.js';
import { EmbedBatcher, findPendingEmbeddings, createEmbedProcessor } from '../server/modules/memory/index.js';
import { Redis } from 'ioredis';
import type { WorkerMetrics } from './metrics.js';
import { everyInterval } from './periodic.js';

export interface EmbedWorkerOptions {
  orm: MikroORM;
  provider: EmbeddingProvider;
  log: Logger;
  connection: RedisOptions;
  prefix: string;
  concurrency: number;
  batchSize: number;
  /** Batches written at once (EMBEDDING_WRITERS). */
  writers?: number;
  sweepIntervalMs: number;
  /** Items younger than this are assumed to have a job already; the sweep leaves them alone. */
  sweepMinAgeMs?: number;
  metrics?: WorkerMetrics;
}

/**
 * The embed queue's worker plus the sweep that guarantees no item stays without an embedding:
 * it re-enqueues items still pending after a while (jobs lost while Redis was down, or failed
 * for good), whenever the queue has nothing waiting.
 */
export function startEmbedWorker(opts: EmbedWorkerOptions) {
  const log = opts.log.child({ queue: QUEUES.embed });
  const batcher = new EmbedBatcher(
    { orm: opts.orm, provider: opts.provider, log },
    { batchSize: opts.batchSize, writers: opts.writers },
  );
  const worker = new Worker(QUEUES.embed, createEmbedProcessor(batcher), {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
  });
  worker.on('error', (err) => log.warn({ err }, 'embed worker error'));
  opts.metrics?.watch(QUEUES.embed, worker);
  worker.on('failed', (job, err) =>
    log.warn({ err: err.message, jobId: job?.id, attempts: job?.attemptsMade }, 'embed job failed'),
  );

  const producerConnection = new Redis({
    ...opts.connection,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  producerConnection.on('error', () => {});
  const queues = new JobQueues(producerConnection, { prefix: opts.prefix });
  const queue = new Queue(QUEUES.embed, {
    connection: opts.connection,
    prefix: opts.prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
  queue.on('error', () => {});
  // Waiting longer than one sweep interval: its delivery did not happen (Redis was down, or lost it).
  const minAge = opts.sweepMinAgeMs ?? opts.sweepIntervalMs;

  /** One sweep; returns how many items it re-enqueued. */
  async function sweep(): Promise<number> {
    try {
      if ((await queue.getWaitingCount()) > 0) return 0;
      const pending = await findPendingEmbeddings(opts.orm.em.fork(), minAge);
      if (pending.length === 0) return 0;
      // A new salt per sweep window, so a job that failed for good does not block its items forever.
      const salt = `sweep-${Math.floor(Date.now() / Math.max(opts.sweepIntervalMs, 1000))}`;
      const ok = await scheduleEmbeddings({ queues, log }, pending, { reason: 'sweep', jobIdSalt: salt });
      if (ok) log.info({ items: pending.length }, 'sweep re-enqueued items still waiting for an embedding');
      return ok ? pending.length : 0;
    } catch (err) {
      log.warn({ err }, 'embedding sweep failed; will try again');
      return 0;
    }
  }

  const sweeper = everyInterval(opts.sweepIntervalMs, sweep);

  return {
    worker,
    sweep,
    async close() {
      await sweeper.stop();
      await worker.close();
      await batcher.drain();
      await queue.close();
      await queues.close();
      producerConnection.disconnect();
    },
  };
}
