import { strictBoolean } from '../../rest/strict-boolean.js';
import { z } from 'zod';

/** One chat turn's request: `chat.send`, `chat.stream` and REST's stream-chat. */
export const ZChatSendRequest = z.object({
  agentId: z.uuid(),
  message: z.string().trim().min(1, 'required').max(32_000),
  /** Extra facts for this turn only (page, locale, ...), shown to the model as context. */
  context: z.record(z.string(), z.unknown()).nullish(),
  /** false: answer with memories, but do not give this turn to the memory managers. */
  remember: strictBoolean().default(true),
});
