import { createServer, type Server } from 'node:http';
import { createApp } from './app.js';
import { openDatabaseOrExit } from './db/orm.js';
import { loadEnvOrExit } from './env.js';
import { exitOnEmbeddingMismatch, onShutdownSignal } from './lifecycle.js';
import { createLogger } from './logger.js';
import { createApiRedis } from './redis.js';

const { env, warnings } = loadEnvOrExit();
const logger = createLogger(env);
for (const warning of warnings) logger.warn(warning);

const orm = await openDatabaseOrExit(env, logger);
await exitOnEmbeddingMismatch(orm, env.EMBEDDING_DIM, logger);
const redis = createApiRedis(env.REDIS_URL);
redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
// Give Redis a moment to connect before taking requests (its commands fail fast until then, and
// request budgets would be counted in memory); if it is down, start anyway: /ready says 503.
const redisReady = await Promise.race([
  new Promise<boolean>((resolve) => redis.once('ready', () => resolve(true))),
  new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000).unref()),
]);
if (!redisReady)
  logger.warn('Redis is not reachable yet: starting anyway (GET /ready answers 503 until it is)');

const { handler, services } = createApp({ env, orm, redis, logger });
const server: Server = createServer(handler).listen(env.PORT, env.HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  logger.info({ port, host: env.HOST }, 'MIRIX-TS API listening');
});
server.on('error', (err) => {
  logger.fatal({ err }, 'could not start the HTTP server');
  process.exit(1);
});

/** Stop accepting, let in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), then close ORM and Redis. */
async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
  const force = setTimeout(() => {
    logger.error(
      { timeoutMs: env.SHUTDOWN_TIMEOUT_MS },
      'in-flight requests did not finish in time; closing them',
    );
    server.closeAllConnections();
  }, env.SHUTDOWN_TIMEOUT_MS);
  force.unref();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  clearTimeout(force);
  await services.queues.close();
  await services.memoryEvents.close();
  await orm.close();
  await redis.quit().catch(() => redis.disconnect());
  logger.info('shutdown complete');
}

onShutdownSignal(logger, shutdown);
