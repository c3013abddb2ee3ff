import type { EntityManager } from '@mikro-orm/postgresql';
import { toSql } from 'pgvector';
import { runNative } from '../../db/native.js';
import { MEMORY_DEFS, RECORD_COLUMNS, recordFromRow } from './memory.registry.js';
import type { MemoryType } from './memory.types.js';

/*
 * The memory module's statements that are not the unit of work's (docs/decisions/0003): the
 * embedding pipeline's reads and writes, stats, retention, and the prompt's core-block read. The
 * fused search's statements are search.service.ts's.
 */

export interface PendingText {
  id: string;
  version: Date;
  text: string;
}

/**
 * Loads the items that still need a vector (live, not a vault item, no embedding yet) and the
 * text to embed for each.
 */
export async function loadEmbeddable(em: EntityManager, ids: string[]): Promise<PendingText[]> {
  // A plain statement, not em.find: hydrating entities for every batch only fed the GC.
  const rows = await runNative<Record<string, unknown>>(
    em,
    `select ${RECORD_COLUMNS.join(', ')}
     from memories
     where id = any($1::uuid[]) and deleted_at is null and embedding is null and memory_type <> 'knowledge_vault'`,
    [ids],
  );
  return rows.flatMap((row) => {
    const record = recordFromRow(row);
    const text = MEMORY_DEFS[record.memoryType].embeddingText?.(record);
    return text ? [{ id: record.id, version: record.updatedAt, text }] : [];
  });
}

/**
 * Writes a batch of vectors in one statement and returns the ids written. A row changed since it
 * was read (its updated_at moved) is skipped: its new text has its own job.
 *
 * An episode's search context (its neighbouring episodes and its date, see migration
 * 20261201213000) is written in the same statement, so a new memory's row is written once; then
 * the indexed episodes beside the batch, whose context can now name it, are refreshed (one still
 * waiting for its vector gets its whole context here, when its own vector is written).
 */
export async function writeVectors(
  em: EntityManager,
  model: string,
  batch: { id: string; version: Date; vector: number[] }[],
): Promise<string[]> {
  if (batch.length === 0) return [];
  const rows = await runNative<{ id: string; agent_id: string; at: Date; episodic: boolean }>(
    em,
    `update memories m set embedding = v.embedding::vector, embedding_model = $1,
       context_tsv = case when m.memory_type = 'episodic'
         then mirix_episode_context(m.agent_id, coalesce(m.occurred_at, m.created_at), m.id) else null end
     from unnest($2::uuid[], $3::text[], $4::timestamptz[]) as v(id, embedding, version)
     where m.id = v.id and date_trunc('milliseconds', m.updated_at) = v.version
       and m.embedding is null and m.deleted_at is null
     returning m.id, m.agent_id, coalesce(m.occurred_at, m.created_at) as at, m.memory_type = 'episodic' as episodic`,
    [model, batch.map((b) => b.id), batch.map((b) => toSql(b.vector) as string), batch.map((b) => b.version)],
  );
  const episodes = rows.filter((r) => r.episodic);
  if (episodes.length > 0) {
    await runNative(
      em,
      'select mirix_refresh_episode_context($1::uuid[], $2::timestamptz[], $3::uuid[], false)',
      [episodes.map((r) => r.agent_id), episodes.map((r) => r.at), episodes.map((r) => r.id)],
    );
  }
  return rows.map((r) => r.id);
}

/** Live, embeddable items still without a vector that have waited at least `minAgeMs`. */
export async function findPendingEmbeddings(
  em: EntityManager,
  minAgeMs: number,
  limit = 5000,
): Promise<{ id: string; updatedAt: Date }[]> {
  const rows = await em.execute<{ id: string; updated_at: Date }[]>(
    `select id, updated_at from memories
     where embedding is null and deleted_at is null and memory_type <> 'knowledge_vault'
       and updated_at <= now() - (? * interval '1 millisecond')
     order by updated_at limit ?`,
    [minAgeMs, limit],
  );
  return rows.map((r) => ({ id: r.id, updatedAt: new Date(r.updated_at) }));
}

/**
 * Retention: deletes up to `batch` history rows older than `days`, keeping each item's newest
 * `keepVersions`; returns how many.
 */
export async function pruneHistory(
  em: EntityManager,
  { days, keepVersions, batch }: { days: number; keepVersions: number; batch: number },
) {
  const rows = await em.execute<{ id: string }[]>(
    `delete from memory_history where id in (
       select id from (
         select id, created_at,
           row_number() over (partition by item_id order by created_at desc, id desc) as newest
         from memory_history) v
       where newest > ? and created_at < now() - make_interval(days => ?)
       limit ?)
     returning id`,
    [keepVersions, days, batch],
  );
  return rows.length;
}

/** Live items per type of an agent, and how many still wait for an embedding. */
export function countsByType(em: EntityManager, agentId: string) {
  return em.execute<{ memory_type: MemoryType; n: string; pending: string }[]>(
    `select memory_type, count(*) as n,
            count(*) filter (where embedding is null and memory_type <> 'knowledge_vault') as pending
     from memories where agent_id = ? and deleted_at is null group by memory_type`,
    [agentId],
  );
}

/**
 * An agent's core blocks, just labels and values in order: one prepared statement on every chat
 * turn, scoped to the owner's blocks.
 */
export function coreBlockTexts(em: EntityManager, { agentId, userId }: { agentId: string; userId: string }) {
  return runNative<{ label: string; value: string }>(
    em,
    `select label, value from core_memory_blocks
     where agent_id = $1 and user_id = $2 and deleted_at is null order by created_at, id`,
    [agentId, userId],
  );
}
