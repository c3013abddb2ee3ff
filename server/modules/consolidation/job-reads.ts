import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../errors.js';
import { pageOf } from '../../pagination.js';
import { getOwnedAgent } from '../agents/index.js';
import type { User } from '../users/index.js';
import type { TMemoryJobResponse } from './consolidation.schema.js';
import { MemoryJob } from './memory-job.entity.js';

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
    warnings: job.warnings,
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
