import { EventEmitter, on } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { memoryEventsChannel, type TMemoryJobEvent, ZMemoryJobEvent } from '../../../shared/memory-events.js';

/** Publishes a job event for every process relaying `memory.events` (best effort: the row is the truth). */
export async function publishMemoryEvent(
  { redis, prefix, log }: { redis: Redis; prefix: string; log: Logger },
  event: TMemoryJobEvent,
): Promise<void> {
  try {
    await redis.publish(memoryEventsChannel(prefix, event.agentId), JSON.stringify(event));
  } catch (err) {
    log.warn({ err, jobId: event.jobId, type: event.type }, 'could not publish a memory job event');
  }
}

/**
 * One Redis subscriber per API process, shared by all `memory.events` streams: a pattern
 * subscription on every agent's channel, fanned out in-process by agent id. Connected on first use.
 */
export class MemoryEventHub {
  private readonly emitter = new EventEmitter();
  private subscriber: Redis | null = null;
  private ready: Promise<void> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    // Every open stream listens here; the limit would only warn about a busy server.
    this.emitter.setMaxListeners(0);
  }

  private start(): Promise<void> {
    this.ready ??= (async () => {
      const sub = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
      sub.on('error', (err) => this.log.warn({ err }, 'memory events subscriber error'));
      sub.on('pmessage', (_pattern, channel: string, message: string) => {
        const parsed = ZMemoryJobEvent.safeParse(JSON.parse(message));
        if (parsed.success) this.emitter.emit(parsed.data.agentId, parsed.data);
        else this.log.warn({ channel }, 'ignored a malformed memory job event');
      });
      this.subscriber = sub;
      await sub.psubscribe(memoryEventsChannel(this.prefix, '*'));
    })().catch((err: unknown) => {
      // Let the next stream try again rather than keep a failed start forever.
      const sub = this.subscriber;
      this.subscriber = null;
      this.ready = null;
      sub?.disconnect();
      throw err;
    });
    return this.ready;
  }

  /**
   * The agent's events from the moment this resolves; ends when `signal` aborts. Subscribing
   * happens before the first event is awaited, so a caller that reads state afterwards misses
   * nothing in between.
   */
  async subscribe(agentId: string, signal: AbortSignal): Promise<AsyncIterable<TMemoryJobEvent>> {
    await this.start();
    const events = on(this.emitter, agentId, { signal });
    return (async function* () {
      try {
        for await (const [event] of events) yield event as TMemoryJobEvent;
      } catch (err) {
        if (!signal.aborted) throw err;
      }
    })();
  }

  async close(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = null;
    this.ready = null;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}
