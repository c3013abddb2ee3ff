import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { RequestHandler, Router } from 'express';
import type { AppServices } from './app.js';
import { AppError } from './errors.js';
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

/** Superusers only: 401 without valid credentials, 403 for everyone else. */
function superusersOnly(services: AppServices): RequestHandler {
  return (req, res, next) => {
    const credential = credentialOf(req);
    if (!credential) {
      res.status(401).json({ error: { code: 'UNAUTHORIZED', message: 'Authentication required' } });
      return;
    }
    authenticate(services.orm.em.fork(), services.tokens, credential)
      .then((user) => {
        if (user.isSuperuser) return next();
        res.status(403).json({ error: { code: 'FORBIDDEN', message: 'Superuser only' } });
      })
      .catch((err: unknown) => {
        if (err instanceof AppError) {
          res.status(401).json({ error: { code: 'UNAUTHORIZED', message: err.message } });
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
