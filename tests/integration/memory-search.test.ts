import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FUSION_WEIGHTS } from '../../server/modules/memory/search.service.js';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.js';
import { waitFor } from '../support/wait.js';
import { signUp, startTestServer, startTestWorker, type TestServer } from '../support/server.js';

let server: TestServer;
let fake: FakeOpenAI;
let worker: ReturnType<typeof startTestWorker>;
let client: Awaited<ReturnType<typeof signUp>>['client'];
let agentId: string;
const ids: Record<string, string> = {};

/**
 * A fixture corpus where each signal has something only it can find, embedded by an
 * OpenAI-compatible fake whose vectors put car/automobile/vehicle (etc.) close together.
 */
beforeAll(async () => {
  fake = await startFakeOpenAI({ dim: 768 });
  server = await startTestServer({
    env: {
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_BASE_URL: fake.url,
      EMBEDDING_API_KEY: 'test-key',
      EMBEDDING_MODEL: 'fake-semantic',
    },
  });
  worker = startTestWorker(server);
  const owner = await signUp(server, 'searcher');
  client = owner.client;
  agentId = (await client.agents.create.mutate({ name: 'searchable' })).id;
  const m = client.memory;

  ids.garage = (
    await m.episodic.create.mutate({
      agentId,
      occurredAt: new Date('2026-05-02T09:00:00Z'),
      eventType: 'errand',
      summary: 'Took the car to the garage for service',
    })
  ).id;
  ids.budget = (
    await m.episodic.create.mutate({
      agentId,
      occurredAt: new Date('2026-06-10T09:00:00Z'),
      eventType: 'meeting',
      summary: 'Presented the quarterly budget review to the team',
    })
  ).id;
  ids.budgetDecoy = (
    await m.episodic.create.mutate({
      agentId,
      occurredAt: new Date('2026-06-11T09:00:00Z'),
      eventType: 'meeting',
      summary: 'Review of the budget, done quarterly by finance',
    })
  ).id;
  ids.kubernetes = (
    await m.semantic.create.mutate({
      agentId,
      name: 'Kubernetes',
      summary: 'Container orchestration platform',
    })
  ).id;
  ids.migration = (
    await m.resource.create.mutate({
      agentId,
      title: 'Infra notes',
      summary: 'We migrated the services to kubernetes last year',
      resourceType: 'document',
      content: 'long notes',
    })
  ).id;
  ids.dog = (
    await m.procedural.create.mutate({
      agentId,
      entryType: 'routine',
      summary: 'Walk the puppy every morning',
      steps: ['leash', 'park', 'home'],
    })
  ).id;
  await waitFor(async () => (await client.memory.stats.query({ agentId })).pendingEmbeddings, 0);
});

afterAll(async () => {
  await worker?.close();
  await server?.close();
  await fake?.close();
});

const search = (query: string, extra: Record<string, unknown> = {}) =>
  client.memory.search.query({ agentId, query, explain: true, ...extra });

describe('memory.search', () => {
  it('finds a paraphrase through vector similarity alone', async () => {
    const res = await search('automobile repair');
    const hit = res.items.find((h) => h.item.id === ids.garage);
    expect(hit).toBeDefined();
    expect(hit?.explain?.vector?.rank).toBe(1);
    expect(hit?.explain?.fulltext).toBeNull();
    expect(hit?.explain?.trigram).toBeNull();
  });

  it('finds an exact phrase through full text, and not the same words in another order', async () => {
    const res = await search('"quarterly budget review"', { methods: ['fulltext'] });
    expect(res.items.map((h) => h.item.id)).toEqual([ids.budget]);
    expect(res.items[0]?.explain?.fulltext?.rank).toBe(1);
    expect(res.methods).toEqual(['fulltext']);
  });

  it('finds a misspelling through trigram similarity alone', async () => {
    const res = await search('Kubernetis');
    const hit = res.items.find((h) => h.item.id === ids.kubernetes);
    expect(hit?.explain?.trigram?.rank).toBe(1);
    expect(hit?.explain?.trigram?.score).toBeGreaterThan(0.5);
    expect(hit?.explain?.fulltext).toBeNull();
    expect(hit?.explain?.vector).toBeNull();
  });

  it('ranks an item found by several signals above one found by fewer, with fused scores that match the explain scores', async () => {
    const res = await search('kubernetes');
    expect(res.methods).toEqual(['vector', 'fulltext', 'trigram']);
    expect(res.items.map((h) => h.item.id).slice(0, 2)).toEqual([ids.kubernetes, ids.migration]);
    const [first, second] = res.items;
    expect(first?.explain?.trigram).not.toBeNull();
    expect(second?.explain?.trigram).toBeNull();
    // Each signal's score is divided by that signal's best score for the query (its rank 1).
    const signals = ['vector', 'fulltext', 'trigram'] as const;
    const best = Object.fromEntries(
      signals.map((s) => [s, res.items.find((h) => h.explain?.[s]?.rank === 1)?.explain?.[s]?.score ?? 1]),
    );
    for (const hit of res.items) {
      const expected = signals.reduce((sum, s) => {
        const own = hit.explain?.[s];
        return own ? sum + (DEFAULT_FUSION_WEIGHTS[s] * own.score) / best[s]! : sum;
      }, 0);
      expect(hit.score).toBeCloseTo(expected, 10);
    }
    const scores = res.items.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('runs trigrams only when full text finds fewer memories than the limit', async () => {
    // Full text finds two memories for "kubernetes": enough for limit 2, not for limit 3.
    const enough = await search('kubernetes', { limit: 2 });
    expect(enough.methods).toEqual(['vector', 'fulltext']);
    expect(enough.items.map((h) => h.item.id)).toEqual([ids.kubernetes, ids.migration]);
    expect(enough.items.every((h) => h.explain?.trigram === null)).toBe(true);
    const more = await search('kubernetes', { limit: 3 });
    expect(more.methods).toEqual(['vector', 'fulltext', 'trigram']);
    expect(more.items.find((h) => h.item.id === ids.kubernetes)?.explain?.trigram).not.toBeNull();
  });

  it('omits explain unless asked', async () => {
    const res = await client.memory.search.query({ agentId, query: 'kubernetes' });
    expect(res.items[0]).not.toHaveProperty('explain');
  });

  it('filters by type and by time range', async () => {
    const onlySemantic = await search('kubernetes', { types: ['semantic'] });
    expect(onlySemantic.items.map((h) => h.item.id)).toEqual([ids.kubernetes]);

    const june = await search('budget', {
      timeRange: { from: new Date('2026-06-01T00:00:00Z'), to: new Date('2026-06-10T23:59:59Z') },
    });
    expect(june.items.map((h) => h.item.id)).toEqual([ids.budget]);
  });

  it('returns the most recent items for an empty query', async () => {
    const res = await client.memory.search.query({ agentId, query: '', types: ['episodic'], limit: 2 });
    expect(res.items.map((h) => h.item.id)).toEqual([ids.budgetDecoy, ids.budget]);
    expect(res.methods).toEqual([]);
  });

  it('finds items that have no embedding yet through the text signals', async () => {
    await worker.close();
    try {
      const fresh = await client.memory.semantic.create.mutate({
        agentId,
        name: 'Zanzibar',
        summary: 'An archipelago off the coast of Tanzania',
      });
      expect(fresh.embeddingStatus).toBe('pending');
      const res = await search('archipelago');
      const hit = res.items.find((h) => h.item.id === fresh.id);
      expect(hit?.explain?.fulltext?.rank).toBe(1);
      expect(hit?.explain?.vector).toBeNull();
      expect(hit?.item.embeddingStatus).toBe('pending');
    } finally {
      worker = startTestWorker(server);
    }
  });

  it('never returns soft-deleted items', async () => {
    const doomed = await client.memory.semantic.create.mutate({
      agentId,
      name: 'Ephemeral fact',
      summary: 'soon gone',
    });
    expect((await search('ephemeral')).items.map((h) => h.item.id)).toContain(doomed.id);
    await client.memory.semantic.delete.mutate({ agentId: doomed.agentId, id: doomed.id });
    for (const q of ['ephemeral', 'Ephemeral fact', 'Ephemerl']) {
      expect((await search(q)).items.map((h) => h.item.id)).not.toContain(doomed.id);
    }
    expect(
      (await client.memory.search.query({ agentId, query: '' })).items.map((h) => h.item.id),
    ).not.toContain(doomed.id);
  });

  it('keeps searching with the text signals when the embedding provider fails', async () => {
    fake.failNext(1);
    const res = await search('kubernetes');
    expect(res.methods).toEqual(['fulltext', 'trigram']);
    expect(res.items[0]?.item.id).toBe(ids.kubernetes);
  });

  it('rejects a limit above 50', async () => {
    await expect(client.memory.search.query({ agentId, query: 'x', limit: 51 })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
    });
  });
});
