import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import type { z } from 'zod';
import { notFound } from '../../errors.js';
import { type JobQueues, scheduleEmbeddings } from '../../jobs/queues.js';
import { getOwnedAgent } from '../agents/index.js';
import type { User } from '../users/index.js';
import { MemoryItem } from './memory.entity.js';
import type { MemoryRecord, MemoryTypeDef } from './memory.registry.js';
import type { TListMemoriesRequest } from './memory.schema.js';
import type { LastModified, MemoryOperation, ModifiedBy } from './memory.types.js';
import type { VaultCipher } from './vault-cipher.js';
import { VaultAccess } from './vault-access.entity.js';
import { type HistoryEntry, newItemRow, patchItem, recordHistory, snapshotOf } from './memory.writes.js';
import { decodeCursor, pageOf, timeCursorOf } from '../../pagination.js';

export interface MemoryDeps {
  cipher: VaultCipher;
  queues: JobQueues;
  log: Logger;
  /** Who is writing: the API on a user's behalf, a memory manager, or the system. */
  by?: ModifiedBy;
  jobId?: string;
}

/** A write on the actor's behalf: who, and what the write needs. */
export interface MemoryWriter extends MemoryDeps {
  actor: User;
}

function stamp(deps: MemoryDeps, operation: MemoryOperation): LastModified {
  return {
    at: new Date().toISOString(),
    operation,
    by: deps.by ?? 'user',
    ...(deps.jobId ? { jobId: deps.jobId } : {}),
  };
}

type FieldsOf<D extends MemoryTypeDef> = z.output<D['fields']>;

/**
 * Creates one or many items of one type for an agent of the actor's, in one INSERT (all or
 * nothing). A batch goes straight to the database rather than through the unit of work: at 500
 * items the change-set bookkeeping cost more than the insert.
 */
export async function createMemories<D extends MemoryTypeDef>(
  em: EntityManager,
  deps: MemoryWriter,
  { def, agentId, items: inputs }: { def: D; agentId: string; items: FieldsOf<D>[] },
): Promise<MemoryRecord[]> {
  const { actor } = deps;
  const agent = await getOwnedAgent(em, actor, agentId);
  const now = new Date();
  const rows = inputs.map((fields) =>
    newItemRow({
      id: uuidv7(),
      agentId: agent.id,
      userId: actor.id,
      def,
      fields,
      lastModified: stamp(deps, 'created'),
      now,
      cipher: deps.cipher,
    }),
  );
  await em.insertMany(MemoryItem, rows);
  const records = rows.map((r) => ({ ...r, agent: { id: agent.id } }));
  await scheduleEmbeddings(deps, embeddable(def, records));
  return records;
}

/** A history row for a change made through the API (in the caller's unit of work). */
function recordChange(
  em: EntityManager,
  deps: MemoryDeps,
  { item, ...change }: Pick<HistoryEntry, 'operation' | 'before' | 'after'> & { item: MemoryItem },
) {
  recordHistory(em, {
    ...change,
    agentId: item.agent.id,
    userId: item.user.id,
    itemId: item.id,
    memoryType: item.memoryType,
    jobId: deps.jobId ?? null,
    actor: deps.by ?? 'user',
  });
}

function embeddable(def: MemoryTypeDef, items: { id: string; updatedAt: Date }[]) {
  return def.embeddingText ? items.map((i) => ({ id: i.id, updatedAt: i.updatedAt })) : [];
}

/** A memory item, addressed within its agent. */
export interface MemoryRef {
  agentId: string;
  id: string;
}

export interface GetMemory {
  def: MemoryTypeDef;
  ref: MemoryRef;
  /** A resource's content. */
  withContent?: boolean;
  /** A vault item's ciphertext (for history). */
  withSecret?: boolean;
}

/** An item of this type, of the actor's, on a live agent, not deleted; else NOT_FOUND. */
export async function getMemory(
  em: EntityManager,
  actor: User,
  { def, ref, ...opts }: GetMemory,
): Promise<MemoryItem> {
  const item = await em.findOne(
    MemoryItem,
    {
      id: ref.id,
      memoryType: def.type,
      user: actor,
      deletedAt: null,
      agent: { id: ref.agentId, deletedAt: null },
    },
    {
      populate: [
        ...(opts.withContent && def.type === 'resource' ? (['content'] as const) : []),
        ...(opts.withSecret && def.type === 'knowledge_vault' ? (['secretCiphertext'] as const) : []),
      ],
    },
  );
  if (!item) throw notFound('Memory');
  return item;
}

export async function updateMemory<D extends MemoryTypeDef>(
  em: EntityManager,
  deps: MemoryWriter,
  { def, ref, changes }: { def: D; ref: MemoryRef; changes: Partial<FieldsOf<D>> },
): Promise<MemoryItem> {
  const item = await getMemory(em, deps.actor, { def, ref, withContent: true, withSecret: true });
  const before = snapshotOf(item);
  patchItem(em, item, {
    def,
    patch: changes,
    lastModified: stamp(deps, 'updated'),
    now: new Date(),
    cipher: deps.cipher,
  });
  recordChange(em, deps, { item, operation: 'updated', before, after: snapshotOf(item) });
  await em.flush();
  await scheduleEmbeddings(deps, embeddable(def, [item]));
  return item;
}

/** Soft delete: hidden from every procedure and from search at once. */
export async function deleteMemory(
  em: EntityManager,
  deps: MemoryWriter,
  { def, ref }: { def: MemoryTypeDef; ref: MemoryRef },
): Promise<void> {
  const item = await getMemory(em, deps.actor, { def, ref, withContent: true, withSecret: true });
  item.deletedAt = new Date();
  item.lastModified = stamp(deps, 'deleted');
  recordChange(em, deps, { item, operation: 'deleted', before: snapshotOf(item), after: null });
  await em.flush();
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * An agent's items of one type, newest first (by occurredAt for episodic, createdAt otherwise),
 * with optional time bounds and a substring filter; keyset-paginated.
 */
export async function listMemories(
  em: EntityManager,
  actor: User,
  { def, ...input }: TListMemoriesRequest & { def: MemoryTypeDef },
): Promise<{ items: MemoryItem[]; nextCursor: string | null }> {
  const agent = await getOwnedAgent(em, actor, input.agentId);
  const timeCol = def.type === 'episodic' ? 'occurred_at' : 'created_at';
  const timeProp = def.type === 'episodic' ? 'occurredAt' : 'createdAt';
  const qb = em
    .createQueryBuilder(MemoryItem, 'm')
    .where({ agent, user: actor, memoryType: def.type, deletedAt: null })
    .orderBy({ [timeProp]: 'desc', id: 'desc' })
    .limit(input.limit + 1);
  if (input.from) qb.andWhere(`m.${timeCol} >= ?`, [input.from]);
  if (input.to) qb.andWhere(`m.${timeCol} <= ?`, [input.to]);
  if (input.contains) {
    const pattern = `%${escapeLike(input.contains)}%`;
    qb.andWhere(
      `(${def.textColumns.map((c) => `m.${c} ilike ?`).join(' or ')})`,
      def.textColumns.map(() => pattern),
    );
  }
  if (input.cursor) {
    const after = decodeCursor(input.cursor);
    qb.andWhere(`(m.${timeCol}, m.id) < (?, ?)`, [after.time, after.id]);
  }
  const rows = await qb.getResultList();
  const timeOf = (item: MemoryItem) =>
    def.type === 'episodic' ? (item.occurredAt ?? item.createdAt) : item.createdAt;
  return pageOf(rows, { limit: input.limit, cursorOf: timeCursorOf(timeOf) });
}

/** Decrypts a vault secret for its owner, and records that it was revealed. */
export async function revealSecret(
  em: EntityManager,
  deps: MemoryWriter & { requestId?: string | null; ip?: string | null },
  ref: MemoryRef,
): Promise<{ id: string; secretValue: string }> {
  const { actor } = deps;
  const item = await em.findOne(
    MemoryItem,
    {
      id: ref.id,
      memoryType: 'knowledge_vault',
      user: actor,
      deletedAt: null,
      agent: { id: ref.agentId, deletedAt: null },
    },
    { populate: ['secretCiphertext'] },
  );
  if (!item) throw notFound('Memory');
  if (!item.secretCiphertext || !item.secretKeyId) throw notFound('Secret');
  const secretValue = deps.cipher.decrypt(item.secretCiphertext, item.secretKeyId, item.id);
  em.create(VaultAccess, {
    item,
    user: actor,
    action: 'reveal',
    requestId: deps.requestId ?? null,
    ip: deps.ip ?? null,
  });
  await em.flush();
  return { id: item.id, secretValue };
}
