import { z } from 'zod';

/** The memory kinds a consolidation job can change: core blocks plus the five searchable types. */
export const MEMORY_KINDS = [
  'core',
  'episodic',
  'semantic',
  'procedural',
  'resource',
  'knowledge_vault',
] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

export const CHANGE_OPERATIONS = [
  'created',
  'updated',
  'merged',
  'deleted',
  'appended',
  'rewritten',
  /** A fact that stopped being true: closed (validTo set) and replaced by a new one. */
  'superseded',
] as const;
export type ChangeOperation = (typeof CHANGE_OPERATIONS)[number];

/** One memory change a job made. `label` is the item's title (a vault item's caption, never its secret). */
export const ZMemoryChange = z.object({
  itemId: z.uuid(),
  memoryType: z.enum(MEMORY_KINDS),
  operation: z.enum(CHANGE_OPERATIONS),
  label: z.string(),
  actor: z.string(),
});
export type TMemoryChange = z.infer<typeof ZMemoryChange>;

export const JOB_STATUSES = ['queued', 'active', 'completed', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * What `memory.events` streams for an agent's consolidation jobs. Published on Redis by whichever
 * process changed the job (the API queues it, a worker runs it), so every API replica relays it.
 */
export const ZMemoryJobEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('queued'), jobId: z.uuid(), agentId: z.uuid(), at: z.string() }),
  z.object({
    type: z.literal('active'),
    jobId: z.uuid(),
    agentId: z.uuid(),
    at: z.string(),
    attempt: z.number().int(),
  }),
  z.object({
    type: z.literal('completed'),
    jobId: z.uuid(),
    agentId: z.uuid(),
    at: z.string(),
    changes: z.array(ZMemoryChange),
    /** What went wrong without failing the job (empty for a clean one): see memory.job. */
    warnings: z.array(z.string()).default([]),
  }),
  z.object({
    type: z.literal('failed'),
    jobId: z.uuid(),
    agentId: z.uuid(),
    at: z.string(),
    error: z.object({ code: z.string(), message: z.string() }),
    /** True when the job will be tried again (after a backoff). */
    willRetry: z.boolean(),
  }),
]);
export type TMemoryJobEvent = z.infer<typeof ZMemoryJobEvent>;

/** The Redis pub/sub channel carrying one agent's job events. */
export function memoryEventsChannel(prefix: string, agentId: string): string {
  return `${prefix}:memory-events:${agentId}`;
}
