import { TRPCError } from '@trpc/server';
import type { RequestHandler } from 'express';
import { ZChatStreamEvent } from '../../shared/chat-events.js';
import type { AppServices } from '../app.js';
import { contextOfRequest } from '../trpc/context.js';
import { ZChatSendRequest } from '../trpc/routers/chat.router.js';
import { appRouter } from '../trpc/routers/_app.js';
import { restErrorOf } from './errors.js';
import { renameFields } from './field-names.js';
import { sendRestError } from './bridge.js';

/** A comment line now and then keeps proxies from closing a quiet stream. */
const PING_MS = 10_000;

/**
 * `POST /api/v1/agents/{agent_id}/stream-chat`: the `chat.stream` subscription as plain SSE, for
 * clients without a tRPC client. Each event is one `data: {json}` line whose `event` field is
 * start, thinking, memories, content, complete or error; then `data: [DONE]`. Authentication,
 * the request budget and the agent's ownership are checked before the stream opens, so those
 * failures are ordinary JSON errors with their status. Closing the connection stops the turn
 * (the upstream LLM request is cancelled and the partial answer is kept, as with tRPC).
 */
export function streamChat(services: AppServices): RequestHandler<{ agentId: string }> {
  return async (req, res) => {
    const requestId = typeof req.id === 'string' ? req.id : null;
    const abort = new AbortController();
    const onClose = () => abort.abort();
    res.on('close', onClose);

    const input = renameFields(ZChatSendRequest, { ...(req.body ?? {}), agent_id: req.params.agentId }, 'in');
    let events: AsyncIterable<unknown>;
    try {
      const caller = appRouter.createCaller(contextOfRequest(services, req), { signal: abort.signal });
      events = await caller.chat.stream(input as Parameters<typeof caller.chat.stream>[0]);
    } catch (err) {
      res.off('close', onClose);
      const error =
        err instanceof TRPCError ? err : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: err });
      sendRestError(res, restErrorOf(error, requestId));
      return;
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const ping = setInterval(() => res.write(': ping\n\n'), PING_MS);
    const send = (event: unknown) => {
      const { type, ...fields } = renameFields(ZChatStreamEvent, event, 'out') as { type: string };
      res.write(`data: ${JSON.stringify({ event: type, ...fields })}\n\n`);
    };
    try {
      for await (const event of events) send(event);
    } catch (err) {
      // The chat service ends every stream with complete or error itself; this is a bug's path.
      req.log.error({ err }, 'stream-chat failed');
      send({ type: 'error', code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
    } finally {
      clearInterval(ping);
      res.off('close', onClose);
      if (!res.writableEnded) res.end('data: [DONE]\n\n');
    }
  };
}
