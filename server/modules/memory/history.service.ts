import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '../../errors.js';
import type { User } from '../users/index.js';
import { CoreMemoryBlock } from './core-block.entity.js';
import { MemoryHistory } from './memory-history.entity.js';
import { MemoryItem } from './memory.entity.js';

/** Secrets never leave through history: the ciphertext is replaced by whether it changed. */
function publicSnapshot(
  snapshot: Record<string, unknown> | null,
  other: Record<string, unknown> | null,
): Record<string, unknown> | null {
  if (!snapshot) return null;
  const { secretCiphertext, ...rest } = snapshot;
  if (secretCiphertext === undefined) return rest;
  return { ...rest, secretChanged: other ? other.secretCiphertext !== secretCiphertext : false };
}

/** `memory.history`: every recorded change of a memory item or core block of the actor's, oldest first. */
export async function itemHistory(
  em: EntityManager,
  actor: User,
  { agentId, itemId }: { agentId: string; itemId: string },
) {
  const where = { id: itemId, user: actor, agent: { id: agentId, deletedAt: null } };
  const owned = (await em.count(MemoryItem, where)) > 0 || (await em.count(CoreMemoryBlock, where)) > 0;
  if (!owned) throw notFound('Memory');
  const rows = await em.find(
    MemoryHistory,
    { itemId, user: actor },
    { orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  return rows.map((h) => ({
    id: h.id,
    itemId: h.itemId,
    memoryType: h.memoryType,
    operation: h.operation,
    before: publicSnapshot(h.before, h.after),
    after: publicSnapshot(h.after, h.before),
    jobId: h.job?.id ?? null,
    actor: h.actor,
    createdAt: h.createdAt,
  }));
}
