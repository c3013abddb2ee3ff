import { z } from 'zod';
import { ZInputDate } from '../../input-rules.js';
import { JOB_STATUSES, MEMORY_KINDS, ZMemoryChange } from '../../../shared/memory-events.js';
import { JOB_SOURCES } from './memory-job.entity.js';

export const ZIngestMessage = z.object({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.string().trim().min(1, 'required').max(32_000),
  occurredAt: ZInputDate.optional(),
});

/** Either a conversation (`messages`) or a document (`text`, with an optional `source`). */
export const ZIngestRequest = z
  .object({
    agentId: z.uuid(),
    messages: z.array(ZIngestMessage).min(1).max(100).optional(),
    text: z.string().trim().min(1, 'required').max(200_000).optional(),
    source: z.string().trim().max(500).nullish(),
  })
  .superRefine((v, ctx) => {
    if ((v.messages === undefined) === (v.text === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['messages'], message: 'send either messages or text' });
    }
    if (v.messages !== undefined && v.source != null) {
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'source goes with text' });
    }
  });
export type TIngestRequest = z.infer<typeof ZIngestRequest>;

export const ZIngestResponse = z.object({ jobId: z.uuid(), status: z.literal('queued') });

export const ZJobUsage = z.object({
  llmCalls: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
});

export const ZMemoryJobResponse = z.object({
  jobId: z.uuid(),
  agentId: z.uuid(),
  source: z.enum(JOB_SOURCES),
  status: z.enum(JOB_STATUSES),
  attempts: z.number().int(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  /** From queued to the start of the last attempt. */
  queueMs: z.number().nullable(),
  /** The last attempt, start to finish. */
  durationMs: z.number().nullable(),
  usage: ZJobUsage,
  /** What the job changed; empty until it completes. */
  changes: z.array(ZMemoryChange),
  /**
   * A completed job's problems that did not fail it (completed with warnings): a model that
   * answered without calling its tools, tool calls still invalid after a correction. Empty when clean.
   */
  warnings: z.array(z.string()),
});
export type TMemoryJobResponse = z.infer<typeof ZMemoryJobResponse>;

export const ZListJobsRequest = z.object({
  agentId: z.uuid(),
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.number().int().min(1).max(200).default(50),
  /** The last jobId of the previous page. */
  cursor: z.uuid().optional(),
});

export const ZUsageResponse = ZJobUsage.extend({
  agentId: z.uuid(),
  jobs: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
});

export const ZHistoryEntryResponse = z.object({
  id: z.uuid(),
  itemId: z.uuid(),
  memoryType: z.enum(MEMORY_KINDS),
  operation: ZMemoryChange.shape.operation,
  /** The item before and after (a vault secret is never included, only whether it changed). */
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  jobId: z.uuid().nullable(),
  actor: z.string(),
  createdAt: z.date(),
});
