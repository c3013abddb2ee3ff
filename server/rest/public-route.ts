import type { RequestHandler } from 'express';
import type { AppServices } from '../services.js';
import { httpErrorOf, requestIdOf, writeHttpError } from '../http-errors.js';

/**
 * A route anyone may call (the API docs): each call spends the client address's anonymous budget;
 * over budget it answers 429 with Retry-After, in the one error shape.
 */
export function publicRoute(services: Pick<AppServices, 'requestLimiter' | 'clientAddress'>): RequestHandler {
  return (req, res, next) => {
    services.requestLimiter.consumeAnonymous(services.clientAddress(req)).then(
      () => next(),
      (err: unknown) => writeHttpError(res, httpErrorOf(err, { requestId: requestIdOf(req), log: req.log })),
    );
  };
}
