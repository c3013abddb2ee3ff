import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Job, Worker } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { llmTokenRecorder } from '../server/metrics.js';

/**
 * The worker process's Prometheus metrics: Node's defaults, job durations per queue and outcome,
 * and the memory managers' LLM tokens per provider. Served by `serve()` on WORKER_METRICS_PORT.
 */
export class WorkerMetrics {
  readonly registry = new Registry();

  private readonly jobDuration = new Histogram({
    name: 'mirix_job_duration_seconds',
    help: 'Background jobs, from start to finish, by queue and outcome',
    labelNames: ['queue', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  /** What retention removed (workers/retention.ts), by kind: job inputs purged, history rows deleted. */
  readonly retentionRemoved = new Counter({
    name: 'mirix_retention_removed_total',
    help: 'Rows retention purged or deleted, by kind (job_inputs, history)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly retentionLastRun = new Gauge({
    name: 'mirix_retention_last_run_timestamp_seconds',
    help: 'When retention last ran to completion (Unix time)',
    registers: [this.registry],
  });

  /** Chat turns the worker marked failed because they ended without an answer or an error. */
  readonly turnsAbandoned = new Counter({
    name: 'mirix_chat_turns_abandoned_total',
    help: 'User messages left pending by a turn that ended without recording how, marked failed',
    registers: [this.registry],
  });

  /** Counts a job's tokens per provider. */
  readonly recordLlmUsage = llmTokenRecorder(
    this.registry,
    'LLM tokens used by the memory managers, by provider and kind',
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mirix_' });
  }

  /** Times the worker's jobs (a job put back to wait for its turn is not counted). */
  watch(queue: string, worker: Worker): void {
    const observe = (job: Job | undefined, status: 'completed' | 'failed') => {
      if (job?.processedOn)
        this.jobDuration.observe({ queue, status }, (Date.now() - job.processedOn) / 1000);
    };
    worker.on('completed', (job) => observe(job, 'completed'));
    worker.on('failed', (job) => observe(job, 'failed'));
  }

  /** Serves GET /metrics on `port` (0: any free port); resolves with the bound port and a closer. */
  async serve(port: number, host: string): Promise<{ port: number; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body))
        .catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
