import { z } from 'zod';
import { type ChatDeps, sendMessage, streamMessage, ZChatSendRequest } from '../../modules/chat/index.js';
import type { Context } from '../context.js';
import { getOwnedAgent } from '../../modules/agents/index.js';
import { MEMORY_TYPES } from '../../modules/memory/index.js';
import { rest } from '../../rest/meta.js';
import { authedProcedure, router } from '../init.js';

const chatDeps = (ctx: Context): ChatDeps => ({
  env: ctx.services.chatEnv,
  embeddings: ctx.services.embeddings,
  queues: ctx.services.queues,
  redis: ctx.services.redis,
  log: ctx.log,
  metrics: ctx.services.metrics,
  timing: ctx.timing,
});

const ZUsage = z.object({ promptTokens: z.number(), completionTokens: z.number(), totalTokens: z.number() });

export const chatRouter = router({
  /** One turn: retrieve memories, ask the agent's model, save both messages. */
  send: authedProcedure
    .meta(rest('POST', '/agents/{agentId}/chat', { tag: 'chat', summary: 'One chat turn with memories' }))
    .input(ZChatSendRequest)
    .output(
      z.object({
        response: z.string(),
        userMessageId: z.uuid(),
        assistantMessageId: z.uuid(),
        memoriesUsed: z.array(z.object({ id: z.uuid(), type: z.enum(MEMORY_TYPES), title: z.string() })),
        usage: ZUsage.nullable(),
      }),
    )
    .mutation(({ ctx, input }) => sendMessage(ctx.em, chatDeps(ctx), { ...input, actor: ctx.user })),

  /**
   * The same turn as Server-Sent Events: start, thinking, memories, content (many), then complete
   * or error. Closing the subscription cancels the upstream request; the partial answer is kept.
   */
  stream: authedProcedure
    .input(ZChatSendRequest)
    // Ownership is checked before the first event: another user's agent ends the stream at once
    // with NOT_FOUND (tRPC's SSE protocol sends it as the stream's only event, so the typed client
    // sees code NOT_FOUND and httpStatus 404, and does not reconnect). REST answers a plain 404.
    .use(async ({ ctx, input, next }) => {
      await getOwnedAgent(ctx.em, ctx.user, input.agentId);
      return next();
    })
    .subscription(async function* ({ ctx, input, signal }) {
      yield* streamMessage(ctx.em, chatDeps(ctx), { ...input, actor: ctx.user, signal });
    }),
});
