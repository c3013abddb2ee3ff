import type { EntityManager } from '@mikro-orm/postgresql';
import { MemoryJob } from './memory-job.entity.js';

/*
 * The worker's side of a job row: claim it (one job of an agent at a time), record a failed
 * attempt, settle one BullMQ gave up on.
 */

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

/**
 * Jobs left `queued` (their delivery to Redis did not happen) or `active` (BullMQ may no longer
 * run them) for longer than `olderThanMs`, oldest first: the worker's sweep delivers or settles them.
 */
export async function staleJobs(
  em: EntityManager,
  { status, olderThanMs, limit = 1000 }: { status: 'queued' | 'active'; olderThanMs: number; limit?: number },
): Promise<{ id: string; agentId: string }[]> {
  const since = status === 'queued' ? 'created_at' : 'updated_at';
  const rows = await em.execute<{ id: string; agent_id: string }[]>(
    `select id, agent_id from memory_jobs
     where status = ? and ${since} < now() - make_interval(secs => ?)
     order by id limit ?`,
    [status, olderThanMs / 1000, limit],
  );
  return rows.map((r) => ({ id: r.id, agentId: r.agent_id }));
}

/** Retention: clears the input of up to `batch` jobs finished more than `days` ago; returns how many. */
export async function purgeJobInputs(em: EntityManager, { days, batch }: { days: number; batch: number }) {
  const rows = await em.execute<{ id: string }[]>(
    `update memory_jobs set input = null, updated_at = now() where id in (
       select id from memory_jobs
       where status in ('completed', 'failed') and input is not null
         and finished_at < now() - make_interval(days => ?)
       limit ?)
     returning id`,
    [days, batch],
  );
  return rows.length;
}
