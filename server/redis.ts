import type { RedisOptions as WorkerRedisOptions } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * The API's Redis connection. Commands fail at once while Redis is down (no offline queue), so
 * requests answer 503 instead of hanging; ioredis keeps reconnecting in the background.
 */
export function createApiRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
}

/**
 * Plain connection options for BullMQ workers (and their queues): BullMQ opens and closes its
 * own connections from these, so the process can exit; `maxRetriesPerRequest: null` lets blocking
 * commands wait through a Redis restart instead of failing the worker.
 */
export function workerRedisOptions(url: string): WorkerRedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: (attempt: number) => Math.min(attempt * 500, 5000),
  };
}
