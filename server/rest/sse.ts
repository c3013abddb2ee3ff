import type { Request, RequestHandler } from 'express';
import type { z } from 'zod';
import type { AppServices } from '../services.js';
import { contextOfRequest } from '../trpc/context.js';
import { appRouter } from '../trpc/routers/_app.js';
import { httpErrorOf, requestIdOf, writeHttpError } from '../http-errors.js';
import { renameFields } from './field-names.js';

/** A comment line now and then keeps proxies from closing a quiet stream. */
const PING_MS = 10_000;
/** Like tRPC's own SSE: a stream ends after this long (with [DONE]); clients open a new one. */
const MAX_DURATION_MS = 5 * 60_000;

type Caller = ReturnType<typeof appRouter.createCaller>;

/**
 * A subscription as plain Server-Sent Events for REST clients. Each event is one `data: {json}`
 * line whose `event` field is the event's type, in snake_case like the rest of the REST API; the
 * stream ends with `data: [DONE]`. The subscription's procedure runs through the same middleware
 * as over tRPC (authentication, request budget, ownership), before the stream opens, so those
 * failures are ordinary JSON errors with their status. A client closing the connection aborts the
 * subscription.
 */
export function sseRoute<P extends Record<string, string>>(
  services: AppServices,
  opts: {
    name: string;
    /** The events' schema (for their REST field names). */
    events: z.ZodType;
    open: (caller: Caller, req: Request<P>) => Promise<AsyncIterable<unknown>>;
    /** What to send if the subscription itself throws mid-stream (a bug's path). */
    onFailure?: { type: string } & Record<string, unknown>;
  },
): RequestHandler<P> {
  return async (req, res) => {
    const abort = new AbortController();
    const onClose = () => abort.abort();
    res.on('close', onClose);

    let events: AsyncIterable<unknown>;
    try {
      events = await opts.open(
        appRouter.createCaller(contextOfRequest(services, req), { signal: abort.signal }),
        req,
      );
    } catch (err) {
      res.off('close', onClose);
      writeHttpError(res, httpErrorOf(err, { requestId: requestIdOf(req), log: req.log }));
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
    const deadline = setTimeout(() => abort.abort(), MAX_DURATION_MS);
    const send = (event: unknown) => {
      const { type, ...fields } = renameFields(opts.events, event, 'out') as { type: string };
      res.write(`data: ${JSON.stringify({ event: type, ...fields })}\n\n`);
    };
    try {
      for await (const event of events) {
        send(event);
        if (abort.signal.aborted) break;
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        req.log.error({ err }, `${opts.name} failed`);
        if (opts.onFailure) send(opts.onFailure);
      }
    } finally {
      clearInterval(ping);
      clearTimeout(deadline);
      res.off('close', onClose);
      if (!res.writableEnded) res.end('data: [DONE]\n\n');
    }
  };
}
