import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { loadEmbeddable, writeVectors } from './memory.queries.js';
import type { EmbeddingProvider } from '../embeddings/index.js';

interface Waiter {
  ids: string[];
  resolve: (written: number) => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers the item ids of concurrent jobs into batches of `batchSize` texts (or whatever arrived
 * within `maxWaitMs`); per batch it loads the texts in one query, makes one provider call per
 * `batchSize` texts, and writes the vectors in one statement. At most `writers` batches run at
 * once; jobs arriving meanwhile wait and are batched together when a writer is free (each write
 * inserts into the HNSW graph, and many at once only contend for its pages). A failed batch fails
 * every job in it, so each is retried by the queue with backoff.
 */
export class EmbedBatcher {
  private waiting: Waiter[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  private readonly orm: MikroORM;
  private readonly provider: EmbeddingProvider;
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly maxWaitMs: number;
  private readonly writers: number;

  constructor(
    deps: { orm: MikroORM; provider: EmbeddingProvider; log: Logger },
    opts: { batchSize: number; maxWaitMs?: number; writers?: number },
  ) {
    ({ orm: this.orm, provider: this.provider, log: this.log } = deps);
    this.batchSize = opts.batchSize;
    this.maxWaitMs = opts.maxWaitMs ?? 20;
    this.writers = opts.writers ?? Number.POSITIVE_INFINITY;
  }

  /** Embeds and stores these items (those still needing it); resolves with how many were written. */
  submit(ids: string[]): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.waiting.push({ ids, resolve, reject });
      this.queued += ids.length;
      if (this.queued >= this.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  /** Starts batches of what is waiting while writers are free; the rest waits for the next free one. */
  private flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.waiting.length > 0 && this.inFlight.size < this.writers) {
      const waiters: Waiter[] = [];
      let ids = 0;
      while (this.waiting.length > 0 && (ids === 0 || ids + this.waiting[0]!.ids.length <= this.batchSize)) {
        const w = this.waiting.shift()!;
        waiters.push(w);
        ids += w.ids.length;
      }
      this.queued -= ids;
      const run: Promise<void> = this.run(waiters).finally(() => {
        this.inFlight.delete(run);
        if (this.waiting.length > 0) this.flush();
      });
      this.inFlight.add(run);
    }
  }

  private async run(waiters: Waiter[]) {
    try {
      const em = this.orm.em.fork();
      const pending = await loadEmbeddable(em, [...new Set(waiters.flatMap((w) => w.ids))]);
      const written = new Set<string>();
      for (let i = 0; i < pending.length; i += this.batchSize) {
        const chunk = pending.slice(i, i + this.batchSize);
        const vectors = await this.provider.embed(chunk.map((t) => t.text));
        const rows = chunk.map((t, j) => ({ ...t, vector: vectors[j]! }));
        for (const id of await writeVectors(em, this.provider.model, rows)) written.add(id);
      }
      for (const w of waiters) w.resolve(w.ids.filter((id) => written.has(id)).length);
    } catch (err) {
      this.log.warn({ err, items: waiters.reduce((n, w) => n + w.ids.length, 0) }, 'embedding batch failed');
      for (const w of waiters) w.reject(err);
    }
  }

  /** Flushes what is waiting and waits for every batch in flight. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
