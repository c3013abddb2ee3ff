import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './metrics.js';
import { everyInterval } from './periodic.js';

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
    if (opts.jobInputDays > 0) {
      for (;;) {
        const rows = await em.execute<{ id: string }[]>(
          `update memory_jobs set input = null, updated_at = now() where id in (
             select id from memory_jobs
             where status in ('completed', 'failed') and input is not null
               and finished_at < now() - make_interval(days => ?)
             limit ?)
           returning id`,
          [opts.jobInputDays, batch],
        );
        jobInputs += rows.length;
        if (rows.length < batch) break;
      }
    }
    if (opts.historyDays > 0) {
      for (;;) {
        const rows = await em.execute<{ id: string }[]>(
          `delete from memory_history where id in (
             select id from (
               select id, created_at,
                 row_number() over (partition by item_id order by created_at desc, id desc) as newest
               from memory_history) v
             where newest > ? and created_at < now() - make_interval(days => ?)
             limit ?)
           returning id`,
          [opts.historyKeepVersions, opts.historyDays, batch],
        );
        history += rows.length;
        if (rows.length < batch) break;
      }
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
