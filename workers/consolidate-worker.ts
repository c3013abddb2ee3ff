import type { MikroORM } from '@mikro-orm/postgresql';
import { type RedisOptions, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { consolidateJobOptions, EmbeddingScheduler, JobQueues } from '../server/jobs/queues.js';
import type { LlmEnv } from '../server/llm/index.js';
import type { EmbeddingProvider } from '../server/modules/embeddings/embedding.provider.js';
import type { VaultCipher } from '../server/modules/memory/vault-cipher.js';
import { QUEUES } from '../shared/jobs/index.js';
import type { WorkerMetrics } from './metrics.js';
import { everyInterval } from './periodic.js';
import { createConsolidateProcessor } from './processors/consolidate.processor.js';

export interface ConsolidateWorkerOptions {
  orm: MikroORM;
  llmEnv: LlmEnv;
  embeddings: EmbeddingProvider;
  cipher: VaultCipher;
  log: Logger;
  connection: RedisOptions;
  prefix: string;
  concurrency: number;
  maxSteps: number;
  attempts: number;
  backoffMs: number;
  /** BullMQ lock: a worker silent this long is presumed dead and its job handed to another. */
  lockMs: number;
  sweepIntervalMs: number;
  /** Jobs recorded longer ago than this and still queued are re-queued by the sweep. */
  sweepMinAgeMs?: number;
  /** Pause before a job looks again when an earlier job of its agent is unfinished. */
  waitMs?: number;
  metrics?: WorkerMetrics;
}

/**
 * The consolidation queue's worker, plus a sweep that re-queues jobs Postgres has as queued but
 * Redis may have lost (an enqueue during an outage, a flushed Redis): the job id is the row id, so
 * re-adding a job Redis still has changes nothing.
 */
export function startConsolidateWorker(opts: ConsolidateWorkerOptions) {
  const log = opts.log.child({ queue: QUEUES.consolidate });
  const publisher = new Redis({ ...opts.connection, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  publisher.on('error', () => {});
  const jobOptions = consolidateJobOptions({
    CONSOLIDATE_ATTEMPTS: opts.attempts,
    CONSOLIDATE_BACKOFF_MS: opts.backoffMs,
  });
  const queues = new JobQueues(publisher, opts.prefix, 3000, { consolidate: jobOptions });
  const embeddingScheduler = new EmbeddingScheduler(queues, log);

  const worker = new Worker(
    QUEUES.consolidate,
    createConsolidateProcessor({
      orm: opts.orm,
      llmEnv: opts.llmEnv,
      embeddings: opts.embeddings,
      cipher: opts.cipher,
      embeddingScheduler,
      redis: publisher,
      prefix: opts.prefix,
      log,
      maxSteps: opts.maxSteps,
      waitMs: opts.waitMs ?? 200,
      onUsage: (provider, usage) => opts.metrics?.recordLlmUsage(provider, usage),
    }),
    {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      lockDuration: opts.lockMs,
      stalledInterval: Math.max(500, Math.floor(opts.lockMs / 2)),
      maxStalledCount: 3,
    },
  );
  worker.on('error', (err) => log.warn({ err }, 'consolidate worker error'));
  opts.metrics?.watch(QUEUES.consolidate, worker);

  const minAge = opts.sweepMinAgeMs ?? Math.max(60_000, opts.sweepIntervalMs);
  async function sweep(): Promise<number> {
    try {
      const rows = await opts.orm.em
        .fork()
        .getConnection()
        .execute<{ id: string; agent_id: string }[]>(
          `select id, agent_id from memory_jobs
           where status = 'queued' and created_at < now() - make_interval(secs => ?)
           order by id limit 1000`,
          [minAge / 1000],
        );
      for (const r of rows) {
        await queues.enqueue('consolidate', { memoryJobId: r.id, agentId: r.agent_id }, { jobId: r.id });
      }
      if (rows.length) log.info({ jobs: rows.length }, 'sweep re-queued consolidation jobs');
      return rows.length;
    } catch (err) {
      log.warn({ err }, 'consolidation sweep failed; will try again');
      return 0;
    }
  }
  const sweeper = everyInterval(opts.sweepIntervalMs, sweep);

  return {
    worker,
    sweep,
    close: async () => {
      await sweeper.stop();
      await worker.close();
      await embeddingScheduler.close();
      await queues.close();
      publisher.disconnect();
    },
  };
}
