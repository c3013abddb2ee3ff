import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { RequestHandler, Response, Router } from 'express';
import type { AppServices } from './services.js';
import { AppError, AppErrorCode } from './errors.js';
import { isApiKey } from './modules/auth/api-keys.js';
import { spendAnonymous, spendBudget } from './rest/public-route.js';
import { authenticate } from './modules/auth/auth.service.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** The bearer header, or the `mirix_token` cookie a browser session sends along by itself. */
function credentialOf(req: Parameters<RequestHandler>[0]): string | null {
  const header = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (header) return header;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'mirix_token' && value.length) return decodeURIComponent(value.join('='));
  }
  return null;
}

/**
 * Superusers only: 401 without valid credentials, 403 for everyone else. Requests spend the
 * caller's budget like any API call (the address's anonymous budget when the credentials fail).
 */
function superusersOnly(services: AppServices): RequestHandler {
  const unauthorized = (res: Response, message: string) =>
    res.status(401).json({ error: { code: 'UNAUTHORIZED', message } });
  return (req, res, next) => {
    const credential = credentialOf(req);
    if (!credential) {
      spendBudget(req, res, next, spendAnonymous(services, req), () =>
        unauthorized(res, 'Authentication required'),
      );
      return;
    }
    authenticate(services.orm.em.fork(), services.tokens, credential)
      .then((user) => {
        const apiKey = isApiKey(credential) ? credential : null;
        spendBudget(req, res, next, services.requestLimiter.consumeCaller(user.id, apiKey), () => {
          if (user.isSuperuser) return next();
          res.status(403).json({ error: { code: 'FORBIDDEN', message: 'Superuser only' } });
        });
      })
      .catch((err: unknown) => {
        if (err instanceof AppError && err.code === AppErrorCode.Unauthorized) {
          spendBudget(req, res, next, spendAnonymous(services, req), () => unauthorized(res, err.message));
          return;
        }
        next(err);
      });
  };
}

/** bull-board over the API's queues, at /admin/queues, behind the superuser check. */
export function queueDashboard(services: AppServices, queues: Queue[]): [RequestHandler, Router] {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
  return [superusersOnly(services), adapter.getRouter() as Router];
}
