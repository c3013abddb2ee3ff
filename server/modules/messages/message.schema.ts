import { z } from 'zod';
import { MESSAGE_ROLES } from './message.entity.js';
import { MEMORY_TYPES } from '../memory/index.js';

export const ZListMessagesRequest = z.object({
  agentId: z.uuid(),
  /** Opaque: the `nextCursor` of the previous page. */
  cursor: z.string().max(200).nullish(),
  limit: z.number().int().min(1).max(200).default(50),
  /** `oldest` first (default), or `newest` first: a chat view's latest page, then earlier ones. */
  order: z.enum(['oldest', 'newest']).default('oldest'),
});
export type TListMessagesRequest = z.infer<typeof ZListMessagesRequest>;

export const ZMessageResponse = z.object({
  id: z.uuid(),
  agentId: z.uuid(),
  role: z.enum(MESSAGE_ROLES),
  content: z.string(),
  senderId: z.uuid().nullable(),
  tokenUsage: z
    .object({ promptTokens: z.number(), completionTokens: z.number(), totalTokens: z.number() })
    .nullable(),
  /**
   * A user message is `pending` while its turn runs and `failed` when the turn failed (the provider,
   * or the server losing its database mid-turn); an assistant message is `interrupted` when the
   * client left mid-stream.
   */
  status: z.enum(['pending', 'complete', 'failed', 'interrupted']),
  /** Why a turn failed (the same code and message the caller was given). */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** For an assistant message: the memories its prompt carried. */
  memoriesUsed: z.array(z.object({ id: z.uuid(), type: z.enum(MEMORY_TYPES), title: z.string() })),
  createdAt: z.date(),
});
export type TMessageResponse = z.infer<typeof ZMessageResponse>;

export const ZMessagePageResponse = z.object({
  items: z.array(ZMessageResponse),
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});
