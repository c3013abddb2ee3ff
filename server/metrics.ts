import type { RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import type { NodeMiddleware } from './http-front.js';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { LlmUsage } from './llm/types.js';
import { QUEUES } from '../shared/jobs/index.js';

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * `mirix_llm_tokens_total{provider,kind}` on a registry, as a recorder: the API counts chat
 * turns' tokens with it, the worker the memory managers'.
 */
export function llmTokenRecorder(registry: Registry, help: string) {
  const tokens = new Counter({
    name: 'mirix_llm_tokens_total',
    help,
    labelNames: ['provider', 'kind'] as const,
    registers: [registry],
  });
  return (provider: string, usage: LlmUsage | null): void => {
    if (!usage) return;
    tokens.inc({ provider, kind: 'prompt' }, usage.promptTokens);
    tokens.inc({ provider, kind: 'completion' }, usage.completionTokens);
  };
}

/** The queue counts `/metrics` reports (JobQueues provides them). */
export interface QueueCounter {
  counts(queue: string): Promise<Record<string, number>>;
}

/**
 * The API process's Prometheus metrics, on a registry of its own (so tests can run several apps):
 * Node's defaults, tRPC calls by procedure, HTTP requests by route, queue depth per queue (read
 * from Redis at scrape time) and LLM tokens per provider.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly procedureDuration = new Histogram({
    name: 'mirix_trpc_procedure_duration_seconds',
    help: 'tRPC procedure calls: time to result (for subscriptions, to the stream opening), by outcome code',
    labelNames: ['procedure', 'type', 'code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly errors = new Counter({
    name: 'mirix_trpc_errors_total',
    help: 'tRPC procedure calls that failed, by error code',
    labelNames: ['procedure', 'code'] as const,
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: 'mirix_http_request_duration_seconds',
    help: 'HTTP requests, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  /** Counts a chat turn's tokens per provider. */
  readonly recordLlmUsage = llmTokenRecorder(
    this.registry,
    'LLM tokens used by chat turns, by provider and kind',
  );

  constructor(queues: QueueCounter, log: Logger) {
    collectDefaultMetrics({ register: this.registry, prefix: 'mirix_' });
    new Gauge({
      name: 'mirix_queue_jobs',
      help: 'Jobs per BullMQ queue and state, read from Redis when scraped',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const queue of Object.values(QUEUES)) {
          try {
            for (const [state, n] of Object.entries(await queues.counts(queue)))
              this.set({ queue, state }, n);
          } catch (err) {
            // A scrape during a Redis outage reports what it can; the outage shows in /ready.
            log.warn({ err, queue }, 'could not read queue counts for /metrics');
          }
        }
      },
    });
  }

  /** Records one tRPC call; `code` is `OK` or the tRPC error code. */
  observeProcedure({
    procedure,
    type,
    code,
    seconds,
  }: {
    procedure: string;
    type: string;
    code: string;
    seconds: number;
  }): void {
    this.procedureDuration.observe({ procedure, type, code }, seconds);
    if (code !== 'OK') this.errors.inc({ procedure, code });
  }

  /** Times every HTTP request; the route label is bounded (no ids or query strings). */
  httpMiddleware(): NodeMiddleware {
    return (req: IncomingMessage & { originalUrl?: string }, res, next) => {
      const end = this.httpDuration.startTimer();
      res.on('finish', () => {
        const path = (req.originalUrl ?? req.url ?? '').split('?')[0] ?? '';
        const prefix = ROUTE_PREFIXES.find((p) => path === p || path.startsWith(`${p}/`));
        const route = prefix ?? (KNOWN_ROUTES.has(path) ? path : 'other');
        end({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    };
  }

  /** The `/metrics` endpoint. */
  handler(): RequestHandler {
    return (_req, res, next) => {
      this.registry
        .metrics()
        .then((body) => res.type(this.registry.contentType).send(body))
        .catch(next);
    };
  }
}

const KNOWN_ROUTES = new Set(['/health', '/ready', '/metrics', '/api/openapi.json']);
/** Routes counted by prefix (the procedure histograms tell their calls apart). */
const ROUTE_PREFIXES = ['/trpc', '/api/v1', '/docs', '/admin/queues'];
