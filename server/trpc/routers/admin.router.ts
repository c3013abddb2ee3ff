import { ZAdminListAgentsRequest, ZAgentListResponse } from '../../modules/agents/agent.schema.js';
import { listAllAgents, toAgentResponse } from '../../modules/agents/agent.service.js';
import { rest } from '../../rest/meta.js';
import { adminProcedure, router } from '../init.js';

export const adminRouter = router({
  /** Every user's agents, newest first (superusers only). */
  listAgents: adminProcedure
    .meta(rest('GET', '/admin/agents', { tag: 'admin', summary: "Every user's agents (superusers only)" }))
    .input(ZAdminListAgentsRequest)
    .output(ZAgentListResponse)
    .query(async ({ ctx, input }) => {
      const page = await listAllAgents(ctx.em, input);
      return {
        items: page.items.map(toAgentResponse),
        total: page.total,
        skip: input.skip,
        limit: input.limit,
      };
    }),
});
