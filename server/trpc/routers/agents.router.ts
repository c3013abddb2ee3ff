import { z } from 'zod';
import {
  ZAgentIdRequest,
  ZAgentListResponse,
  ZAgentResponse,
  ZCreateAgentRequest,
  ZListAgentsRequest,
  ZUpdateAgentRequest,
  deleteAgent,
  getOwnedAgent,
  listAgents,
  toAgentResponse,
  updateAgent,
} from '../../modules/agents/index.js';
import { createAgentWithCoreMemory } from '../../modules/memory/index.js';
import { rest } from '../../rest/meta.js';
import { authedProcedure, router } from '../init.js';

export const agentsRouter = router({
  create: authedProcedure
    .meta(rest('POST', '/agents', { tag: 'agents', summary: 'Create an agent', status: 201 }))
    .input(ZCreateAgentRequest)
    .output(ZAgentResponse)
    .mutation(async ({ ctx, input }) =>
      toAgentResponse(await createAgentWithCoreMemory(ctx.em, ctx.user, input)),
    ),

  get: authedProcedure
    .meta(rest('GET', '/agents/{id}', { tag: 'agents', summary: 'Get an agent' }))
    .input(ZAgentIdRequest)
    .output(ZAgentResponse)
    .query(async ({ ctx, input }) => toAgentResponse(await getOwnedAgent(ctx.em, ctx.user, input.id))),

  /** Partial update: omitted fields are left as they are. */
  update: authedProcedure
    .meta(rest('PUT', '/agents/{id}', { tag: 'agents', summary: 'Update an agent (omitted fields stay)' }))
    .input(ZUpdateAgentRequest)
    .output(ZAgentResponse)
    .mutation(async ({ ctx, input }) => toAgentResponse(await updateAgent(ctx.em, ctx.user, input))),

  /** The caller's agents, newest first. */
  list: authedProcedure
    .meta(rest('GET', '/agents', { tag: 'agents', summary: "The caller's agents, newest first" }))
    .input(ZListAgentsRequest)
    .output(ZAgentListResponse)
    .query(async ({ ctx, input }) => {
      const page = await listAgents(ctx.em, ctx.user, input);
      return {
        items: page.items.map(toAgentResponse),
        total: page.total,
        skip: input.skip,
        limit: input.limit,
      };
    }),

  /** Soft delete. */
  delete: authedProcedure
    .meta(rest('DELETE', '/agents/{id}', { tag: 'agents', summary: 'Delete an agent', status: 204 }))
    .input(ZAgentIdRequest)
    .output(z.object({ id: z.uuid(), deleted: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await deleteAgent(ctx.em, ctx.user, input.id);
      return { id: input.id, deleted: true as const };
    }),
});
