import type { RequestListener } from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import express, { type ErrorRequestHandler } from 'express';
import type proxyAddr from 'proxy-addr';
import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import { QUEUE_DASHBOARD_PATH, queueDashboard } from './queue-dashboard.js';
import { QUEUES } from '../shared/jobs/index.js';
import responseTime from 'response-time';
import { checkReadiness } from './health.js';
import { retryAfterOf } from './trpc/middleware/errors.js';
import { httpErrorOf, plainHttpError, requestIdOf, wrongMethod, writeHttpError } from './http-errors.js';
import { webApp } from './web-app.js';
import { serverTimingHeader } from './server-timing.js';
import swaggerUi from 'swagger-ui-express';
import { REST_PREFIX, restBridge } from './rest/bridge.js';
import { MCP_PATH, mcpRoute } from './mcp/mcp.route.js';
import { publicRoute } from './rest/public-route.js';
import { buildOpenApiDocument, DOCS_PATH, OPENAPI_PATH } from './rest/openapi.js';
import { createContextFactory } from './trpc/context.js';
import { frontHandler, type NodeMiddleware } from './http-front.js';
import { appRouter } from './trpc/routers/_app.js';
import { type AppDeps, type AppServices, createServices } from './services.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Builds the server's request listener without listening, so tests and main.ts serve the same
 * thing: tRPC under /trpc, and an Express app for every other route (see http-front.ts).
 */
export function createApp(deps: AppDeps): { handler: RequestListener; services: AppServices } {
  const { env, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', env.TRUST_PROXY);
  // The same rule Express applies for req.ip, for the requests that do not go through Express.
  const trusted = app.get('trust proxy fn') as Parameters<typeof proxyAddr>[1];
  const services = createServices(deps, trusted);
  const { queues } = services;
  // What every request gets, tRPC or not.
  const common: NodeMiddleware[] = [
    services.metrics.httpMiddleware(),
    // The server's own time for each response (a standard header: browsers' devtools show it, and
    // bench:chat reads it to tell the server's overhead from the client's).
    responseTime((req, res, ms) => {
      res.setHeader('Server-Timing', serverTimingHeader(req, ms));
    }),
    pinoHttp({
      logger,
      genReqId(req, res) {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel(_req, res, err) {
        if (err || res.statusCode >= 500) return 'error';
        return 'info';
      },
      // Query strings can carry SSE connection params (tokens): log the path only.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
    }),
  ];

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Prometheus scrapes this; expose it on the internal network only (it names procedures and queues).
  app.get('/metrics', services.metrics.handler());

  app.get('/ready', async (req, res) => {
    const readiness = await checkReadiness(services, req.log);
    res
      .status(readiness.ready ? 200 : 503)
      .json({ status: readiness.ready ? 'ready' : 'unavailable', ...readiness });
  });

  app.use(
    QUEUE_DASHBOARD_PATH,
    ...queueDashboard(
      services,
      Object.values(QUEUES).map((name) => queues.queue(name)),
    ),
  );

  // The REST bridge for non-TypeScript clients, its OpenAPI document and interactive docs.
  let openApiDocument: ReturnType<typeof buildOpenApiDocument> | undefined;
  app.get(OPENAPI_PATH, publicRoute(services), (_req, res) => {
    res.json((openApiDocument ??= buildOpenApiDocument()));
  });
  app.use(
    DOCS_PATH,
    publicRoute(services),
    swaggerUi.serveFiles(undefined, { swaggerOptions: { url: OPENAPI_PATH } }),
    swaggerUi.setup(undefined, {
      customSiteTitle: 'MIRIX-TS API',
      swaggerOptions: { url: OPENAPI_PATH, persistAuthorization: false },
    }),
  );
  app.use(REST_PREFIX, restBridge(services));

  // The Model Context Protocol endpoint, for agents' MCP clients (docs/mcp.md).
  app.use(MCP_PATH, mcpRoute(services));

  // The web app (web/), built: one process and one port serve the API and the pages.
  app.use(webApp(deps.webRoot));

  // A wrong method on a fixed route is 405 naming the right one, not 404.
  for (const path of ['/health', '/ready', '/metrics', OPENAPI_PATH]) {
    app.all(path, (req, res) => {
      writeHttpError(
        res,
        wrongMethod({ method: req.method, path, allowed: ['GET'], requestId: requestIdOf(req) }),
      );
    });
  }
  app.use((req, res) => {
    writeHttpError(
      res,
      plainHttpError({ status: 404, message: 'No such route', requestId: requestIdOf(req) }),
    );
  });

  // eslint-disable-next-line max-params -- Express knows error middleware by its four parameters.
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    writeHttpError(res, httpErrorOf(err, { requestId: requestIdOf(req), log: req.log }));
  };
  app.use(onError);

  // Nearly all the traffic: served by tRPC's Node handler, outside Express (http-front.ts).
  const trpc = createHTTPHandler({
    router: appRouter,
    createContext: createContextFactory(services),
    maxBodySize: 1024 * 1024,
    // A rate-limited call says when to come back.
    responseMeta: ({ errors }) => {
      const waits = errors.flatMap((e) => retryAfterOf(e) ?? []);
      return waits.length ? { headers: { 'retry-after': String(Math.max(...waits)) } } : {};
    },
  });
  const handler = frontHandler({ common, trpc, app, logger });
  return { handler, services };
}
