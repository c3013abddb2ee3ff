import type { z } from 'zod';
import type { MemoryItem } from './memory.entity.js';
import {
  ZEpisodicFields,
  ZEpisodicResponse,
  ZProceduralFields,
  ZProceduralResponse,
  ZResourceFields,
  ZResourceResponse,
  ZSemanticFields,
  ZSemanticResponse,
  ZVaultFields,
  ZVaultResponse,
  patchOf,
  type TMemoryResponse,
  type TMemorySummaryResponse,
} from './memory.schema.js';
import type { MemoryType } from './memory.types.js';

const ZEpisodicPatch = patchOf(ZEpisodicFields);
const ZSemanticPatch = patchOf(ZSemanticFields);
const ZProceduralPatch = patchOf(ZProceduralFields);
const ZResourcePatch = patchOf(ZResourceFields);
const ZVaultPatch = patchOf(ZVaultFields);

/**
 * The one table of the memory types' own fields: property -> column (the naming strategy's
 * snake_case; a test checks it against the entity's metadata). The record type, its row mapper and
 * select lists, new-item defaults and history snapshots all come from it.
 */
export const FIELD_COLUMNS = {
  occurredAt: 'occurred_at',
  eventType: 'event_type',
  actor: 'actor',
  summary: 'summary',
  details: 'details',
  name: 'name',
  source: 'source',
  entryType: 'entry_type',
  steps: 'steps',
  title: 'title',
  resourceType: 'resource_type',
  content: 'content',
  sensitivity: 'sensitivity',
  caption: 'caption',
  // Every type: when the memory holds (validFrom null = since it was created), and the memory it
  // replaced when a fact changed (consolidation's semantic_memory_supersede).
  validFrom: 'valid_from',
  validTo: 'valid_to',
  supersedesId: 'supersedes_id',
} as const satisfies Partial<Record<keyof MemoryItem, string>>;
export type FieldName = keyof typeof FIELD_COLUMNS;

/** The columns a memory type's own fields map to. */
type Columns = Partial<Pick<MemoryItem, FieldName>>;

/** The columns recordFromRow reads: all but a resource's content (heavy) and secrets. */
export const RECORD_COLUMNS = [
  'id',
  'agent_id',
  'memory_type',
  'created_at',
  'updated_at',
  'last_modified',
  'embedding_model',
  ...Object.values(FIELD_COLUMNS).filter((c) => c !== 'content'),
];

/**
 * What the mappers read: a MemoryItem entity satisfies it, and so does a plain search row, which
 * spares search the cost of hydrating entities.
 */
export type MemoryRecord = Pick<
  MemoryItem,
  'id' | 'memoryType' | 'createdAt' | 'updatedAt' | 'lastModified' | 'embeddingModel'
> &
  Required<Columns> & { agent: { id: string } };

/** Everything type-specific about a memory type, so services and routers stay generic. */
export interface MemoryTypeDef<
  F extends z.ZodObject = z.ZodObject,
  R extends z.ZodObject = z.ZodObject,
  P extends z.ZodObject = z.ZodObject,
> {
  type: MemoryType;
  fields: F;
  /** The update schema: every field optional, no defaults. */
  patch: P;
  response: R;
  /** Caller fields -> columns (the vault's secret is handled by the service, not here). */
  toColumns: (input: Partial<z.output<F>>) => Columns;
  toResponse: (item: MemoryRecord) => z.output<R>;
  /** The text that is embedded; null means never embedded. */
  embeddingText: ((item: MemoryRecord) => string) | null;
  /** Columns `contains` searches. */
  textColumns: string[];
}

const MAX_EMBED_CHARS = 8000;
const clip = (s: string) => (s.length > MAX_EMBED_CHARS ? s.slice(0, MAX_EMBED_CHARS) : s);
const lines = (...parts: (string | null | undefined)[]) => clip(parts.filter((p) => p).join('\n'));

function common(item: MemoryRecord) {
  return {
    id: item.id,
    agentId: item.agent.id,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    lastModified: item.lastModified,
    validFrom: item.validFrom ?? item.createdAt,
    validTo: item.validTo,
    supersedesId: item.supersedesId,
    embeddingStatus:
      item.memoryType === 'knowledge_vault'
        ? ('none' as const)
        : item.embeddingModel
          ? ('ready' as const)
          : ('pending' as const),
  };
}

/** Copies only the keys the caller sent (undefined = leave as is). */
function pick<T extends object>(input: T, keys: (keyof T)[]): Columns {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (input[k] !== undefined) out[k as string] = input[k];
  return out;
}

export const episodic: MemoryTypeDef<
  typeof ZEpisodicFields,
  typeof ZEpisodicResponse,
  typeof ZEpisodicPatch
> = {
  type: 'episodic',
  fields: ZEpisodicFields,
  patch: ZEpisodicPatch,
  response: ZEpisodicResponse,
  toColumns: (i) =>
    pick(i, ['occurredAt', 'eventType', 'actor', 'summary', 'details', 'validFrom', 'validTo']),
  toResponse: (m) => ({
    ...common(m),
    type: 'episodic',
    occurredAt: m.occurredAt ?? m.createdAt,
    eventType: m.eventType ?? '',
    actor: m.actor ?? '',
    summary: m.summary ?? '',
    details: m.details,
  }),
  embeddingText: (m) => lines(`${m.eventType} (${m.actor}): ${m.summary}`, m.details),
  textColumns: ['summary', 'details', 'event_type', 'actor'],
};

export const semantic: MemoryTypeDef<
  typeof ZSemanticFields,
  typeof ZSemanticResponse,
  typeof ZSemanticPatch
> = {
  type: 'semantic',
  fields: ZSemanticFields,
  patch: ZSemanticPatch,
  response: ZSemanticResponse,
  toColumns: (i) => pick(i, ['name', 'summary', 'details', 'source', 'validFrom', 'validTo']),
  toResponse: (m) => ({
    ...common(m),
    type: 'semantic',
    name: m.name ?? '',
    summary: m.summary ?? '',
    details: m.details,
    source: m.source,
  }),
  embeddingText: (m) => lines(`${m.name}: ${m.summary}`, m.details),
  textColumns: ['name', 'summary', 'details'],
};

export const procedural: MemoryTypeDef<
  typeof ZProceduralFields,
  typeof ZProceduralResponse,
  typeof ZProceduralPatch
> = {
  type: 'procedural',
  fields: ZProceduralFields,
  patch: ZProceduralPatch,
  response: ZProceduralResponse,
  toColumns: (i) => pick(i, ['entryType', 'summary', 'steps', 'validFrom', 'validTo']),
  toResponse: (m) => ({
    ...common(m),
    type: 'procedural',
    entryType: m.entryType ?? '',
    summary: m.summary ?? '',
    steps: m.steps ?? [],
  }),
  embeddingText: (m) =>
    lines(`${m.entryType}: ${m.summary}`, ...(m.steps ?? []).map((s, i) => `${i + 1}. ${s}`)),
  textColumns: ['summary', 'entry_type', 'steps::text'],
};

export const resource: MemoryTypeDef<
  typeof ZResourceFields,
  typeof ZResourceResponse,
  typeof ZResourcePatch
> = {
  type: 'resource',
  fields: ZResourceFields,
  patch: ZResourcePatch,
  response: ZResourceResponse,
  toColumns: (i) => pick(i, ['title', 'summary', 'resourceType', 'content', 'validFrom', 'validTo']),
  toResponse: (m) => ({
    ...common(m),
    type: 'resource',
    title: m.title ?? '',
    summary: m.summary ?? '',
    resourceType: m.resourceType ?? '',
    content: m.content ?? '',
  }),
  // Title and summary only: the content can be megabytes, and its words are in the full-text index.
  embeddingText: (m) => lines(m.title, m.summary),
  textColumns: ['title', 'summary'],
};

export const vault: MemoryTypeDef<typeof ZVaultFields, typeof ZVaultResponse, typeof ZVaultPatch> = {
  type: 'knowledge_vault',
  fields: ZVaultFields,
  patch: ZVaultPatch,
  response: ZVaultResponse,
  toColumns: (i) => pick(i, ['entryType', 'source', 'sensitivity', 'caption', 'validFrom', 'validTo']),
  toResponse: (m) => ({
    ...common(m),
    type: 'knowledge_vault',
    entryType: m.entryType ?? '',
    source: m.source,
    sensitivity: m.sensitivity ?? 'medium',
    caption: m.caption ?? '',
  }),
  // Secrets never enter an embedding (nor does their caption: a vault item is found by its words).
  embeddingText: null,
  textColumns: ['caption', 'entry_type'],
};

export const MEMORY_DEFS: Record<MemoryType, MemoryTypeDef> = {
  episodic,
  semantic,
  procedural,
  resource,
  knowledge_vault: vault,
};

export function toMemoryResponse(item: MemoryRecord): TMemoryResponse {
  return MEMORY_DEFS[item.memoryType].toResponse(item) as TMemoryResponse;
}

/** As toMemoryResponse, without a resource's content (lists and search). */
export function toMemorySummary(item: MemoryRecord): TMemorySummaryResponse {
  const full = toMemoryResponse(item);
  if (full.type !== 'resource') return full;
  const { content: _content, ...rest } = full;
  return rest;
}

/**
 * A raw `memories` row (snake_case columns) as a MemoryRecord, without hydrating an entity: the
 * hot paths (search, embedding) read many rows and only need their fields.
 */
const DATE_FIELDS = new Set<string>(['occurredAt', 'validFrom', 'validTo']);

export function recordFromRow(r: Record<string, unknown>): MemoryRecord {
  // MikroORM leaves timestamptz values as strings on its connections.
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : v instanceof Date ? v : null);
  const fields = Object.fromEntries(
    Object.entries(FIELD_COLUMNS).map(([prop, column]) => [
      prop,
      DATE_FIELDS.has(prop) ? date(r[column]) : (r[column] ?? null),
    ]),
  ) as Required<Columns>;
  return {
    id: r.id as string,
    agent: { id: r.agent_id as string },
    memoryType: r.memory_type as MemoryType,
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
    lastModified: r.last_modified as MemoryRecord['lastModified'],
    embeddingModel: (r.embedding_model as string | null) ?? null,
    ...fields,
  };
}
