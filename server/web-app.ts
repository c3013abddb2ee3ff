import express, { type Router } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:web` writes the web app (and `npm run build` beside the compiled server). */
export const WEB_ROOT = fileURLToPath(new URL('../web/dist/', import.meta.url));

/** Paths that are the API's, never the web app's (their unknown routes stay JSON 404s). */
const API_PREFIXES = ['/api/', '/trpc', '/docs', '/admin/queues', '/metrics', '/health', '/ready'];

/**
 * The built web app at `/`: hashed assets cached for good, and index.html (never cached) for any
 * other page a browser asks for, so client-side routes survive a reload. Without a build, `/`
 * says how to make one.
 */
export function webApp(root = WEB_ROOT): Router {
  const router = express.Router();
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    router.get('/', (_req, res) => {
      res
        .status(404)
        .type('text/plain')
        .send(
          'The web app is not built: run `npm run build:web` (or `npm run dev:web` for development on :3000).\n',
        );
    });
    return router;
  }
  router.use(
    '/assets',
    // A missing asset falls through to the JSON 404 (its request does not ask for HTML).
    express.static(join(root, 'assets'), { immutable: true, maxAge: '365d' }),
  );
  router.use(express.static(root, { index: false, maxAge: '1h' }));
  router.get('/{*page}', (req, res, next) => {
    if (API_PREFIXES.some((p) => req.path === p.replace(/\/$/, '') || req.path.startsWith(p))) return next();
    // Pages for browsers (which ask for HTML first); API clients (`*/*`, JSON) keep the JSON 404.
    if (req.accepts(['json', 'html']) !== 'html') return next();
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
