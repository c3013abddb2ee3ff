import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Job contracts shared by producers (API) and workers: one queue per kind of work, a zod schema for
 * each payload. Both sides parse with the same schema.
 */
export const QUEUES = {
  embed: 'embed',
  consolidate: 'consolidate',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Compute (or recompute) embeddings for these memory items. */
export const ZEmbedJob = z.object({
  itemIds: z.array(z.uuid()).min(1).max(256),
  /** Who asked: a write, the sweep, or a re-embed. */
  reason: z.enum(['write', 'sweep', 'reembed']).default('write'),
});
export type TEmbedJob = z.infer<typeof ZEmbedJob>;

/**
 * Let the memory managers learn from new content: a chat turn or an ingest. The content itself
 * is in the `memory_jobs` row (Postgres is the source of truth); the BullMQ job id is that row's id.
 */
export const ZConsolidateJob = z.object({
  memoryJobId: z.uuid(),
  agentId: z.uuid(),
});
export type TConsolidateJob = z.infer<typeof ZConsolidateJob>;

export const JOBS = {
  embed: { queue: QUEUES.embed, schema: ZEmbedJob },
  consolidate: { queue: QUEUES.consolidate, schema: ZConsolidateJob },
} as const;
export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.input<(typeof JOBS)[N]['schema']>;

/** Items per embed job from a batch write (the worker re-batches across jobs for the provider). */
export const EMBED_JOB_CHUNK = 64;

/**
 * A deterministic job id for embedding these items at these versions: enqueueing the same work
 * twice yields one job. BullMQ ids must not contain ':'.
 */
export function embedJobId(items: { id: string; version: Date }[], salt = ''): string {
  const h = createHash('sha1');
  for (const i of items) h.update(`${i.id}@${i.version.getTime()};`);
  h.update(salt);
  return `embed-${h.digest('hex')}`;
}
