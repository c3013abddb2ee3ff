import { Entity, Enum, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { VectorType } from 'pgvector/mikro-orm';
import { BaseEntity } from '../../db/base.entity.js';
import { Agent } from '../agents/index.js';
import { User } from '../users/index.js';
import {
  type LastModified,
  MEMORY_TYPES,
  type MemoryType,
  SENSITIVITY_LEVELS,
  type Sensitivity,
} from './memory.types.js';

/**
 * The HNSW index: m = 12, ef_construction = 48 for recall at large agents
 * (docs/decisions/0002-exact-vectors.md). It skips soft-deleted rows, so a delete does not pay for
 * an index insert.
 */
export const HNSW_INDEX_SQL =
  'create index "memories_embedding_hnsw_idx" on "memories" using hnsw ("embedding" vector_cosine_ops) with (m = 12, ef_construction = 48) where "deleted_at" is null';

/** The embedding column's dimension in the committed migrations (EMBEDDING_DIM's default). */
export const DEFAULT_EMBEDDING_DIM = 768;

/**
 * One row per episodic, semantic, procedural, resource or knowledge-vault memory. All five types
 * share one table so that hybrid search is one index scan per signal instead of five: each type's
 * own fields are nullable columns, validated per type by the zod schemas in memory.schema.ts.
 *
 * Two generated columns feed search (their expressions are written the way PostgreSQL normalizes
 * them, so schema diffs stay empty): `tsv` (weighted full text: name/title/event type/actor A,
 * summary/caption B, details/steps/resource content C, `context_tsv` D, with
 * Chinese and Japanese characters split by `mirix_search_text`) and `trgm_text` (the short, name-like field for trigram
 * matching: name, title, caption, "event_type actor" or entry_type, at most 100 characters;
 * trigram similarity over long text is two orders of magnitude slower).
 */
@Entity({ tableName: 'memories' })
@Index({ name: 'memories_agent_type_time_idx', properties: ['agent', 'memoryType', 'createdAt'] })
@Index({ name: 'memories_embedding_hnsw_idx', expression: HNSW_INDEX_SQL })
@Index({
  name: 'memories_agent_tsv_gin_idx',
  expression: 'create index "memories_agent_tsv_gin_idx" on "memories" using gin ("agent_id", "tsv")',
})
@Index({
  name: 'memories_agent_trgm_gin_idx',
  expression:
    'create index "memories_agent_trgm_gin_idx" on "memories" using gin ("agent_id", "trgm_text" gin_trgm_ops)',
})
@Index({
  name: 'memories_agent_recent_idx',
  expression:
    'create index "memories_agent_recent_idx" on "memories" ("agent_id", (coalesce("occurred_at", "created_at")) desc, "id" desc) where "deleted_at" is null',
})
@Index({
  name: 'memories_pending_embedding_idx',
  expression:
    'create index "memories_pending_embedding_idx" on "memories" ("updated_at") where "embedding" is null and "deleted_at" is null and "memory_type" <> \'knowledge_vault\'',
})
export class MemoryItem extends BaseEntity<
  | 'deletedAt'
  | 'embedding'
  | 'embeddingModel'
  | 'occurredAt'
  | 'eventType'
  | 'actor'
  | 'summary'
  | 'details'
  | 'name'
  | 'source'
  | 'entryType'
  | 'steps'
  | 'title'
  | 'resourceType'
  | 'content'
  | 'sensitivity'
  | 'secretCiphertext'
  | 'secretKeyId'
  | 'caption'
  | 'validFrom'
  | 'validTo'
  | 'supersedesId'
  | 'contextTsv'
  | 'tsv'
  | 'trgmText'
> {
  @ManyToOne({ entity: () => Agent, ref: true, deleteRule: 'cascade' })
  agent!: Ref<Agent>;

  /** The agent's owner, denormalized so every query can be scoped by owner without a join. */
  @ManyToOne({ entity: () => User, ref: true, deleteRule: 'cascade' })
  @Index()
  user!: Ref<User>;

  @Enum({ items: () => [...MEMORY_TYPES] })
  memoryType!: MemoryType;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  deletedAt: Date | null = null;

  @Property({ type: 'json', columnType: 'jsonb' })
  lastModified!: LastModified;

  /** Null until the embed worker has run (and again after every text change). */
  @Property({
    type: VectorType,
    columnType: `vector(${DEFAULT_EMBEDDING_DIM})`,
    nullable: true,
    lazy: true,
    hidden: true,
  })
  embedding: number[] | null = null;

  @Property({ type: 'string', length: 200, nullable: true })
  embeddingModel: string | null = null;

  // --- validity (every type) ---
  /** Since when the memory holds; null: since it was created (rows older than validity). */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  validFrom: Date | null = null;

  /** Until when it held: set when a fact is superseded, so search answers for the present. */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  validTo: Date | null = null;

  /** The memory this one replaced (the fact it superseded), if any. */
  @Property({ type: 'uuid', nullable: true })
  supersedesId: string | null = null;

  // --- episodic ---
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  occurredAt: Date | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  eventType: string | null = null;

  @Property({ type: 'string', length: 200, nullable: true })
  actor: string | null = null;

  // --- shared by episodic, semantic, procedural, resource ---
  @Property({ type: 'text', nullable: true })
  summary: string | null = null;

  @Property({ type: 'text', nullable: true })
  details: string | null = null;

  // --- semantic ---
  @Property({ type: 'string', length: 500, nullable: true })
  name: string | null = null;

  /** Semantic and knowledge-vault items: where the knowledge came from. */
  @Property({ type: 'string', length: 500, nullable: true })
  source: string | null = null;

  // --- procedural (entryType also for the vault) ---
  @Property({ type: 'string', length: 100, nullable: true })
  entryType: string | null = null;

  @Property({ type: 'json', columnType: 'jsonb', nullable: true })
  steps: string[] | null = null;

  // --- resource ---
  @Property({ type: 'string', length: 500, nullable: true })
  title: string | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  resourceType: string | null = null;

  @Property({ type: 'text', nullable: true, lazy: true })
  content: string | null = null;

  // --- knowledge vault ---
  @Enum({ items: () => [...SENSITIVITY_LEVELS], nullable: true })
  sensitivity: Sensitivity | null = null;

  /** AES-256-GCM: base64(iv | tag | ciphertext). Never selected except by reveal. */
  @Property({ type: 'text', nullable: true, lazy: true, hidden: true })
  secretCiphertext: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  secretKeyId: string | null = null;

  @Property({ type: 'text', nullable: true })
  caption: string | null = null;

  // --- search columns (written by PostgreSQL, never by the application) ---
  /**
   * An episode's neighbours and date (weight D): written with its vector by the embed worker, and
   * refreshed by triggers when a neighbour is edited or deleted (migration 20261201213000).
   */
  @Property({ type: 'unknown', columnType: 'tsvector', lazy: true, hidden: true, nullable: true })
  contextTsv?: unknown;

  @Property({
    type: 'unknown',
    columnType: 'tsvector',
    lazy: true,
    hidden: true,
    nullable: true,
    generated: `(((setweight(to_tsvector('english'::regconfig, mirix_search_text((((((((COALESCE(name, ''::character varying))::text || ' '::text) || (COALESCE(title, ''::character varying))::text) || ' '::text) || (COALESCE(event_type, ''::character varying))::text) || ' '::text) || (COALESCE(actor, ''::character varying))::text))), 'A'::"char") || setweight(to_tsvector('english'::regconfig, mirix_search_text(((COALESCE(summary, ''::text) || ' '::text) || COALESCE(caption, ''::text)))), 'B'::"char")) || setweight(to_tsvector('english'::regconfig, mirix_search_text(((((((COALESCE(details, ''::text) || ' '::text) || (COALESCE(entry_type, ''::character varying))::text) || ' '::text) || COALESCE((steps)::text, ''::text)) || ' '::text) || "left"(COALESCE(content, ''::text), 100000)))), 'C'::"char")) || COALESCE(context_tsv, ''::tsvector)) stored`,
  })
  tsv?: unknown;

  @Property({
    type: 'text',
    lazy: true,
    hidden: true,
    nullable: true,
    generated: `("left"((COALESCE(name, title, (caption)::character varying, ((((event_type)::text || ' '::text) || (actor)::text))::character varying, entry_type, ''::character varying))::text, 100)) stored`,
  })
  trgmText?: string;
}
