import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { workerRedisOptions } from '../../server/redis.js';
import { createEmbeddingProvider, type EmbeddingProvider } from '../../server/modules/embeddings/index.js';
import { QUEUES } from '../../shared/jobs/index.js';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.js';
import { signUp, startTestServer, startTestWorker, type TestServer } from '../support/server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ dim: 768 });
});
afterAll(async () => {
  await fake?.close();
});

const fakeEnv = () => ({
  EMBEDDING_PROVIDER: 'openai' as const,
  EMBEDDING_BASE_URL: fake.url,
  EMBEDDING_API_KEY: 'test-key',
  EMBEDDING_MODEL: 'fake-semantic',
});

async function setup(server: TestServer) {
  const owner = await signUp(server, 'worker');
  const agent = await owner.client.agents.create.mutate({ name: 'embedded' });
  const pending = async () =>
    (await owner.client.memory.stats.query({ agentId: agent.id })).pendingEmbeddings;
  return { client: owner.client, agentId: agent.id, pending };
}

describe('embed worker', () => {
  it('embeds new items so that vector search finds them (offline hashed provider)', async () => {
    const server = await startTestServer();
    const worker = startTestWorker(server);
    try {
      const { client, agentId, pending } = await setup(server);
      const item = await client.memory.semantic.create.mutate({
        agentId,
        name: 'Espresso',
        summary: 'Coffee brewed by forcing hot water through ground beans',
      });
      await waitFor(pending, 0);
      expect(
        (await client.memory.semantic.get.query({ agentId: item.agentId, id: item.id })).embeddingStatus,
      ).toBe('ready');
      const res = await client.memory.search.query({
        agentId,
        query: 'espresso coffee',
        methods: ['vector'],
        explain: true,
      });
      expect(res.items[0]?.item.id).toBe(item.id);
      expect(res.items[0]?.explain?.vector?.score).toBeGreaterThan(0.3);

      // An update clears the vector and the worker computes a new one.
      const updated = await client.memory.semantic.update.mutate({
        agentId: item.agentId,
        id: item.id,
        summary: 'A strong Italian coffee',
      });
      expect(updated.embeddingStatus).toBe('pending');
      await waitFor(pending, 0);
    } finally {
      await worker.close();
      await server.close();
    }
  });

  it('sends at least 64 texts per provider call and embeds every item once', async () => {
    const server = await startTestServer({ env: fakeEnv() });
    const worker = startTestWorker(server);
    try {
      const { client, agentId, pending } = await setup(server);
      fake.embeddingBatches.length = 0;
      const items = Array.from({ length: 300 }, (_, i) => ({
        eventType: 'note',
        summary: `observation number ${i}`,
      }));
      await client.memory.episodic.createMany.mutate({ agentId, items });
      await waitFor(pending, 0);
      expect(fake.embeddingBatches.reduce((a, b) => a + b, 0)).toBe(300);
      expect(Math.max(...fake.embeddingBatches)).toBeGreaterThanOrEqual(64);
      expect(fake.embeddingBatches.filter((n) => n < 64).length).toBeLessThanOrEqual(1);
    } finally {
      await worker.close();
      await server.close();
    }
  });

  it('writes at most `writers` batches at once, gathering the jobs that arrive meanwhile into the next', async () => {
    const server = await startTestServer();
    const hashed = createEmbeddingProvider(server.env);
    let running = 0;
    let mostAtOnce = 0;
    const calls: number[] = [];
    const slow: EmbeddingProvider = {
      ...hashed,
      embed: async (texts) => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        calls.push(texts.length);
        await new Promise((r) => setTimeout(r, 100));
        running--;
        return hashed.embed(texts);
      },
    };
    const worker = startTestWorker(server, { provider: slow, writers: 1 });
    try {
      const { client, agentId, pending } = await setup(server);
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          client.memory.semantic.createMany.mutate({
            agentId,
            items: Array.from({ length: 5 }, (_, i) => ({
              name: `fact ${j}-${i}`,
              summary: `detail ${j} ${i}`,
            })),
          }),
        ),
      );
      await waitFor(pending, 0);
      expect(mostAtOnce).toBe(1);
      expect(calls.reduce((a, b) => a + b, 0)).toBe(100);
      // Twenty jobs, but those that arrived while a batch was written went into one later batch.
      expect(calls.length).toBeLessThan(10);
    } finally {
      await worker.close();
      await server.close();
    }
  });

  it('retries after a provider failure, and the item stays full-text searchable meanwhile', async () => {
    const server = await startTestServer({ env: fakeEnv() });
    const worker = startTestWorker(server);
    try {
      const { client, agentId, pending } = await setup(server);
      fake.failNext(2);
      const item = await client.memory.semantic.create.mutate({
        agentId,
        name: 'Flaky',
        summary: 'Survives provider outages',
      });
      await waitFor(async () => fake.embeddingBatches.length > 0 || (await pending()) === 1, true);
      const during = await client.memory.search.query({ agentId, query: 'outages', methods: ['fulltext'] });
      expect(during.items.map((h) => h.item.id)).toEqual([item.id]);
      await waitFor(pending, 0, 20_000);
      expect(
        (await client.memory.semantic.get.query({ agentId: item.agentId, id: item.id })).embeddingStatus,
      ).toBe('ready');
    } finally {
      await worker.close();
      await server.close();
    }
  });

  it('fails a malformed job once, without retrying it', async () => {
    const server = await startTestServer();
    const worker = startTestWorker(server);
    const connection = workerRedisOptions(inject('redisUrl'));
    const queue = new Queue(QUEUES.embed, { connection, prefix: server.env.QUEUE_PREFIX });
    const events = new QueueEvents(QUEUES.embed, { connection, prefix: server.env.QUEUE_PREFIX });
    try {
      await events.waitUntilReady();
      const failed = new Promise<string>((resolve) =>
        events.on('failed', ({ failedReason }) => resolve(failedReason)),
      );
      const job = await queue.add(
        'embed',
        { itemIds: ['not-a-uuid'] },
        { attempts: 5, backoff: { type: 'fixed', delay: 10 } },
      );
      expect(await failed).toMatch(/invalid embed payload/);
      const after = await queue.getJob(job.id!);
      expect(after?.attemptsMade).toBe(1);
      expect(await after?.getState()).toBe('failed');
    } finally {
      await events.close();
      await queue.close();
      await worker.close();
      await server.close();
    }
  });

  it('accepts writes while Redis is down, and the sweep embeds them once the worker runs', async () => {
    const redisUrl = new URL(inject('redisUrl'));
    const proxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    await proxy.start();
    const server = await startTestServer({ redisUrl: proxy.rewrite(redisUrl.toString()) });
    try {
      const { client, agentId, pending } = await setup(server);
      await proxy.stop();
      const { ids } = await client.memory.semantic.createMany.mutate({
        agentId,
        items: Array.from({ length: 5 }, (_, i) => ({
          name: `offline ${i}`,
          summary: 'written while redis was down',
        })),
      });
      expect(ids).toHaveLength(5);
      expect(await pending()).toBe(5);
      expect(server.logs.join('\n')).toContain('the sweep will pick these items up');

      // The worker talks to Redis directly; its sweep finds what never got a job.
      const worker = startTestWorker(server);
      try {
        expect(await worker.sweep()).toBe(5);
        await waitFor(pending, 0);
      } finally {
        await worker.close();
      }
    } finally {
      await server.close();
      await proxy.stop();
    }
  });
});
