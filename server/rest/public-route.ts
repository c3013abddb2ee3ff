import { TRPCError } from '@trpc/server';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppServices } from '../services.js';
import { AppError, AppErrorCode } from '../errors.js';
import { restErrorOf, sendRestError } from './errors.js';

const addressOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/**
 * Awaits a request-budget check for a plain Express route: within budget `then()`; over budget a
 * 429 with Retry-After in the REST error shape; anything else goes to Express's error handler.
 */
export function spendBudget(
  req: Request,
  res: Response,
  next: NextFunction,
  check: Promise<void>,
  then: () => void = () => next(),
): void {
  check.then(
    () => then(),
    (err: unknown) => {
      if (!(err instanceof AppError) || err.code !== AppErrorCode.TooManyRequests) return next(err);
      const error = new TRPCError({ code: 'TOO_MANY_REQUESTS', message: err.message, cause: err });
      sendRestError(res, restErrorOf(error, typeof req.id === 'string' ? req.id : null));
    },
  );
}

/** A route anyone may call (the API docs): each call spends the client address's anonymous budget. */
export function publicRoute(services: Pick<AppServices, 'requestLimiter'>): RequestHandler {
  return (req, res, next) => spendBudget(req, res, next, spendAnonymous(services, req));
}

/** The anonymous budget for a request whose credentials were missing or rejected. */
export const spendAnonymous = (services: Pick<AppServices, 'requestLimiter'>, req: Request) =>
  services.requestLimiter.consumeAnonymous(addressOf(req));
