import type { MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type CheckResult = { ok: true; latencyMs: number } | { ok: false; error: string };

export interface Readiness {
  ready: boolean;
  checks: { database: CheckResult; redis: CheckResult };
}

async function timed(
  { name, timeoutMs, log }: { name: string; timeoutMs: number; log: Logger },
  probe: () => Promise<unknown>,
): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    log.warn({ err, check: name }, 'readiness check failed');
    const message = err instanceof Error && err.message.startsWith('no answer') ? err.message : 'unreachable';
    return { ok: false, error: message };
  } finally {
    clearTimeout(timer);
  }
}

/** Asks PostgreSQL and Redis for an answer, concurrently, each within `timeoutMs`. */
export async function checkReadiness(
  deps: { orm: MikroORM; redis: Redis },
  log: Logger,
  timeoutMs = 2000,
): Promise<Readiness> {
  const [database, redis] = await Promise.all([
    timed({ name: 'database', timeoutMs, log }, () => deps.orm.em.execute('select 1')),
    timed({ name: 'redis', timeoutMs, log }, () => deps.redis.ping()),
  ]);
  return { ready: database.ok && redis.ok, checks: { database, redis } };
}
