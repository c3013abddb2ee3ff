import type { MikroORM } from '@mikro-orm/postgresql';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError, AppErrorCode, publicErrorOf } from '../../errors.js';
import type { EmbeddingScheduler } from '../../jobs/queues.js';
import { createLlmProvider, type LlmEnv } from '../../llm/index.js';
import { applyJob } from './apply.service.js';
import { claimJob, recordJobFailure } from './job-state.js';
import { publishMemoryEvent } from './memory-events.js';
import { MemoryJob } from './memory-job.entity.js';
import { User } from '../users/index.js';
import type { EmbeddingProvider } from '../embeddings/index.js';
import type { VaultCipher } from '../memory/index.js';
import { ZConsolidateJob } from '../../../shared/jobs/index.js';
import type { TMemoryJobEvent } from '../../../shared/memory-events.js';
import { runConsolidation } from './pipeline.js';

export interface ConsolidateDeps {
  orm: MikroORM;
  llmEnv: LlmEnv;
  embeddings: EmbeddingProvider;
  cipher: VaultCipher;
  /** Changed items' embed jobs, gathered across this process's jobs. */
  embeddingScheduler: EmbeddingScheduler;
  /** Publishes job events (a normal, non-blocking connection). */
  redis: Redis;
  prefix: string;
  log: Logger;
  maxSteps: number;
  /** CONSOLIDATE_DIRECT_MAX_CHARS: content up to this long goes to one manager of every type. */
  directMaxChars: number;
  /** How long a job waits before looking again when an earlier job of its agent is unfinished. */
  waitMs: number;
  /** Told each completed job's token usage (for /metrics). */
  onUsage?: (
    provider: string,
    usage: { promptTokens: number; completionTokens: number; totalTokens: number },
  ) => void;
}

/** The error memory.job shows: our own messages, never a driver's or library's (those go to the log). */
function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof UnrecoverableError) return { code: 'UNRECOVERABLE', message: err.message };
  return publicErrorOf(err);
}

/**
 * Runs one consolidation job: claim it (only when it is its agent's oldest unfinished job),
 * run the memory managers, apply their changes in one transaction, queue embeddings, publish events.
 * LLM and database errors are retried by BullMQ with backoff; a bad payload, a missing job or a
 * provider that is not configured fail at once. The job row records every outcome.
 */
export function createConsolidateProcessor(deps: ConsolidateDeps) {
  const publish = (event: TMemoryJobEvent) => publishMemoryEvent(deps, event);

  return async (job: Job, token?: string) => {
    const payload = ZConsolidateJob.safeParse(job.data);
    if (!payload.success)
      throw new UnrecoverableError(`invalid consolidate payload: ${payload.error.message}`);
    const { memoryJobId, agentId } = payload.data;
    const log = deps.log.child({ jobId: memoryJobId, agentId });
    const em = deps.orm.em.fork();

    const claim = await claimJob(em, memoryJobId);
    switch (claim.outcome) {
      case 'missing':
        throw new UnrecoverableError(`memory job ${memoryJobId} does not exist (its agent was deleted?)`);
      case 'done':
      case 'failed':
        return { skipped: claim.outcome };
      case 'blocked':
        // An earlier job of this agent is still to finish: wait without using up an attempt.
        await job.moveToDelayed(Date.now() + deps.waitMs, token);
        throw new DelayedError();
      case 'claimed':
        break;
    }
    await publish({
      type: 'active',
      jobId: memoryJobId,
      agentId,
      at: new Date().toISOString(),
      attempt: claim.attempt,
    });

    try {
      const row = await em.findOneOrFail(MemoryJob, memoryJobId, { populate: ['agent'] });
      const agent = row.agent.getEntity();
      if (agent.deletedAt) throw new UnrecoverableError('the agent was deleted');
      // Only a finished job loses its input (retention), and a finished job is not claimed again.
      if (!row.input) throw new UnrecoverableError('the job has no input (purged by retention)');
      const input = row.input;
      const provider = createLlmProvider(agent.modelConfig.provider, deps.llmEnv);
      const result = await runConsolidation(
        em,
        {
          provider,
          model: agent.modelConfig.model,
          embeddings: deps.embeddings,
          cipher: deps.cipher,
          log,
          maxSteps: deps.maxSteps,
          directMaxChars: deps.directMaxChars,
        },
        // Only the owner's id is needed (to scope reads): a reference, not a query.
        { agent, owner: em.getReference(User, row.user.id), input },
      );
      const applied = await applyJob(deps.orm.em.fork(), {
        cipher: deps.cipher,
        target: { jobId: memoryJobId, agentId, userId: row.user.id },
        staged: result.staged,
        usage: result.usage,
        warnings: result.warnings,
      });
      if (!applied.alreadyApplied) deps.embeddingScheduler.add(applied.toEmbed);
      deps.onUsage?.(agent.modelConfig.provider, result.usage);
      await publish({
        type: 'completed',
        jobId: memoryJobId,
        agentId,
        at: new Date().toISOString(),
        changes: applied.changes,
        warnings: result.warnings,
      });
      if (result.warnings.length > 0) {
        log.warn(
          { warnings: result.warnings, changes: applied.changes.length },
          'consolidation job completed with warnings',
        );
      }
      log.info(
        { types: result.types, changes: applied.changes.length, llmCalls: result.usage.llmCalls },
        'consolidation job completed',
      );
      return { changes: applied.changes.length, llmCalls: result.usage.llmCalls };
    } catch (err) {
      // A provider that is not configured (or rejects our key) will not get better by retrying.
      const unrecoverable =
        err instanceof UnrecoverableError ||
        (err instanceof AppError && err.code === AppErrorCode.PreconditionFailed);
      const final = unrecoverable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const error = errorOf(err);
      await recordJobFailure(em, { jobId: memoryJobId, error, final }).catch((e: unknown) =>
        log.error({ err: e }, 'could not record the job failure'),
      );
      await publish({
        type: 'failed',
        jobId: memoryJobId,
        agentId,
        at: new Date().toISOString(),
        error,
        willRetry: !final,
      });
      log.warn({ err, final, attempt: claim.attempt }, 'consolidation job failed');
      if (unrecoverable && !(err instanceof UnrecoverableError)) throw new UnrecoverableError(error.message);
      throw err;
    }
  };
}
