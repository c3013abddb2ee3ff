import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { startRedisServer, startStack, type RedisServer, type Stack } from '../support/stack.js';
import { allEmbedded, allJobsFinal, codeWordRoute } from './chaos.js';

// Redis killed (SIGKILL, no persistence: it comes back empty) under a running API and worker:
// writes keep working, and once Redis is back the embeddings and consolidation jobs written
// meanwhile catch up, with neither process restarted.

let fake: FakeOpenAI;
let db: TestDatabase;
let redis: RedisServer;
let stack: Stack;

beforeAll(async () => {
  fake = await startFakeOpenAI({ dim: 8 });
  fake.route = codeWordRoute({ started: 0 }, 20);
  db = await createTestDatabase();
  redis = await startRedisServer();
  stack = await startStack({
    databaseUrl: db.url,
    redisUrl: redis.url,
    openaiUrl: fake.url,
    env: {
      CONSOLIDATE_SWEEP_INTERVAL_MS: '1000',
      EMBED_SWEEP_INTERVAL_MS: '1000',
      CONSOLIDATE_LOCK_MS: '2000',
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await redis?.kill();
  await fake?.close();
  await db?.drop();
});

describe('a Redis outage', () => {
  it('keeps writes working, then embeddings and jobs catch up once Redis is back, without restarts', async () => {
    const { client } = await stack.signUp('redisless');
    const agent = await client.agents.create.mutate({ name: 'patient' });
    const before = await client.memory.ingest.mutate({ agentId: agent.id, text: 'the code word cw0x' });
    expect((await allJobsFinal(client, [{ agentId: agent.id, jobId: before.jobId }], 30_000))[0]).toBe(
      'completed',
    );

    await redis.kill();
    // Every kind of write, with Redis gone.
    const created = await client.memory.semantic.createMany.mutate({
      agentId: agent.id,
      items: Array.from({ length: 5 }, (_, i) => ({ name: `offline ${i}`, summary: `written offline ${i}` })),
    });
    expect(created.ids).toHaveLength(5);
    const ingested = await client.memory.ingest.mutate({ agentId: agent.id, text: 'the code word cw1x' });
    const turn = await client.chat.send.mutate({ agentId: agent.id, message: 'remember cw2x please' });
    expect(turn.response).toBe('ok');
    const chatJob = (await client.memory.jobs.query({ agentId: agent.id })).items.find(
      (j) => j.source === 'chat',
    );
    expect(chatJob?.status).toBe('queued');
    expect((await client.memory.stats.query({ agentId: agent.id })).pendingEmbeddings).toBeGreaterThanOrEqual(
      5,
    );

    // Redis comes back on the same port, empty: what it lost is in PostgreSQL, and the sweeps re-queue it.
    redis = await startRedisServer(redis.port);
    const statuses = await allJobsFinal(
      client,
      [
        { agentId: agent.id, jobId: ingested.jobId },
        { agentId: agent.id, jobId: chatJob!.jobId },
      ],
      60_000,
    );
    expect(statuses).toEqual(['completed', 'completed']);
    await allEmbedded(client, [agent.id], 60_000);
    const names = (await client.memory.semantic.list.query({ agentId: agent.id, limit: 50 })).items
      .map((m) => ('name' in m ? m.name : ''))
      .sort();
    expect(names).toEqual(['cw0x', 'cw1x', 'cw2x', ...created.ids.map((_, i) => `offline ${i}`)]);

    // And it goes on as before: a new job runs at once, on the same processes.
    const after = await client.memory.ingest.mutate({ agentId: agent.id, text: 'the code word cw3x' });
    expect((await allJobsFinal(client, [{ agentId: agent.id, jobId: after.jobId }], 30_000))[0]).toBe(
      'completed',
    );
    expect(stack.api.child.exitCode).toBeNull();
    expect(stack.worker?.child.exitCode).toBeNull();
  });
});
