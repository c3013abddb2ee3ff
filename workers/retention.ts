import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './metrics.js';
import { everyInterval } from './periodic.js';
import { purgeJobInputs } from '../server/modules/consolidation/index.js';
import { pruneHistory } from '../server/modules/memory/index.js';

export interface RetentionOptions {
  orm: MikroORM;
  log: Logger;
  /** Days after a job finished before its input is purged; 0 keeps inputs. */
  jobInputDays: number;
  /** Days a history version is kept for sure; 0 keeps history. */
  historyDays: number;
  /** Each item's newest versions, kept whatever their age. */
  historyKeepVersions: number;
  intervalMs: number;
  metrics?: WorkerMetrics;
  /** Rows per statement, so one run never holds long locks. */
  batch?: number;
}

/**
 * Retention: finished consolidation jobs lose their raw input (the conversation or text they were
 * given) `jobInputDays` after they finished, keeping status, usage and changes; memory history
 * versions older than `historyDays` are deleted unless they are among their item's last
 * `historyKeepVersions`. Runs in batches until nothing is left, then reports to /metrics.
 */
export function startRetention(opts: RetentionOptions) {
  const batch = opts.batch ?? 5000;
  const log = opts.log.child({ task: 'retention' });

  async function runOnce(): Promise<{ jobInputs: number; history: number }> {
    const em = opts.orm.em.fork();
    let jobInputs = 0;
    let history = 0;
    // In batches, until a batch comes back short.
    let n: number;
    if (opts.jobInputDays > 0) {
      do {
        n = await purgeJobInputs(em, { days: opts.jobInputDays, batch });
        jobInputs += n;
      } while (n === batch);
    }
    if (opts.historyDays > 0) {
      do {
        n = await pruneHistory(em, { days: opts.historyDays, keepVersions: opts.historyKeepVersions, batch });
        history += n;
      } while (n === batch);
    }
    opts.metrics?.retentionRemoved.inc({ kind: 'job_inputs' }, jobInputs);
    opts.metrics?.retentionRemoved.inc({ kind: 'history' }, history);
    opts.metrics?.retentionLastRun.set(Date.now() / 1000);
    if (jobInputs || history) log.info({ jobInputs, history }, 'retention applied');
    return { jobInputs, history };
  }

  const safeRun = async () => {
    try {
      return await runOnce();
    } catch (err) {
      log.warn({ err }, 'retention failed; will try again');
      return { jobInputs: 0, history: 0 };
    }
  };
  const timer = everyInterval(opts.intervalMs, safeRun);
  return { run: runOnce, stop: () => timer.stop() };
}
