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
