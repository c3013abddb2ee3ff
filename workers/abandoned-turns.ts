import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { failAbandonedTurns } from '../server/modules/chat/index.js';
import type { WorkerMetrics } from './metrics.js';
import { everyInterval } from './periodic.js';

export interface AbandonedTurnsOptions {
  orm: MikroORM;
  log: Logger;
  /** A user message pending longer than this is marked failed. */
  abandonAfterMs: number;
  metrics?: WorkerMetrics;
}

/**
 * Marks failed the chat turns that ended without recording how: the API saves the user's message
 * as pending before anything else, and an answer or a failure replaces that mark; when the
 * database went away mid-turn (or the API process died) neither could be written. Runs every half
 * of `abandonAfterMs`, at most every minute; a failed run is retried at the next tick.
 */
export function startAbandonedTurnSweep(opts: AbandonedTurnsOptions) {
  const log = opts.log.child({ task: 'abandoned-turns' });
  async function runOnce(): Promise<number> {
    const batch = 500;
    let marked = 0;
    for (;;) {
      const n = await failAbandonedTurns(opts.orm.em.fork(), { olderThanMs: opts.abandonAfterMs, batch });
      marked += n;
      if (n < batch) break;
    }
    opts.metrics?.turnsAbandoned.inc(marked);
    if (marked) log.warn({ marked }, 'marked chat turns that ended without an answer as failed');
    return marked;
  }
  const intervalMs = Math.min(60_000, Math.max(500, Math.floor(opts.abandonAfterMs / 2)));
  const timer = everyInterval(intervalMs, () =>
    runOnce().catch((err: unknown) => log.warn({ err }, 'abandoned-turn sweep failed; will try again')),
  );
  return { run: runOnce, stop: () => timer.stop() };
}
