import type { RequestHandler } from 'express';
import { ZChatStreamEvent } from '../../shared/chat-events.js';
import { ZMemoryJobEvent } from '../../shared/memory-events.js';
import type { AppServices } from '../services.js';
import { ZChatSendRequest } from '../modules/chat/index.js';
import { renameFields } from './field-names.js';
import { sseRoute } from './sse.js';

/**
 * `POST /api/v1/agents/{agent_id}/stream-chat`: `chat.stream` as plain SSE. Events: start,
 * thinking, memories, content (many), then complete or error; then `data: [DONE]`. Closing the
 * connection stops the turn (the upstream LLM request is cancelled and the partial answer is kept).
 */
export const streamChat = (services: AppServices): RequestHandler<{ agentId: string }> =>
  sseRoute(services, {
    name: 'stream-chat',
    events: ZChatStreamEvent,
    open: (caller, req) => {
      const input = renameFields(
        ZChatSendRequest,
        { ...(req.body ?? {}), agent_id: req.params.agentId },
        'in',
      );
      return caller.chat.stream(input as Parameters<typeof caller.chat.stream>[0]);
    },
    // The chat service ends every stream with complete or error itself; this is a bug's path.
    onFailure: { type: 'error', code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' },
  });

/**
 * `GET /api/v1/agents/{agent_id}/memories/events`: `memory.events` as plain SSE. Events: queued,
 * active, completed (with its changes) and failed, for the agent's consolidation jobs, as they
 * happen; the stream stays open (a ping every 10 s) until the client leaves or 5 minutes pass.
 */
export const memoryEvents = (services: AppServices): RequestHandler<{ agentId: string }> =>
  sseRoute(services, {
    name: 'memory-events',
    events: ZMemoryJobEvent,
    open: (caller, req) => caller.memory.events({ agentId: req.params.agentId }),
  });
