import { z } from 'zod';
import { sendMessage } from '../../modules/chat/chat.service.js';
import { MEMORY_TYPES } from '../../modules/memory/memory.types.js';
import { authedProcedure, router } from '../init.js';

export const ZChatSendRequest = z.object({
  agentId: z.uuid(),
  message: z.string().trim().min(1, 'required').max(32_000),
  /** Extra facts for this turn only (page, locale, ...), shown to the model as context. */
  context: z.record(z.string(), z.unknown()).nullish(),
});

const ZUsage = z.object({ promptTokens: z.number(), completionTokens: z.number(), totalTokens: z.number() });

export const chatRouter = router({
  /** One turn: retrieve memories, ask the agent's model, save both messages. */
  send: authedProcedure
    .input(ZChatSendRequest)
    .output(
      z.object({
        response: z.string(),
        userMessageId: z.uuid(),
        assistantMessageId: z.uuid(),
        memoriesUsed: z.array(z.object({ id: z.uuid(), type: z.enum(MEMORY_TYPES) })),
        usage: ZUsage.nullable(),
      }),
    )
    .mutation(({ ctx, input }) =>
      sendMessage(
        ctx.em,
        ctx.user,
        { env: ctx.services.chatEnv, embeddings: ctx.services.embeddings, queues: ctx.services.queues, log: ctx.log },
        input,
      ),
    ),
});
