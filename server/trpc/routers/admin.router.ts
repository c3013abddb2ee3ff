import { z } from 'zod';
import {
  ZAdminListAgentsRequest,
  ZAgentListResponse,
  listAllAgents,
  toAgentResponse,
} from '../../modules/agents/index.js';
import { ZUserResponse, toUserResponse } from '../../modules/auth/index.js';
import { listUsers } from '../../modules/users/index.js';
import { rest } from '../../rest/meta.js';
import { adminProcedure, router } from '../init.js';

const ZPage = z.object({
  skip: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(200).default(50),
});

export const adminRouter = router({
  /** Every account, newest first (superusers only). */
  listUsers: adminProcedure
    .meta(rest('GET', '/admin/users', { tag: 'admin', summary: 'Every account (superusers only)' }))
    .input(ZPage)
    .output(
      z.object({
        items: z.array(ZUserResponse),
        total: z.number().int(),
        skip: z.number(),
        limit: z.number(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const page = await listUsers(ctx.em, input);
      return {
        items: page.items.map(toUserResponse),
        total: page.total,
        skip: input.skip,
        limit: input.limit,
      };
    }),

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
