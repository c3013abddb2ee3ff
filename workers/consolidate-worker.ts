import type { MikroORM } from '@mikro-orm/postgresql';
import { type RedisOptions, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { consolidateJobOptions, EmbeddingScheduler, JobQueues } from '../server/jobs/queues.js';
import type { LlmEnv } from '../server/llm/index.js';
import type { EmbeddingProvider } from '../server/modules/embeddings/index.js';
import type { VaultCipher } from '../server/modules/memory/index.js';
import {
  failAbandonedJob,
  requeueOrphanedJob,
  staleJobs,
  publishMemoryEvent,
  createConsolidateProcessor,
} from '../server/modules/consolidation/index.js';
import { QUEUES, ZConsolidateJob } from '../shared/jobs/index.js';
import type { WorkerMetrics } from './metrics.js';
import { everyInterval } from './periodic.js';

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
  /** CONSOLIDATE_DIRECT_MAX_CHARS (see docs/memory-managers.md). */
  directMaxChars: number;
  attempts: number;
  backoffMs: number;
  /** BullMQ lock: a worker silent this long is presumed dead and its job handed to another. */
  lockMs: number;
  /** Times a job may lose its worker before it is failed (CONSOLIDATE_MAX_STALLS). */
  maxStalls?: number;
  sweepIntervalMs: number;
  /** Jobs recorded longer ago than this and still queued are re-queued by the sweep (default: the interval). */
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
  const queues = new JobQueues(publisher, { prefix: opts.prefix, jobOptions: { consolidate: jobOptions } });
  const embeddingScheduler = new EmbeddingScheduler({ queues, log });

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
      directMaxChars: opts.directMaxChars,
      waitMs: opts.waitMs ?? 200,
      onUsage: (provider, usage) => opts.metrics?.recordLlmUsage(provider, usage),
    }),
    {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      lockDuration: opts.lockMs,
      stalledInterval: Math.max(500, Math.floor(opts.lockMs / 2)),
      maxStalledCount: opts.maxStalls ?? 20,
    },
  );
  worker.on('error', (err) => log.warn({ err }, 'consolidate worker error'));
  // A job that lost its worker too often is failed by BullMQ before our processor runs, so the
  // processor cannot record it: this does, or the agent's later jobs would wait behind it forever.
  worker.on('failed', (job, err) => {
    if (!job || err.name !== 'UnrecoverableError' || !job.deferredFailure) return;
    const parsed = ZConsolidateJob.safeParse(job.data);
    if (!parsed.success) return;
    void settleAbandoned(parsed.data.memoryJobId, parsed.data.agentId);
  });
  const stalledError = {
    code: 'STALLED',
    message: `the worker stopped during this job more than ${opts.maxStalls ?? 20} times`,
  };
  async function settleAbandoned(
    memoryJobId: string,
    agentId: string,
    error: { code: string; message: string } = stalledError,
  ): Promise<void> {
    try {
      if (!(await failAbandonedJob(opts.orm.em.fork(), memoryJobId, error))) return;
      log.warn({ jobId: memoryJobId, agentId, error }, 'consolidation job failed outside its processor');
      await publishMemoryEvent(
        { redis: publisher, prefix: opts.prefix, log },
        {
          type: 'failed',
          jobId: memoryJobId,
          agentId,
          at: new Date().toISOString(),
          error,
          willRetry: false,
        },
      );
    } catch (err) {
      log.warn({ err, jobId: memoryJobId }, 'could not record an abandoned job; the sweep will');
    }
  }
  opts.metrics?.watch(QUEUES.consolidate, worker);

  // Waiting longer than one sweep interval: its delivery did not happen (Redis was down, or lost it).
  const minAge = opts.sweepMinAgeMs ?? opts.sweepIntervalMs;
  async function sweep(): Promise<number> {
    try {
      const rows = await staleJobs(opts.orm.em.fork(), { status: 'queued', olderThanMs: minAge });
      for (const r of rows) {
        await queues.enqueue('consolidate', { memoryJobId: r.id, agentId: r.agentId }, { jobId: r.id });
      }
      if (rows.length) log.info({ jobs: rows.length }, 'sweep re-queued consolidation jobs');
      return rows.length + (await reconcileActive());
    } catch (err) {
      log.warn({ err }, 'consolidation sweep failed; will try again');
      return 0;
    }
  }
  /**
   * Jobs Postgres has as `active` that BullMQ no longer runs: failed by BullMQ without a record
   * (a missed `failed` event) are failed here; gone from Redis (flushed, lost) or finished there
   * without a record are put back to `queued`, and the next sweep delivers them again.
   */
  async function reconcileActive(): Promise<number> {
    const em = opts.orm.em.fork();
    const rows = await staleJobs(em, { status: 'active', olderThanMs: minAge });
    const queue = queues.queue(QUEUES.consolidate);
    let settled = 0;
    for (const r of rows) {
      const state = await queue.getJobState(r.id);
      if (state === 'failed') {
        const job = await queue.getJob(r.id);
        await settleAbandoned(
          r.id,
          r.agentId,
          job?.deferredFailure
            ? stalledError
            : { code: 'JOB_FAILED', message: 'the job failed and its failure could not be recorded' },
        );
        settled++;
      } else if (state === 'unknown' || state === 'completed') {
        if (state === 'completed') await queue.remove(r.id);
        if (await requeueOrphanedJob(em, r.id)) settled++;
      }
    }
    if (settled) log.warn({ jobs: settled }, 'sweep settled active jobs that BullMQ no longer runs');
    return settled;
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
