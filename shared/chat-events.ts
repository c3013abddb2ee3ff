import { z } from 'zod';

/** The events of `chat.stream`, in order: start, thinking, memories, content (many), then complete or error. */
export const ZChatStreamEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), agentId: z.string(), userMessageId: z.string(), timestamp: z.date() }),
  z.object({ type: z.literal('thinking') }),
  z.object({
    type: z.literal('memories'),
    items: z.array(z.object({ id: z.string(), type: z.string(), title: z.string() })),
  }),
  z.object({ type: z.literal('content'), delta: z.string() }),
  z.object({
    type: z.literal('complete'),
    message: z.string(),
    assistantMessageId: z.string(),
    usage: z
      .object({ promptTokens: z.number(), completionTokens: z.number(), totalTokens: z.number() })
      .nullable(),
  }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type ChatStreamEvent = z.infer<typeof ZChatStreamEvent>;
