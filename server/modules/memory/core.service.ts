import { coreBlockTexts } from './memory.queries.js';
import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import { AppError, AppErrorCode } from '../../errors.js';
import { createAgent, getOwnedAgent, type TCreateAgentRequest, type Agent } from '../agents/index.js';
import { recordHistory } from './memory.writes.js';
import type { User } from '../users/index.js';
import {
  appendedValue,
  CoreMemoryBlock,
  DEFAULT_CORE_BLOCK_LIMIT,
  DEFAULT_CORE_LABELS,
  overflowOf,
} from './core-block.entity.js';
import type { TCoreBlockResponse } from './memory.schema.js';
import type { ModifiedBy } from './memory.types.js';

export function toCoreBlockResponse(b: CoreMemoryBlock): TCoreBlockResponse {
  return {
    label: b.label,
    value: b.value,
    limit: b.limit,
    remaining: b.limit - b.value.length,
    updatedAt: b.updatedAt,
  };
}

/** A new agent with its default core blocks, empty until the agent learns: one transaction. */
export function createAgentWithCoreMemory(
  em: EntityManager,
  actor: User,
  input: TCreateAgentRequest,
): Promise<Agent> {
  return em.transactional(async (tx) => {
    const agent = await createAgent(tx, actor, input);
    for (const label of DEFAULT_CORE_LABELS) {
      tx.create(CoreMemoryBlock, {
        agent,
        user: actor,
        label,
        lastModified: { at: new Date().toISOString(), operation: 'created', by: 'system' },
      });
    }
    return agent;
  });
}

export async function getCoreBlocks(
  em: EntityManager,
  actor: User,
  agentId: string,
): Promise<CoreMemoryBlock[]> {
  return coreBlocksOf(em, actor, await getOwnedAgent(em, actor, agentId));
}

/** The blocks of an agent whose ownership the caller has already checked. */
export async function coreBlocksOf(em: EntityManager, actor: User, agent: Agent): Promise<CoreMemoryBlock[]> {
  const blocks = await em.find(
    CoreMemoryBlock,
    { agent, deletedAt: null },
    { orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  // Agents created before core memory existed get their default blocks on first read.
  const missing = DEFAULT_CORE_LABELS.filter((label) => !blocks.some((b) => b.label === label));
  if (missing.length === 0) return blocks;
  for (const label of missing) await ensureBlock(em, { actor, agentId: agent.id, label });
  return em.find(CoreMemoryBlock, { agent, deletedAt: null }, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

/**
 * Just the labels and values, in order, for a prompt: one prepared statement on every chat turn,
 * with no unit of work (so it may run beside other reads). `agent` is the actor's, resolved by the
 * caller. An agent still missing a default block gets it through `coreBlocksOf`.
 */
export async function coreBlockValues(
  em: EntityManager,
  actor: User,
  agent: Agent,
): Promise<{ label: string; value: string }[]> {
  const rows = await coreBlockTexts(em, { agentId: agent.id, userId: actor.id });
  if (DEFAULT_CORE_LABELS.every((label) => rows.some((r) => r.label === label))) return rows;
  return (await coreBlocksOf(em.fork(), actor, agent)).map((b) => ({ label: b.label, value: b.value }));
}

/** Inserts the block if it does not exist (safe under concurrency). */
async function ensureBlock(
  em: EntityManager,
  { actor, agentId, label, limit }: { actor: User; agentId: string; label: string; limit?: number },
) {
  await em
    .createQueryBuilder(CoreMemoryBlock)
    .insert({
      // A query-builder insert skips entity initializers: set the key and timestamps here.
      id: uuidv7(),
      createdAt: new Date(),
      updatedAt: new Date(),
      agent: agentId,
      user: actor.id,
      label,
      value: '',
      limit: limit ?? DEFAULT_CORE_BLOCK_LIMIT,
      lastModified: { at: new Date().toISOString(), operation: 'created', by: 'system' },
    })
    .onConflict(['agent', 'label'])
    .ignore()
    .execute();
}

/**
 * Changes one block through the API (by the user) under a row lock, so concurrent appends never
 * lose each other's text, and refuses a value over the limit with how much room there was.
 */
async function mutateBlock(
  em: EntityManager,
  actor: User,
  mutation: {
    input: { agentId: string; label: string; limit?: number };
    operation: 'updated' | 'appended' | 'replaced';
    change: (current: string) => string;
  },
): Promise<CoreMemoryBlock> {
  const { input, operation, change } = mutation;
  const by: ModifiedBy = 'user';
  const agent = await getOwnedAgent(em, actor, input.agentId);
  await ensureBlock(em, { actor, agentId: agent.id, label: input.label, limit: input.limit });
  return em.transactional(async (tx) => {
    const block = await tx.findOneOrFail(
      CoreMemoryBlock,
      { agent: agent.id, label: input.label },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    const limit = input.limit ?? block.limit;
    const value = change(block.value);
    const overflow = overflowOf({ label: input.label, limit }, block.value, value);
    if (overflow) throw new AppError(AppErrorCode.BadRequest, overflow);
    recordHistory(tx, {
      agentId: agent.id,
      userId: actor.id,
      itemId: block.id,
      memoryType: 'core',
      operation: operation === 'appended' ? 'appended' : operation === 'replaced' ? 'rewritten' : 'updated',
      before: { value: block.value },
      after: { value },
      actor: by,
    });
    block.value = value;
    block.limit = limit;
    block.deletedAt = null;
    block.lastModified = { at: new Date().toISOString(), operation, by };
    return block;
  });
}

export function setCoreBlock(
  em: EntityManager,
  actor: User,
  input: { agentId: string; label: string; value: string; limit?: number },
) {
  return mutateBlock(em, actor, { input, operation: 'updated', change: () => input.value });
}

export function appendCoreBlock(
  em: EntityManager,
  actor: User,
  input: { agentId: string; label: string; text: string },
) {
  return mutateBlock(em, actor, {
    input,
    operation: 'appended',
    change: (current) => appendedValue(current, input.text),
  });
}

export function replaceCoreBlock(
  em: EntityManager,
  actor: User,
  input: { agentId: string; label: string; old: string; new: string },
) {
  const change = (current: string) => {
    if (!current.includes(input.old)) {
      throw new AppError(
        AppErrorCode.BadRequest,
        `Core block "${input.label}" does not contain the text to replace`,
      );
    }
    return current.replace(input.old, () => input.new);
  };
  return mutateBlock(em, actor, { input, operation: 'replaced', change });
}
