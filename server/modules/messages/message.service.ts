import type { EntityManager } from '@mikro-orm/postgresql';
import { getOwnedAgent } from '../agents/index.js';
import type { User } from '../users/index.js';
import { Message } from './message.entity.js';
import type { TListMessagesRequest, TMessageResponse } from './message.schema.js';
import { decodeCursor, pageOf, timeCursorOf } from '../../pagination.js';

export function toMessageResponse(message: Message): TMessageResponse {
  return {
    id: message.id,
    agentId: message.agent.id,
    role: message.role,
    content: message.content,
    senderId: message.senderId,
    tokenUsage: message.tokenUsage,
    status: message.metadata?.status ?? 'complete',
    error: message.metadata?.error ?? null,
    // Rows written before titles were kept hold bare ids: those are left out.
    memoriesUsed: (message.metadata?.memoriesUsed ?? []).filter((m) => typeof m === 'object'),
    createdAt: message.createdAt,
  };
}

/**
 * One page of an agent's messages, oldest first. Keyset pagination on (createdAt, id) keeps pages
 * stable while new messages arrive.
 */
export async function listMessages(
  em: EntityManager,
  actor: User,
  input: TListMessagesRequest,
): Promise<{ items: Message[]; nextCursor: string | null }> {
  const agent = await getOwnedAgent(em, actor, input.agentId);
  const from = input.cursor ? decodeCursor(input.cursor) : null;
  // A page continues past the cursor in the page's order: later messages, or earlier ones.
  const past = input.order === 'newest' ? '$lt' : '$gt';
  const rows = await em.find(
    Message,
    {
      agent,
      ...(from && {
        $or: [{ createdAt: { [past]: from.time } }, { createdAt: from.time, id: { [past]: from.id } }],
      }),
    },
    {
      orderBy: input.order === 'newest' ? { createdAt: 'desc', id: 'desc' } : { createdAt: 'asc', id: 'asc' },
      limit: input.limit + 1,
    },
  );
  return pageOf(rows, { limit: input.limit, cursorOf: timeCursorOf((m) => m.createdAt) });
}
