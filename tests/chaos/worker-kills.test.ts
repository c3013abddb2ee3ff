import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MirixClient } from '../../client/index.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { startStack, type Stack } from '../support/stack.js';
import { CHAOS, allJobsFinal, allEmbedded, codeWordRoute } from './chaos.js';

// SIGKILL the worker process CHAOS.kills times while it is inside a consolidation job's LLM call,
// starting a new one after each kill, then compare the outcome with the same jobs run without
// kills: every job reaches a final state, no memory is lost and none is written twice.

let fake: FakeOpenAI;
let db: TestDatabase;
let stack: Stack;

beforeAll(async () => {
  fake = await startFakeOpenAI({ dim: 8 });
  db = await createTestDatabase();
  stack = await startStack(
    {
      databaseUrl: db.url,
      redisUrl: inject('redisUrl'),
      openaiUrl: fake.url,
      env: {
        CONSOLIDATE_LOCK_MS: '1000',
        CONSOLIDATE_BACKOFF_MS: '200',
        CONSOLIDATE_SWEEP_INTERVAL_MS: '1000',
        EMBED_SWEEP_INTERVAL_MS: '1000',
      },
    },
    false,
  );
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await db?.drop();
});

interface Outcome {
  /** Per agent (by index), the names of its semantic memories, sorted. */
  memories: string[][];
  statuses: string[];
  attempts: number;
}

async function run(kills: number): Promise<Outcome> {
  const { client } = await stack.signUp(kills ? 'killed' : 'calm');
  const agents = await Promise.all(
    Array.from({ length: CHAOS.agents }, (_, i) => client.agents.create.mutate({ name: `agent ${i}` })),
  );
  const jobs: { agentId: string; jobId: string }[] = [];
  for (let i = 0; i < CHAOS.jobs; i++) {
    const agentId = agents[i % agents.length]!.id;
    const { jobId } = await client.memory.ingest.mutate({
      agentId,
      text: `Please remember the code word cw${i}x for later.`,
    });
    jobs.push({ agentId, jobId });
  }
  const calls = { started: 0 };
  fake.route = codeWordRoute(calls, 120);
  for (let k = 0; k < kills; k++) {
    const worker = await stack.startWorker();
    const before = calls.started;
    // Killed as soon as it has sent an LLM call of a job: the job is active and mid-call.
    await expect.poll(() => calls.started > before, { timeout: 60_000, interval: 5 }).toBe(true);
    await worker.kill('SIGKILL');
  }
  const worker = await stack.startWorker();
  try {
    const statuses = await allJobsFinal(client, jobs, 240_000);
    await allEmbedded(
      client,
      agents.map((a) => a.id),
      60_000,
    );
    const memories = await Promise.all(agents.map((a) => names(client, a.id)));
    const attempts = (
      await Promise.all(jobs.map((j) => client.memory.job.query({ agentId: j.agentId, jobId: j.jobId })))
    ).reduce((n, j) => n + j.attempts, 0);
    return { memories, statuses, attempts };
  } finally {
    await worker.kill('SIGTERM');
  }
}

async function names(client: MirixClient, agentId: string): Promise<string[]> {
  const page = await client.memory.semantic.list.query({ agentId, limit: 200 });
  return page.items.map((m) => ('name' in m ? m.name : '')).sort();
}

describe(`the worker killed ${CHAOS.kills} times mid-job during ${CHAOS.jobs} jobs`, () => {
  it('finishes every job, with the same memories as a run without kills: nothing lost, nothing twice', async () => {
    const calm = await run(0);
    expect(calm.statuses.every((s) => s === 'completed')).toBe(true);
    const expected = Array.from({ length: CHAOS.agents }, (_, a) =>
      Array.from({ length: CHAOS.jobs }, (_, i) => i)
        .filter((i) => i % CHAOS.agents === a)
        .map((i) => `cw${i}x`)
        .sort(),
    );
    expect(calm.memories).toEqual(expected);
    expect(calm.attempts).toBe(CHAOS.jobs);

    const killed = await run(CHAOS.kills);
    expect(killed.statuses).toEqual(calm.statuses);
    expect(killed.memories).toEqual(calm.memories);
    // Each kill cut a job short, and that job ran again.
    expect(killed.attempts).toBeGreaterThanOrEqual(CHAOS.jobs + CHAOS.kills);
  });
});
