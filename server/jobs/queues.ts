import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { EMBED_JOB_CHUNK, embedJobId, JOBS, type JobName, type JobPayload } from '../../shared/jobs/index.js';

/** Retries with exponential backoff; finished jobs are kept for a while for inspection, then dropped. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 1000, age: 3600 },
  removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
};

/** Producer side of the job contracts in shared/jobs: typed, validated enqueueing. */
export class JobQueues {
  private readonly queues = new Map<string, Queue>();

  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly jobOptions: Partial<Record<JobName, JobsOptions>>;

  constructor(
    private readonly connection: Redis,
    opts: {
      prefix: string;
      /** How long an enqueue waits for Redis before it fails. */
      timeoutMs?: number;
      /** Per-job-kind defaults on top of DEFAULT_JOB_OPTIONS (e.g. the consolidation attempts). */
      jobOptions?: Partial<Record<JobName, JobsOptions>>;
    },
  ) {
    this.prefix = opts.prefix;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.jobOptions = opts.jobOptions ?? {};
  }

  /** The BullMQ queue behind a queue name (for the dashboard). */
  queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, {
        connection: this.connection,
        prefix: this.prefix,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      });
      // Connection trouble surfaces as a failed enqueue below; the event itself needs no handling.
      q.on('error', () => {});
      this.queues.set(name, q);
    }
    return q;
  }

  /**
   * Validates the payload against its contract, then adds the job (a repeated jobId is a no-op).
   * Fails fast, never hangs, when Redis is unreachable.
   */
  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: JobsOptions = {}): Promise<void> {
    const contract = JOBS[name];
    const data = contract.schema.parse(payload);
    if (this.connection.status !== 'ready') throw new Error(`Redis is not ready (${this.connection.status})`);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue(contract.queue).add(name, data, { ...this.jobOptions[name], ...opts }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`enqueue timed out after ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Jobs per state in a queue (for /metrics). */
  async counts(name: string): Promise<Record<string, number>> {
    return this.queue(name).getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'failed',
      'completed',
    );
  }

  /** Closes the queues; gives up after the timeout if Redis is gone (nothing is pending here). */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.queues.values()].map((q) => q.close())),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}

/**
 * Asks the embed worker to embed these items. Best effort by design: the rows are already
 * committed with `embedding = null`, and the worker's sweep finds any that never got a job (for
 * instance because Redis was down), so a failure here is logged, not thrown.
 */
export async function scheduleEmbeddings(
  { queues, log }: { queues: JobQueues; log: Logger },
  items: { id: string; updatedAt: Date }[],
  { reason = 'write', jobIdSalt = '' }: { reason?: 'write' | 'sweep' | 'reembed'; jobIdSalt?: string } = {},
): Promise<boolean> {
  try {
    for (let i = 0; i < items.length; i += EMBED_JOB_CHUNK) {
      const chunk = items.slice(i, i + EMBED_JOB_CHUNK);
      await queues.enqueue(
        'embed',
        { itemIds: chunk.map((c) => c.id), reason },
        {
          jobId: embedJobId(
            chunk.map((c) => ({ id: c.id, version: c.updatedAt })),
            jobIdSalt,
          ),
        },
      );
    }
    return true;
  } catch (err) {
    log.warn(
      { err, items: items.length },
      'could not enqueue embedding jobs; the sweep will pick these items up',
    );
    return false;
  }
}

/** Retry policy of consolidation jobs (LLM calls: fewer attempts, longer backoff). */
export function consolidateJobOptions(env: { CONSOLIDATE_ATTEMPTS: number; CONSOLIDATE_BACKOFF_MS: number }) {
  return {
    attempts: env.CONSOLIDATE_ATTEMPTS,
    backoff: { type: 'exponential', delay: env.CONSOLIDATE_BACKOFF_MS },
  } satisfies JobsOptions;
}

/**
 * Gathers the embedding requests of many small writers (the consolidation jobs of one worker
 * process) into fewer embed jobs: a job per `maxItems` items or per `lingerMs`, whichever comes
 * first. What is still gathered when the process dies is found by the embed worker's sweep.
 */
export class EmbeddingScheduler {
  private pending: { id: string; updatedAt: Date }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = new Set<Promise<unknown>>();

  private readonly queues: JobQueues;
  private readonly log: Logger;
  private readonly lingerMs: number;
  private readonly maxItems: number;

  constructor(deps: { queues: JobQueues; log: Logger }, opts: { lingerMs?: number; maxItems?: number } = {}) {
    this.queues = deps.queues;
    this.log = deps.log;
    this.lingerMs = opts.lingerMs ?? 25;
    this.maxItems = opts.maxItems ?? EMBED_JOB_CHUNK;
  }

  add(items: { id: string; updatedAt: Date }[]): void {
    if (items.length === 0) return;
    this.pending.push(...items);
    if (this.pending.length >= this.maxItems) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const items = this.pending;
    this.pending = [];
    if (items.length === 0) return;
    const sent = scheduleEmbeddings({ queues: this.queues, log: this.log }, items);
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  /** Sends what is gathered and waits for every send to settle. */
  async close(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
