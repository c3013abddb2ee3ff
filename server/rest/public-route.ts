import { TRPCError } from '@trpc/server';
import type { RequestHandler } from 'express';
import type { AppServices } from '../app.js';
import { AppError } from '../errors.js';
import { restErrorOf } from './errors.js';
import { sendRestError } from './bridge.js';

/** A route anyone may call (the API docs): each call spends the client address's anonymous budget. */
export function publicRoute(services: Pick<AppServices, 'requestLimiter'>): RequestHandler {
  return (req, res, next) => {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    services.requestLimiter.consumeAnonymous(address).then(
      () => next(),
      (err: unknown) => {
        if (!(err instanceof AppError)) return next(err);
        const error = new TRPCError({ code: 'TOO_MANY_REQUESTS', message: err.message, cause: err });
        sendRestError(res, restErrorOf(error, typeof req.id === 'string' ? req.id : null));
      },
    );
  };
}
