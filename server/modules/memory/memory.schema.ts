import { z } from 'zod';
import { ZInputDate } from '../../input-rules.js';
import { strictBoolean } from '../../rest/strict-boolean.js';
import { DEFAULT_CORE_BLOCK_LIMIT } from './core-block.entity.js';
import { MEMORY_TYPES, SENSITIVITY_LEVELS } from './memory.types.js';

const text = (max: number) => z.string().trim().min(1, 'required').max(max);

/**
 * When a memory holds, for every type: `validFrom` (default: when it was created) and `validTo`
 * (null: still true). Search answers for the present unless asked for another moment (`asOf`).
 * An episodic memory's event time is `occurredAt`; its validity is when the record holds.
 */
const validity = {
  validFrom: ZInputDate.nullish(),
  validTo: ZInputDate.nullish(),
};
const optionalText = (max: number) => z.string().max(max).nullish();

// ---- per-type fields (what callers write) ----

export const ZEpisodicFields = z.object({
  /** When it happened (defaults to now). */
  occurredAt: ZInputDate.optional(),
  eventType: text(100),
  actor: text(200).default('user'),
  summary: text(4000),
  details: optionalText(50_000),
  ...validity,
});

export const ZSemanticFields = z.object({
  name: text(500),
  summary: text(4000),
  details: optionalText(50_000),
  source: optionalText(500),
  ...validity,
});

export const ZProceduralFields = z.object({
  entryType: text(100),
  summary: text(4000),
  steps: z.array(z.string().trim().min(1).max(4000)).max(200).default([]),
  ...validity,
});

export const ZResourceFields = z.object({
  title: text(500),
  summary: text(4000),
  resourceType: text(100),
  /** The resource itself (a document, a transcript, code): full-text indexed, not embedded. */
  content: z.string().max(5_000_000).default(''),
  ...validity,
});

export const ZVaultFields = z.object({
  entryType: text(100),
  source: optionalText(500),
  sensitivity: z.enum(SENSITIVITY_LEVELS).default('medium'),
  /** Encrypted at rest; returned only by memory.vault.reveal. */
  secretValue: z.string().min(1, 'required').max(20_000),
  caption: text(2000),
  ...validity,
});

type PatchShape<T extends z.ZodRawShape> = {
  [K in keyof T]: z.ZodOptional<T[K] extends z.ZodDefault<infer I> ? I : T[K]>;
};

/**
 * Every field optional and without its default: in an update, an omitted field means "unchanged",
 * never "reset to the default" (zod applies defaults even inside .partial()).
 */
export function patchOf<T extends z.ZodRawShape>(schema: z.ZodObject<T>): z.ZodObject<PatchShape<T>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    shape[key] = (
      field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : (field as z.ZodType)
    ).optional();
  }
  return z.object(shape) as unknown as z.ZodObject<PatchShape<T>>;
}

// ---- responses ----

const ZCommon = z.object({
  id: z.uuid(),
  agentId: z.uuid(),
  createdAt: z.date(),
  updatedAt: z.date(),
  lastModified: z.object({
    at: z.string(),
    operation: z.string(),
    by: z.enum(['user', 'agent', 'system']),
    jobId: z.string().optional(),
  }),
  /** `pending` until the embed worker has run; vault items are never embedded. */
  embeddingStatus: z.enum(['pending', 'ready', 'none']),
  /** Since when it holds (its creation, unless given). */
  validFrom: z.date(),
  /** Until when it held; null while it is true. */
  validTo: z.date().nullable(),
  /** The memory it replaced when a fact changed (its history is that memory's). */
  supersedesId: z.uuid().nullable(),
});

export const ZEpisodicResponse = ZCommon.extend({
  type: z.literal('episodic'),
  occurredAt: z.date(),
  eventType: z.string(),
  actor: z.string(),
  summary: z.string(),
  details: z.string().nullable(),
});
export const ZSemanticResponse = ZCommon.extend({
  type: z.literal('semantic'),
  name: z.string(),
  summary: z.string(),
  details: z.string().nullable(),
  source: z.string().nullable(),
});
export const ZProceduralResponse = ZCommon.extend({
  type: z.literal('procedural'),
  entryType: z.string(),
  summary: z.string(),
  steps: z.array(z.string()),
});
export const ZResourceResponse = ZCommon.extend({
  type: z.literal('resource'),
  title: z.string(),
  summary: z.string(),
  resourceType: z.string(),
  content: z.string(),
});
/** No secretValue here, ever: see memory.vault.reveal. */
export const ZVaultResponse = ZCommon.extend({
  type: z.literal('knowledge_vault'),
  entryType: z.string(),
  source: z.string().nullable(),
  sensitivity: z.enum(SENSITIVITY_LEVELS),
  caption: z.string(),
});

export const ZMemoryResponse = z.discriminatedUnion('type', [
  ZEpisodicResponse,
  ZSemanticResponse,
  ZProceduralResponse,
  ZResourceResponse,
  ZVaultResponse,
]);
export type TMemoryResponse = z.infer<typeof ZMemoryResponse>;

/** Search results and lists omit a resource's (possibly huge) content. */
export const ZMemorySummaryResponse = z.discriminatedUnion('type', [
  ZEpisodicResponse,
  ZSemanticResponse,
  ZProceduralResponse,
  ZResourceResponse.omit({ content: true }),
  ZVaultResponse,
]);
export type TMemorySummaryResponse = z.infer<typeof ZMemorySummaryResponse>;

// ---- requests shared by every type ----

/** A memory item, addressed within its agent (the REST paths carry both). */
export const ZMemoryIdRequest = z.object({ agentId: z.uuid(), id: z.uuid() });

export const ZListMemoriesRequest = z.object({
  agentId: z.uuid(),
  /** Inclusive bounds on occurredAt (episodic) or createdAt (other types). */
  from: ZInputDate.optional(),
  to: ZInputDate.optional(),
  /** Case-insensitive substring of the item's main text fields. */
  contains: z.string().trim().min(1).max(200).optional(),
  cursor: z.string().max(200).nullish(),
  limit: z.number().int().min(1).max(200).default(50),
});
export type TListMemoriesRequest = z.infer<typeof ZListMemoriesRequest>;

export const MAX_BATCH = 500;

export const ZSearchMethod = z.enum(['vector', 'fulltext', 'trigram']);
export type TSearchMethod = z.infer<typeof ZSearchMethod>;

export const ZSearchRequest = z.object({
  agentId: z.uuid(),
  /** Free text; quotes make a phrase, `-word` excludes. Empty: the most recent items. */
  query: z.string().max(2000).default(''),
  types: z.array(z.enum(MEMORY_TYPES)).min(1).optional(),
  limit: z.number().int().min(1).max(50).default(10),
  methods: z.array(ZSearchMethod).min(1).optional(),
  timeRange: z.object({ from: ZInputDate.optional(), to: ZInputDate.optional() }).optional(),
  /** Answer for this moment: the memories valid then (validFrom..validTo). Default: the present. */
  asOf: ZInputDate.optional(),
  /** Attach each hit's rank and score per signal. */
  explain: strictBoolean().default(false),
});
export type TSearchRequest = z.infer<typeof ZSearchRequest>;

const ZSignal = z.object({ rank: z.number().int(), score: z.number() }).nullable();

export const ZSearchResponse = z.object({
  items: z.array(
    z.object({
      item: ZMemorySummaryResponse,
      /** Fused score: each signal's score over its best for the query, weighted and summed (higher is better). */
      score: z.number(),
      explain: z.object({ vector: ZSignal, fulltext: ZSignal, trigram: ZSignal }).optional(),
    }),
  ),
  methods: z.array(ZSearchMethod),
});

export const ZStatsResponse = z.object({
  counts: z.object({
    core: z.number().int(),
    episodic: z.number().int(),
    semantic: z.number().int(),
    procedural: z.number().int(),
    resource: z.number().int(),
    knowledge_vault: z.number().int(),
  }),
  pendingEmbeddings: z.number().int(),
});

// ---- core memory ----

export const ZCoreLabel = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'lower-case letters, digits and "_" (e.g. persona, human)');

export const ZCoreBlockResponse = z.object({
  label: z.string(),
  value: z.string(),
  limit: z.number().int(),
  /** Characters still free in the block. */
  remaining: z.number().int(),
  updatedAt: z.date(),
});
export type TCoreBlockResponse = z.infer<typeof ZCoreBlockResponse>;

export const ZCoreSetRequest = z.object({
  agentId: z.uuid(),
  label: ZCoreLabel,
  value: z.string().max(1_000_000),
  /** Characters; defaults to the block's current limit, or 5000 for a new block. */
  limit: z.number().int().min(1).max(1_000_000).optional(),
});
export const ZCoreAppendRequest = z.object({
  agentId: z.uuid(),
  label: ZCoreLabel,
  text: z.string().min(1).max(1_000_000),
});
export const ZCoreReplaceRequest = z.object({
  agentId: z.uuid(),
  label: ZCoreLabel,
  old: z.string().min(1).max(1_000_000),
  new: z.string().max(1_000_000),
});

export { DEFAULT_CORE_BLOCK_LIMIT };
