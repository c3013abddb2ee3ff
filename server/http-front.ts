import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import Router from 'router';
import { plainHttpError, requestIdOf, writeHttpError } from './http-errors.js';

/** A Connect-style middleware that works on plain Node requests (no Express extensions). */
export type NodeMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

export interface FrontOptions {
  /** Run first for every request: metrics, Server-Timing, request id and log line. */
  common: NodeMiddleware[];
  /** tRPC's Node handler, given the requests under /trpc with that prefix removed from the URL. */
  trpc: (req: IncomingMessage, res: ServerResponse) => void;
  /** Everything else: the REST bridge, docs, health, the web app, 404s. */
  app: NodeMiddleware;
  logger: Logger;
}

/**
 * The server's request listener. tRPC calls, nearly all the traffic, go from the common middleware
 * straight to tRPC's Node handler; every other route goes on to the Express app. Express's
 * per-request prototypes slow the GC (docs/decisions/0004-trpc-outside-express.md).
 */
export function frontHandler(opts: FrontOptions): RequestListener {
  const front = new Router();
  for (const middleware of opts.common) front.use(middleware);
  front.use('/trpc', (req: IncomingMessage, res: ServerResponse) => opts.trpc(req, res));
  front.use(opts.app);
  return (req, res) => {
    front(req, res, (err?: unknown) => {
      // Only a failure in the common middleware gets here: tRPC and Express answer everything else.
      if (err) opts.logger.error({ err }, 'unhandled error');
      if (res.headersSent) return void res.end();
      const requestId = requestIdOf(req);
      writeHttpError(
        res,
        err
          ? plainHttpError({ status: 500, message: 'Internal server error', requestId })
          : plainHttpError({ status: 404, message: 'No such route', requestId }),
      );
    });
  };
}
