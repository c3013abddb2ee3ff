import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { toSql } from 'pgvector';
import type { Logger } from 'pino';
import { runNative } from '../../db/native.js';
import { MEMORY_DEFS, RECORD_COLUMNS, recordFromRow } from './memory.registry.js';
import type { EmbeddingProvider } from '../embeddings/index.js';

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
 * the episodes beside the batch, whose context can now name it, are refreshed.
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

interface Waiter {
  ids: string[];
  resolve: (written: number) => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers the item ids of concurrent jobs into batches of `batchSize` texts (or whatever arrived
 * within `maxWaitMs`); per batch it loads the texts in one query, makes one provider call per
 * `batchSize` texts, and writes the vectors in one statement. A failed batch fails every job in
 * it, so each is retried by the queue with backoff.
 */
export class EmbedBatcher {
  private waiting: Waiter[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  private readonly orm: MikroORM;
  private readonly provider: EmbeddingProvider;
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly maxWaitMs: number;

  constructor(
    deps: { orm: MikroORM; provider: EmbeddingProvider; log: Logger },
    opts: { batchSize: number; maxWaitMs?: number },
  ) {
    ({ orm: this.orm, provider: this.provider, log: this.log } = deps);
    this.batchSize = opts.batchSize;
    this.maxWaitMs = opts.maxWaitMs ?? 20;
  }

  /** Embeds and stores these items (those still needing it); resolves with how many were written. */
  submit(ids: string[]): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.waiting.push({ ids, resolve, reject });
      this.queued += ids.length;
      if (this.queued >= this.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiters = this.waiting;
    this.waiting = [];
    this.queued = 0;
    if (waiters.length === 0) return;
    const run = this.run(waiters).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  private async run(waiters: Waiter[]) {
    try {
      const em = this.orm.em.fork();
      const pending = await loadEmbeddable(em, [...new Set(waiters.flatMap((w) => w.ids))]);
      const written = new Set<string>();
      for (let i = 0; i < pending.length; i += this.batchSize) {
        const chunk = pending.slice(i, i + this.batchSize);
        const vectors = await this.provider.embed(chunk.map((t) => t.text));
        const rows = chunk.map((t, j) => ({ ...t, vector: vectors[j]! }));
        for (const id of await writeVectors(em, this.provider.model, rows)) written.add(id);
      }
      for (const w of waiters) w.resolve(w.ids.filter((id) => written.has(id)).length);
    } catch (err) {
      this.log.warn({ err, items: waiters.reduce((n, w) => n + w.ids.length, 0) }, 'embedding batch failed');
      for (const w of waiters) w.reject(err);
    }
  }

  /** Flushes what is waiting and waits for every batch in flight. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
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
