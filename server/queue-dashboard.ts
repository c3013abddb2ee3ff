import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { RequestHandler, Router } from 'express';
import type { AppServices } from './services.js';
import { AppError, AppErrorCode } from './errors.js';
import { httpErrorOf, requestIdOf, writeHttpError } from './http-errors.js';
import { authenticateRequest, credentialOf } from './modules/auth/index.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * Superusers only: 401 without valid credentials (the bearer header, or the `mirix_token` cookie a
 * browser session sends by itself), 403 for everyone else. Requests spend the caller's budget like
 * any API call (authenticateRequest).
 */
function superusersOnly(services: AppServices): RequestHandler {
  return (req, res, next) => {
    const fail = (err: unknown) =>
      writeHttpError(res, httpErrorOf(err, { requestId: requestIdOf(req), log: req.log }));
    authenticateRequest(
      services.orm.em.fork(),
      { tokens: services.tokens, limiter: services.requestLimiter },
      { credential: credentialOf(req.headers, { cookie: true }), ip: services.clientAddress(req) },
    ).then((user) => {
      if (user.isSuperuser) return next();
      fail(new AppError(AppErrorCode.Forbidden, 'Superuser only'));
    }, fail);
  };
}

/** bull-board over the API's queues, at /admin/queues, behind the superuser check. */
export function queueDashboard(services: AppServices, queues: Queue[]): [RequestHandler, Router] {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
  return [superusersOnly(services), adapter.getRouter() as Router];
}
