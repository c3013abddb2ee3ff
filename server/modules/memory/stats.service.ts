import type { EntityManager } from '@mikro-orm/postgresql';
import { getOwnedAgent } from '../agents/index.js';
import type { User } from '../users/index.js';
import { CoreMemoryBlock } from './core-block.entity.js';
import { MEMORY_TYPES, type MemoryType } from './memory.types.js';
import { countsByType } from './memory.queries.js';

/** Live items per type, and how many still wait for an embedding. */
export async function memoryStats(em: EntityManager, actor: User, agentId: string) {
  const agent = await getOwnedAgent(em, actor, agentId);
  const rows = await countsByType(em, agent.id);
  const counts = Object.fromEntries(MEMORY_TYPES.map((t) => [t, 0])) as Record<MemoryType, number>;
  let pendingEmbeddings = 0;
  for (const r of rows) {
    counts[r.memory_type] = Number(r.n);
    pendingEmbeddings += Number(r.pending);
  }
  const core = await em.count(CoreMemoryBlock, { agent, deletedAt: null });
  return { counts: { core, ...counts }, pendingEmbeddings };
}
