import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { runNative } from '../../db/native.js';
import { notFound } from '../../errors.js';
import type { User } from '../users/index.js';
import { Agent } from './agent.entity.js';
import {
  DEFAULT_MODEL_CONFIG,
  type TAdminListAgentsRequest,
  type TAgentResponse,
  type TCreateAgentRequest,
  type TListAgentsRequest,
  type TUpdateAgentRequest,
} from './agent.schema.js';

export function toAgentResponse(agent: Agent): TAgentResponse {
  return {
    id: agent.id,
    ownerId: agent.owner.id,
    name: agent.name,
    agentType: agent.agentType,
    description: agent.description,
    systemPrompt: agent.systemPrompt,
    modelConfig: agent.modelConfig,
    isActive: agent.isActive,
    createdAt: agent.createdAt,
    updatedAt: agent.updatedAt,
  };
}

/** A new agent alone; `createAgentWithCoreMemory` (memory module) is what the API calls. */
export async function createAgent(
  em: EntityManager,
  actor: User,
  input: TCreateAgentRequest,
): Promise<Agent> {
  const agent = em.create(Agent, {
    owner: actor,
    name: input.name,
    agentType: input.agentType,
    description: input.description ?? null,
    systemPrompt: input.systemPrompt ?? null,
    modelConfig: input.modelConfig ?? { ...DEFAULT_MODEL_CONFIG, parameters: {} },
  });
  await em.flush();
  return agent;
}

/**
 * The actor's live agent with this id. Someone else's agent, or a deleted one, is NOT_FOUND:
 * callers cannot learn that it exists.
 */
export async function getOwnedAgent(em: EntityManager, actor: User, id: string): Promise<Agent> {
  // Nearly every call starts here: a prepared statement plus em.map costs half of what findOne does.
  const [row] = await runNative<Record<string, unknown>>(
    em,
    'select * from agents where id = $1 and owner_id = $2 and deleted_at is null',
    [id, actor.id],
  );
  if (!row) throw notFound('Agent');
  return em.map(Agent, row);
}

export async function updateAgent(
  em: EntityManager,
  actor: User,
  input: TUpdateAgentRequest,
): Promise<Agent> {
  const { id, ...changes } = input;
  const agent = await getOwnedAgent(em, actor, id);
  // Only the fields the caller sent: undefined means "leave as is", null clears a nullable field.
  const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
  em.assign(agent, defined);
  await em.flush();
  return agent;
}

export async function listAgents(
  em: EntityManager,
  actor: User,
  input: TListAgentsRequest,
): Promise<{ items: Agent[]; total: number }> {
  return findAgentsPage(em, { owner: actor }, input);
}

/** Every user's agents; the router restricts this to superusers. */
export async function listAllAgents(
  em: EntityManager,
  input: TAdminListAgentsRequest,
): Promise<{ items: Agent[]; total: number }> {
  return findAgentsPage(em, input.ownerId ? { owner: input.ownerId } : {}, input);
}

async function findAgentsPage(
  em: EntityManager,
  scope: FilterQuery<Agent>,
  input: TListAgentsRequest,
): Promise<{ items: Agent[]; total: number }> {
  const where: FilterQuery<Agent> = {
    $and: [scope, { deletedAt: null }, input.agentType ? { agentType: input.agentType } : {}],
  };
  const [items, total] = await em.findAndCount(Agent, where, {
    orderBy: { createdAt: 'desc', id: 'desc' },
    offset: input.skip,
    limit: input.limit,
  });
  return { items, total };
}

/** Soft delete: the row and its messages stay for audit, but every procedure treats it as gone. */
export async function deleteAgent(em: EntityManager, actor: User, id: string): Promise<void> {
  const agent = await getOwnedAgent(em, actor, id);
  agent.deletedAt = new Date();
  agent.isActive = false;
  await em.flush();
}
