import type { EntityManager } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import type { JobQueues } from '../../jobs/queues.js';
import { getOwnedAgent, type Agent } from '../agents/index.js';
import type { User } from '../users/index.js';
import type { TIngestRequest } from './consolidation.schema.js';
import { publishMemoryEvent } from './memory-events.js';
import { type JobInput, MemoryJob, type JobSource } from './memory-job.entity.js';

/*
 * How work reaches the memory managers: a job row first (the row is the job), then BullMQ.
 */

export interface ConsolidationDeps {
  queues: JobQueues;
  redis: Redis;
  /** QUEUE_PREFIX: namespaces the event channels like the queues. */
  prefix: string;
  log: Logger;
}

/** What delivering a recorded job needs to know about it. */
export interface RecordedJob {
  id: string;
  agentId: string;
  createdAt: Date;
}

/** Hands a recorded job to BullMQ (its id is the row's, so a retry adds no duplicate) and announces it. */
async function deliver(deps: ConsolidationDeps, job: RecordedJob): Promise<void> {
  await deps.queues.enqueue('consolidate', { memoryJobId: job.id, agentId: job.agentId }, { jobId: job.id });
  await publishMemoryEvent(deps, {
    type: 'queued',
    jobId: job.id,
    agentId: job.agentId,
    at: job.createdAt.toISOString(),
  });
}

/**
 * Delivers a recorded job without making the caller wait for Redis: the row is the job, and one
 * Redis did not take is queued by the worker's sweep.
 */
export function deliverInBackground(deps: ConsolidationDeps, job: RecordedJob): void {
  // On the next turn of the event loop: the caller's answer is written first, then the job's
  // Redis commands are built and sent.
  setImmediate(() => {
    deliver(deps, job).catch((err: unknown) =>
      deps.log.warn(
        { err, jobId: job.id },
        'consolidation job recorded but not queued; the sweep will queue it',
      ),
    );
  });
}

/**
 * Records a consolidation job and hands it to the queue without waiting for Redis: the row is the
 * job, so with Redis down the call still succeeds and the worker's sweep queues it once Redis is
 * back. (A chat turn records its job with its answer and delivers it the same way.)
 */
export async function queueConsolidation(
  em: EntityManager,
  deps: ConsolidationDeps,
  { agent, source, input }: { agent: Agent; source: JobSource; input: JobInput },
): Promise<MemoryJob> {
  const job = em.create(MemoryJob, { agent, user: agent.owner.id, source, input }, { persist: false });
  await em.insert(job);
  deliverInBackground(deps, { id: job.id, agentId: agent.id, createdAt: job.createdAt });
  return job;
}

/** `memory.ingest`: new content for the memory managers, processed in the background. */
export async function ingest(
  em: EntityManager,
  deps: ConsolidationDeps,
  { actor, ...input }: TIngestRequest & { actor: User },
): Promise<{ jobId: string; status: 'queued' }> {
  const agent = await getOwnedAgent(em, actor, input.agentId);
  const jobInput: JobInput = input.messages
    ? {
        kind: 'messages',
        messages: input.messages.map((m) => ({
          role: m.role,
          content: m.content,
          ...(m.occurredAt ? { occurredAt: m.occurredAt.toISOString() } : {}),
        })),
      }
    : { kind: 'text', text: input.text ?? '', source: input.source ?? null };
  const job = await queueConsolidation(em, deps, { agent, source: jobInput.kind, input: jobInput });
  return { jobId: job.id, status: 'queued' };
}

/**
 * A chat turn's consolidation job, for the statement that saves the turn's answer to insert (so an
 * answer is never saved without its job): the INSERT with its parameters numbered from
 * `firstParam`, and the job to deliver once that statement has committed.
 */
export function chatTurnJob(opts: {
  agentId: string;
  ownerId: string;
  /** The user's message and the answer. */
  messageIds: [string, string];
  createdAt: Date;
  firstParam: number;
}): { sql: string; params: unknown[]; job: RecordedJob } {
  const job = { id: uuidv7(), agentId: opts.agentId, createdAt: opts.createdAt };
  const input: JobInput = { kind: 'chat', messageIds: opts.messageIds };
  const [id, at, agent, owner, data] = [0, 1, 2, 3, 4].map((i) => `$${opts.firstParam + i}`);
  return {
    sql: `insert into memory_jobs (id, created_at, updated_at, agent_id, user_id, source, input)
      values (${id}, ${at}, ${at}, ${agent}, ${owner}, 'chat', ${data})`,
    params: [job.id, opts.createdAt, opts.agentId, opts.ownerId, input],
    job,
  };
}
