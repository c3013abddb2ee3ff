import { pageOf } from '../../pagination.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { notFound } from '../../errors.js';
import type { JobQueues } from '../../jobs/queues.js';
import { getOwnedAgent } from '../agents/agent.service.js';
import type { Agent } from '../agents/agent.entity.js';
import { CoreMemoryBlock } from '../memory/core-block.entity.js';
import { MemoryItem } from '../memory/memory.entity.js';
import type { User } from '../users/user.entity.js';
import type { TIngestRequest, TMemoryJobResponse } from './consolidation.schema.js';
import { publishMemoryEvent } from './memory-events.js';
import { MemoryHistory } from '../memory/memory-history.entity.js';
import { type JobInput, MemoryJob, type JobSource } from './memory-job.entity.js';

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

export function toJobResponse(job: MemoryJob): TMemoryJobResponse {
  return {
    jobId: job.id,
    agentId: job.agent.id,
    source: job.source,
    status: job.status,
    attempts: job.attempts,
    error: job.error,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    queueMs: job.startedAt ? job.startedAt.getTime() - job.createdAt.getTime() : null,
    durationMs: job.startedAt && job.finishedAt ? job.finishedAt.getTime() - job.startedAt.getTime() : null,
    usage: {
      llmCalls: job.llmCalls,
      promptTokens: job.promptTokens,
      completionTokens: job.completionTokens,
      totalTokens: job.totalTokens,
    },
    changes: job.changes ?? [],
  };
}

/** A job of the actor's agent (live), else NOT_FOUND. */
export async function getJob(
  em: EntityManager,
  actor: User,
  ref: { agentId: string; jobId: string },
): Promise<MemoryJob> {
  const job = await em.findOne(MemoryJob, {
    id: ref.jobId,
    user: actor,
    agent: { id: ref.agentId, deletedAt: null },
  });
  if (!job) throw notFound('Job');
  return job;
}

/** An agent's jobs, newest first. */
export async function listJobs(
  em: EntityManager,
  actor: User,
  input: { agentId: string; status?: MemoryJob['status']; limit: number; cursor?: string },
): Promise<{ items: MemoryJob[]; nextCursor: string | null }> {
  const agent = await getOwnedAgent(em, actor, input.agentId);
  const rows = await em.find(
    MemoryJob,
    {
      agent,
      ...(input.status ? { status: input.status } : {}),
      ...(input.cursor ? { id: { $lt: input.cursor } } : {}),
    },
    { orderBy: { id: 'desc' }, limit: input.limit + 1 },
  );
  // Job ids are UUIDv7, ordered by creation: the last id is the cursor.
  return pageOf(rows, { limit: input.limit, cursorOf: (job) => job.id });
}

/** `memory.usage`: an agent's consolidation jobs, LLM calls and tokens, totalled. */
export async function agentUsage(em: EntityManager, actor: User, agentId: string) {
  const agent = await getOwnedAgent(em, actor, agentId);
  const [row] = await em.execute<
    {
      jobs: string;
      completed: string;
      failed: string;
      llm_calls: string;
      prompt_tokens: string;
      completion_tokens: string;
      total_tokens: string;
    }[]
  >(
    `select count(*) as jobs,
       count(*) filter (where status = 'completed') as completed,
       count(*) filter (where status = 'failed') as failed,
       coalesce(sum(llm_calls), 0) as llm_calls, coalesce(sum(prompt_tokens), 0) as prompt_tokens,
       coalesce(sum(completion_tokens), 0) as completion_tokens, coalesce(sum(total_tokens), 0) as total_tokens
     from memory_jobs where agent_id = ?`,
    [agent.id],
  );
  return {
    agentId: agent.id,
    jobs: Number(row?.jobs ?? 0),
    completed: Number(row?.completed ?? 0),
    failed: Number(row?.failed ?? 0),
    llmCalls: Number(row?.llm_calls ?? 0),
    promptTokens: Number(row?.prompt_tokens ?? 0),
    completionTokens: Number(row?.completion_tokens ?? 0),
    totalTokens: Number(row?.total_tokens ?? 0),
  };
}

/** Secrets never leave through history: the ciphertext is replaced by whether it changed. */
function publicSnapshot(
  snapshot: Record<string, unknown> | null,
  other: Record<string, unknown> | null,
): Record<string, unknown> | null {
  if (!snapshot) return null;
  const { secretCiphertext, ...rest } = snapshot;
  if (secretCiphertext === undefined) return rest;
  return { ...rest, secretChanged: other ? other.secretCiphertext !== secretCiphertext : false };
}

/** `memory.history`: every recorded change of a memory item or core block of the actor's, oldest first. */
export async function itemHistory(
  em: EntityManager,
  actor: User,
  { agentId, itemId }: { agentId: string; itemId: string },
) {
  const where = { id: itemId, user: actor, agent: { id: agentId, deletedAt: null } };
  const owned = (await em.count(MemoryItem, where)) > 0 || (await em.count(CoreMemoryBlock, where)) > 0;
  if (!owned) throw notFound('Memory');
  const rows = await em.find(
    MemoryHistory,
    { itemId, user: actor },
    { orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  return rows.map((h) => ({
    id: h.id,
    itemId: h.itemId,
    memoryType: h.memoryType,
    operation: h.operation,
    before: publicSnapshot(h.before, h.after),
    after: publicSnapshot(h.after, h.before),
    jobId: h.job?.id ?? null,
    actor: h.actor,
    createdAt: h.createdAt,
  }));
}

export type ClaimResult =
  | { outcome: 'claimed'; attempt: number }
  /** An earlier job of the same agent has not finished: this one must wait its turn. */
  | { outcome: 'blocked' }
  | { outcome: 'done' }
  | { outcome: 'failed' }
  | { outcome: 'missing' };

/**
 * Marks a job active if it is the agent's oldest unfinished job, in one statement: an agent's jobs
 * run one at a time, in order of arrival (ids are UUIDv7), whatever the number of workers. A job
 * already active is claimed again: that is BullMQ re-delivering it after its worker died.
 */
export async function claimJob(em: EntityManager, jobId: string): Promise<ClaimResult> {
  // One round trip: the claim, and (from the statement's snapshot) the status that explains a miss.
  const [row] = await em.execute<{ attempts: number | null; status: string | null }[]>(
    `with claimed as (
       update memory_jobs j set status = 'active', started_at = now(), updated_at = now(),
         attempts = j.attempts + 1, finished_at = null
       where j.id = ? and j.status in ('queued', 'active')
         and not exists (
           select 1 from memory_jobs o
           where o.agent_id = j.agent_id and o.id < j.id and o.status in ('queued', 'active'))
       returning j.attempts)
     select (select attempts from claimed) as attempts, (select status from memory_jobs where id = ?) as status`,
    [jobId, jobId],
  );
  if (row?.attempts != null) return { outcome: 'claimed', attempt: row.attempts };
  if (!row?.status) return { outcome: 'missing' };
  if (row.status === 'completed') return { outcome: 'done' };
  if (row.status === 'failed') return { outcome: 'failed' };
  return { outcome: 'blocked' };
}

/**
 * Records a failed attempt. A final failure leaves the job `failed` with its error (visible to
 * memory.job); otherwise it is `queued` again, so the agent's later jobs keep waiting for it.
 */
export async function recordJobFailure(
  em: EntityManager,
  { jobId, error, final }: { jobId: string; error: { code: string; message: string }; final: boolean },
): Promise<void> {
  await em.nativeUpdate(
    MemoryJob,
    { id: jobId, status: { $ne: 'completed' } },
    {
      status: final ? 'failed' : 'queued',
      error,
      finishedAt: final ? new Date() : null,
    },
  );
}

/**
 * Fails a job that BullMQ failed without our processor running (it lost its worker more than
 * CONSOLIDATE_MAX_STALLS times), so the agent's later jobs are not left waiting behind it.
 * Only a row still `active` changes: a failure the processor recorded stays as it is.
 */
export async function failAbandonedJob(
  em: EntityManager,
  jobId: string,
  error: { code: string; message: string },
): Promise<boolean> {
  const changed = await em.nativeUpdate(
    MemoryJob,
    { id: jobId, status: 'active' },
    { status: 'failed', error, finishedAt: new Date() },
  );
  return changed > 0;
}

/** Puts an `active` job whose BullMQ job is gone back to `queued`, for the sweep to deliver again. */
export async function requeueOrphanedJob(em: EntityManager, jobId: string): Promise<boolean> {
  return (await em.nativeUpdate(MemoryJob, { id: jobId, status: 'active' }, { status: 'queued' })) > 0;
}
