import type { MikroORM } from '@mikro-orm/postgresql';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import express, { type ErrorRequestHandler } from 'express';
import type { IncomingMessage, RequestListener } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { MemoryEventHub } from './modules/consolidation/memory-events.js';
import { Metrics } from './metrics.js';
import { QUEUE_DASHBOARD_PATH, queueDashboard } from './queue-dashboard.js';
import { QUEUES } from '../shared/jobs/index.js';
import { RequestLimiter } from './modules/auth/request-limiter.js';
import responseTime from 'response-time';
import type { Env } from './env.js';
import { checkReadiness } from './health.js';
import { retryAfterOf } from './trpc/middleware/errors.js';
import { isUnavailable } from './errors.js';
import { webApp } from './web-app.js';
import { serverTimingHeader } from './server-timing.js';
import swaggerUi from 'swagger-ui-express';
import { REST_PREFIX, restBridge } from './rest/bridge.js';
import { publicRoute } from './rest/public-route.js';
import { buildOpenApiDocument, DOCS_PATH, OPENAPI_PATH } from './rest/openapi.js';
import { consolidateJobOptions, JobQueues } from './jobs/queues.js';
import { LoginLimiter } from './modules/auth/login-limiter.js';
import {
  createEmbeddingProvider,
  type EmbeddingEnv,
  type EmbeddingProvider,
} from './modules/embeddings/embedding.provider.js';
import type { ChatEnv } from './modules/chat/chat.service.js';
import { VaultCipher } from './modules/memory/vault-cipher.js';
import { TokenService } from './modules/auth/tokens.js';
import { createContextFactory } from './trpc/context.js';
import { frontHandler, type NodeMiddleware } from './http-front.js';
import { appRouter } from './trpc/routers/_app.js';

export type AppEnv = Pick<
  Env,
  | 'JWT_SECRET'
  | 'ACCESS_TOKEN_TTL_SECONDS'
  | 'LOGIN_MAX_FAILURES'
  | 'LOGIN_MAX_FAILURES_PER_ADDRESS'
  | 'LOGIN_MAX_FAILURES_PER_ACCOUNT'
  | 'LOGIN_FAILURE_WINDOW_SECONDS'
  | 'TRUST_PROXY'
  | 'VAULT_KEYS'
  | 'QUEUE_PREFIX'
  | 'CONSOLIDATE_ATTEMPTS'
  | 'RATE_LIMIT_PER_USER'
  | 'RATE_LIMIT_AUTH_PER_ADDRESS'
  | 'RATE_LIMIT_ANONYMOUS_PER_ADDRESS'
  | 'RATE_LIMIT_WINDOW_SECONDS'
  | 'CONSOLIDATE_BACKOFF_MS'
  | EmbeddingEnvKeys
  | keyof ChatEnv
>;
type EmbeddingEnvKeys = keyof EmbeddingEnv;

export interface AppDeps {
  env: AppEnv;
  orm: MikroORM;
  /** The API's Redis connection (fail-fast: `enableOfflineQueue: false`). */
  redis: Redis;
  logger: Logger;
  /** Namespace for this app's Redis keys (tests give each app its own). */
  redisKeyPrefix?: string;
  /** The built web app to serve at / (default: web/dist beside the server). */
  webRoot?: string;
}

/** Long-lived collaborators that procedures reach through `ctx.services`. */
export interface AppServices {
  orm: MikroORM;
  redis: Redis;
  tokens: TokenService;
  loginLimiter: LoginLimiter;
  cipher: VaultCipher;
  queues: JobQueues;
  embeddings: EmbeddingProvider;
  /** LLM and chat settings (providers are created per turn from the agent's modelConfig). */
  chatEnv: ChatEnv;
  /** Relays consolidation job events from Redis to `memory.events` streams. */
  memoryEvents: MemoryEventHub;
  metrics: Metrics;
  requestLimiter: RequestLimiter;
  /** The client's address, X-Forwarded-For honoured as far as TRUST_PROXY allows. */
  clientAddress: (req: IncomingMessage) => string;
}

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
  const queues = new JobQueues(deps.redis, env.QUEUE_PREFIX, undefined, {
    consolidate: consolidateJobOptions(env),
  });
  const services: AppServices = {
    cipher: new VaultCipher(env.VAULT_KEYS),
    queues,
    embeddings: createEmbeddingProvider(env),
    chatEnv: env,
    memoryEvents: new MemoryEventHub(deps.redis, env.QUEUE_PREFIX, logger),
    metrics: new Metrics(queues, logger),
    requestLimiter: new RequestLimiter(deps.redis, {
      perUser: env.RATE_LIMIT_PER_USER,
      authPerAddress: env.RATE_LIMIT_AUTH_PER_ADDRESS,
      anonymousPerAddress: env.RATE_LIMIT_ANONYMOUS_PER_ADDRESS,
      windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
      keyPrefix: deps.redisKeyPrefix ?? 'mirix',
    }),
    orm: deps.orm,
    redis: deps.redis,
    tokens: new TokenService(env.JWT_SECRET, env.ACCESS_TOKEN_TTL_SECONDS),
    loginLimiter: new LoginLimiter(deps.redis, {
      maxFailuresPerAccount: env.LOGIN_MAX_FAILURES,
      maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_ADDRESS,
      maxFailuresPerAccountAllAddresses: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
      keyPrefix: deps.redisKeyPrefix ?? 'mirix',
    }),
    clientAddress: (req) => proxyAddr(req, trusted),
  };

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

  // The web app (web/), built: one process and one port serve the API and the pages.
  app.use(webApp(deps.webRoot));

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'No such route' } });
  });

  const onError: ErrorRequestHandler = (err: { status?: unknown; expose?: unknown }, req, res, _next) => {
    // A database or Redis that is down is a 503 here too, as in toTRPCError.
    if (isUnavailable(err)) {
      req.log.warn({ err }, 'a backing service is unavailable');
      res.status(503).json({
        error: {
          code: 'SERVICE_UNAVAILABLE',
          message: 'A backing service is unavailable; try again',
          requestId: req.id as string,
        },
      });
      return;
    }
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status >= 500) req.log.error({ err }, 'unhandled error');
    res.status(status).json({
      error: {
        code: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST',
        message: status >= 500 ? 'Internal server error' : 'Bad request',
        requestId: req.id as string,
      },
    });
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
