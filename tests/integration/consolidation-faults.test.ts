import { Queue } from 'bullmq';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { workerRedisOptions } from '../../server/redis.js';
import { applyJob } from '../../server/modules/consolidation/apply.service.js';
import { MemoryJob } from '../../server/modules/consolidation/memory-job.entity.js';
import { VaultCipher } from '../../server/modules/memory/vault-cipher.js';
import type { TMemoryJobEvent } from '../../shared/memory-events.js';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import { finishedJob, managerRoute, type SeenRequest } from '../support/memory-managers.js';
import { startEntry } from '../support/run.js';
import { signUp, startTestConsolidateWorker, TEST_VAULT_KEYS } from '../support/server.js';

let harness: ChatHarness;

beforeAll(async () => {
  harness = await startChatHarness();
});
afterAll(async () => {
  await harness.close();
});
afterEach(() => {
  harness.openai.route = undefined;
});

async function setup(name = 'faults') {
  const owner = await signUp(harness.server, name);
  const agent = await owner.client.agents.create.mutate({
    name: 'rememberer',
    modelConfig: { provider: 'openai', model: 'gpt-test', parameters: {} },
  });
  return { ...owner, agent };
}

const insertFact = (name: string) => ({
  meta: ['semantic' as const],
  managers: {
    semantic: [[{ name: 'semantic_memory_insert', args: { items: [{ name, summary: `about ${name}` }] } }]],
  },
});

describe('with an in-process worker', () => {
  let worker: ReturnType<typeof startTestConsolidateWorker>;
  beforeAll(() => {
    worker = startTestConsolidateWorker(harness.server, { concurrency: 8 });
  });
  afterAll(async () => {
    await worker.close();
  });

  it('runs two jobs of one agent one after the other, in order, while another agent’s job overlaps', async () => {
    const a = await setup('serial');
    const b = await setup('parallel');
    harness.openai.route = managerRoute({ ...insertFact('fact'), delayMs: 150 });
    const first = await a.client.memory.ingest.mutate({ agentId: a.agent.id, text: 'first' });
    const second = await a.client.memory.ingest.mutate({ agentId: a.agent.id, text: 'second' });
    const other = await b.client.memory.ingest.mutate({ agentId: b.agent.id, text: 'other' });
    const [j1, j2, j3] = await Promise.all([
      finishedJob(a.client, a.agent.id, first.jobId),
      finishedJob(a.client, a.agent.id, second.jobId),
      finishedJob(b.client, b.agent.id, other.jobId),
    ]);
    for (const j of [j1, j2, j3]) expect(j.status).toBe('completed');
    // Same agent: the second starts only after the first has finished.
    expect(j2.startedAt!.getTime()).toBeGreaterThanOrEqual(j1.finishedAt!.getTime());
    // Different agents: the other agent's job ran at the same time as the first.
    expect(j3.startedAt!.getTime()).toBeLessThan(j1.finishedAt!.getTime());
    expect(j1.startedAt!.getTime()).toBeLessThan(j3.finishedAt!.getTime());
  });

  it('delivers queued, active and completed (with the changes) to a memory.events subscriber', async () => {
    const { client, agent } = await setup('events');
    harness.openai.route = managerRoute(insertFact('Coffee'));
    const events: TMemoryJobEvent[] = [];
    let jobId = '';
    const done = new Promise<void>((resolve, reject) => {
      const sub = client.memory.events.subscribe(
        { agentId: agent.id },
        {
          onStarted: () => {
            void client.memory.ingest
              .mutate({ agentId: agent.id, text: 'I like coffee' })
              .then((r) => (jobId = r.jobId), reject);
          },
          onData: (event) => {
            events.push(event);
            if (event.type === 'completed' || event.type === 'failed') {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    await done;
    expect(events.map((e) => e.type)).toEqual(['queued', 'active', 'completed']);
    expect(events.every((e) => e.jobId === jobId && e.agentId === agent.id)).toBe(true);
    const completed = events[2] as Extract<TMemoryJobEvent, { type: 'completed' }>;
    expect(completed.changes).toEqual([
      expect.objectContaining({ memoryType: 'semantic', operation: 'created', label: 'Coffee' }),
    ]);
  });

  it('retries an LLM error with backoff, and counts tokens and calls per job and per agent', async () => {
    const { client, agent } = await setup('retry');
    const route = managerRoute(insertFact('Retry'));
    let failures = 1;
    harness.openai.route = (body) => (failures-- > 0 ? { status: 503 } : route(body));
    const job = await finishedJob(
      client,
      agent.id,
      (await client.memory.ingest.mutate({ agentId: agent.id, text: 'x' })).jobId,
    );
    expect(job).toMatchObject({ status: 'completed', attempts: 2, error: null });
    expect(job.usage.llmCalls).toBe(2);

    harness.openai.route = managerRoute(insertFact('Second'));
    const next = await finishedJob(
      client,
      agent.id,
      (await client.memory.ingest.mutate({ agentId: agent.id, text: 'y' })).jobId,
    );
    const usage = await client.memory.usage.query({ agentId: agent.id });
    expect(usage).toMatchObject({ agentId: agent.id, jobs: 2, completed: 2, failed: 0 });
    expect(usage.llmCalls).toBe(job.usage.llmCalls + next.usage.llmCalls);
    expect(usage.totalTokens).toBe(job.usage.totalTokens + next.usage.totalTokens);
    expect(usage.totalTokens).toBeGreaterThan(0);
  });

  it('keeps a job that failed every attempt visible, with its error, and lets the agent’s next job run', async () => {
    const { client, agent } = await setup('fail');
    harness.openai.route = () => ({ status: 500 });
    const failed = await finishedJob(
      client,
      agent.id,
      (await client.memory.ingest.mutate({ agentId: agent.id, text: 'doomed' })).jobId,
    );
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBe(harness.server.env.CONSOLIDATE_ATTEMPTS);
    expect(failed.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    harness.openai.route = managerRoute(insertFact('After'));
    const next = await finishedJob(
      client,
      agent.id,
      (await client.memory.ingest.mutate({ agentId: agent.id, text: 'ok' })).jobId,
    );
    expect(next.status).toBe('completed');
  });

  it('fails a job with an invalid payload at once, without retrying it', async () => {
    const queue = new Queue('consolidate', {
      connection: workerRedisOptions(inject('redisUrl')),
      prefix: harness.server.env.QUEUE_PREFIX,
    });
    try {
      const job = await queue.add('consolidate', { agentId: 'not-a-uuid' }, { attempts: 5 });
      await expect.poll(() => job.getState(), { timeout: 10_000 }).toBe('failed');
      const failed = await queue.getJob(job.id!);
      expect(failed?.attemptsMade).toBe(1);
      expect(failed?.failedReason).toContain('invalid consolidate payload');
    } finally {
      await queue.close();
    }
  });

  it('re-queues a job that Postgres recorded but Redis never got (the sweep)', async () => {
    const { client, agent, user } = await setup('sweep');
    harness.openai.route = managerRoute(insertFact('Swept'));
    // As if the enqueue had failed during a Redis outage two minutes ago.
    const id = uuidv7();
    await harness.server.orm.em
      .fork()
      .getConnection()
      .execute(
        `insert into memory_jobs (id, created_at, updated_at, agent_id, user_id, source, input)
         values (?, now() - interval '2 minutes', now(), ?, ?, 'text', ?)`,
        [id, agent.id, user.id, JSON.stringify({ kind: 'text', text: 'swept up', source: null })],
      );
    expect(await worker.sweep()).toBe(1);
    const job = await finishedJob(client, agent.id, id);
    expect(job.status).toBe('completed');
    const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(facts.map((f) => ('name' in f ? f.name : ''))).toEqual(['Swept']);
  });

  it('puts back an active job that Redis lost (the sweep), and the agent’s later job runs after it', async () => {
    const { client, agent, user } = await setup('orphan');
    harness.openai.route = managerRoute(insertFact('Orphan'));
    // As if a worker had claimed the job, then Redis lost it (flushed, failed over) two minutes ago.
    const id = uuidv7();
    await harness.server.orm.em
      .fork()
      .getConnection()
      .execute(
        `insert into memory_jobs (id, created_at, updated_at, agent_id, user_id, source, input, status, attempts, started_at)
         values (?, now() - interval '2 minutes', now() - interval '2 minutes', ?, ?, 'text', ?, 'active', 1, now() - interval '2 minutes')`,
        [id, agent.id, user.id, JSON.stringify({ kind: 'text', text: 'orphaned', source: null })],
      );
    const later = await client.memory.ingest.mutate({ agentId: agent.id, text: 'after the orphan' });
    // The first sweep finds the orphan and puts it back to queued; the next delivers it.
    expect(await worker.sweep()).toBe(1);
    expect((await client.memory.job.query({ agentId: agent.id, jobId: id })).status).toBe('queued');
    expect(await worker.sweep()).toBe(1);
    expect((await finishedJob(client, agent.id, id)).status).toBe('completed');
    expect((await finishedJob(client, agent.id, later.jobId)).status).toBe('completed');
  });

  it('applies a job once: applying it again (a retry after a crash before acknowledgement) changes nothing', async () => {
    const { client, agent, user } = await setup('idem');
    harness.openai.route = managerRoute(insertFact('Once'));
    const job = await finishedJob(
      client,
      agent.id,
      (await client.memory.ingest.mutate({ agentId: agent.id, text: 'once' })).jobId,
    );
    const again = await applyJob(harness.server.orm.em.fork(), {
      cipher: new VaultCipher(TEST_VAULT_KEYS),
      target: { jobId: job.jobId, agentId: agent.id, userId: user.id },
      staged: [{ kind: 'insert', type: 'semantic', fields: { name: 'Once', summary: 'dup' }, actor: 'test' }],
      usage: { llmCalls: 1, promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    });
    expect(again.alreadyApplied).toBe(true);
    const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(facts).toHaveLength(1);
    expect((await client.memory.job.query({ agentId: agent.id, jobId: job.jobId })).usage).toEqual(job.usage);
  });
});

/** A real worker process (killed with SIGKILL by the tests below) on the harness's database and queue. */
function startWorkerProcess(extraEnv: Record<string, string> = {}) {
  const env = harness.server.env;
  // `node --import tsx`, not the tsx CLI: the CLI runs the worker in a child process a SIGKILL would miss.
  return startEntry('workers/main.ts', {
    DATABASE_URL: harness.server.db.url,
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: env.QUEUE_PREFIX,
    OPENAI_BASE_URL: env.OPENAI_BASE_URL!,
    OPENAI_API_KEY: 'sk-test',
    LLM_MAX_RETRIES: '0',
    CONSOLIDATE_LOCK_MS: '1000',
    CONSOLIDATE_ATTEMPTS: String(env.CONSOLIDATE_ATTEMPTS),
    CONSOLIDATE_BACKOFF_MS: String(env.CONSOLIDATE_BACKOFF_MS),
    VAULT_KEYS: `test1:${Buffer.alloc(32, 7).toString('base64')}`,
    WORKER_METRICS_PORT: '0',
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  });
}

/**
 * Routes manager calls through `route`, but the first `hangs` semantic-manager calls never answer:
 * the worker making them is killed while it waits. Returns how many calls have hung so far.
 */
function hangFirstCalls(route: ReturnType<typeof managerRoute>, seen: SeenRequest[], hangs: number) {
  const state = { hung: 0 };
  harness.openai.route = async (body) => {
    const reply = await route(body);
    const manager = seen.at(-1)?.manager;
    // The semantic manager, or (short content, the default) the one manager of every type.
    if ((manager === 'semantic' || manager === 'direct') && state.hung < hangs) {
      state.hung++;
      await new Promise(() => {});
    }
    return reply;
  };
  return state;
}

/** Starts a worker process, waits until it is stuck in the job's LLM call number `n`, kills it. */
async function killDuringCall(state: { hung: number }, n: number, extraEnv: Record<string, string> = {}) {
  const proc = startWorkerProcess(extraEnv);
  try {
    await expect.poll(() => state.hung, { timeout: 30_000, interval: 50 }).toBe(n);
  } finally {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

describe('a worker killed mid-job', () => {
  it('never wedges an agent: a job killed more often than BullMQ would allow by default completes once, then the next job runs', async () => {
    const { client, agent } = await setup('killed4');
    const seen: SeenRequest[] = [];
    // Four kills: more than the three stalls after which BullMQ used to fail the job without a
    // record (the job stayed active in Postgres and every later job of the agent waited forever).
    const state = hangFirstCalls(managerRoute(insertFact('Phoenix'), seen), seen, 4);
    const first = await client.memory.ingest.mutate({ agentId: agent.id, text: 'rise again' });
    const second = await client.memory.ingest.mutate({ agentId: agent.id, text: 'and again' });
    for (let n = 1; n <= 4; n++) await killDuringCall(state, n);
    const worker = startTestConsolidateWorker(harness.server, { lockMs: 1000 });
    try {
      const a = await finishedJob(client, agent.id, first.jobId);
      expect(a.status).toBe('completed');
      expect(a.attempts).toBe(5);
      const b = await finishedJob(client, agent.id, second.jobId);
      expect(b.status).toBe('completed');
      // Both jobs insert the same fact: the first once, the second's insert adds a second row.
      const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
      expect(facts.map((f) => ('name' in f ? f.name : ''))).toEqual(['Phoenix', 'Phoenix']);
    } finally {
      await worker.close();
    }
  });

  it('fails a job that keeps killing its worker (CONSOLIDATE_MAX_STALLS) with STALLED, and runs the agent’s next job', async () => {
    const { client, agent } = await setup('poison');
    const seen: SeenRequest[] = [];
    const state = hangFirstCalls(managerRoute(insertFact('Poison'), seen), seen, 2);
    const first = await client.memory.ingest.mutate({ agentId: agent.id, text: 'poison pill' });
    const second = await client.memory.ingest.mutate({ agentId: agent.id, text: 'antidote' });
    // One stall allowed: the second kill is one too many.
    for (let n = 1; n <= 2; n++) await killDuringCall(state, n, { CONSOLIDATE_MAX_STALLS: '1' });
    const worker = startTestConsolidateWorker(harness.server, { lockMs: 1000, maxStalls: 1 });
    try {
      const a = await finishedJob(client, agent.id, first.jobId);
      expect(a.status).toBe('failed');
      expect(a.error?.code).toBe('STALLED');
      expect(a.finishedAt).not.toBeNull();
      const b = await finishedJob(client, agent.id, second.jobId);
      expect(b.status).toBe('completed');
      const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
      expect(facts.map((f) => ('name' in f ? f.name : ''))).toEqual(['Poison']);
    } finally {
      await worker.close();
    }
  });

  it('leads to a retry by another worker, and no duplicate memories', async () => {
    const { client, agent } = await setup('killed');
    const seen: SeenRequest[] = [];
    const route = managerRoute(insertFact('Survivor'), seen);
    // The first worker's manager call never returns: it is killed while waiting for it.
    let stalled = false;
    harness.openai.route = async (body) => {
      const reply = await route(body);
      if (['semantic', 'direct'].includes(seen.at(-1)?.manager ?? '') && !stalled) {
        stalled = true;
        await new Promise(() => {});
      }
      return reply;
    };
    const proc = startWorkerProcess();
    let worker: ReturnType<typeof startTestConsolidateWorker> | null = null;
    try {
      const { jobId } = await client.memory.ingest.mutate({ agentId: agent.id, text: 'I survived' });
      await expect.poll(() => stalled, { timeout: 30_000, interval: 50 }).toBe(true);
      expect((await client.memory.job.query({ agentId: agent.id, jobId })).status).toBe('active');
      proc.child.kill('SIGKILL');
      await proc.exited;

      worker = startTestConsolidateWorker(harness.server, { lockMs: 1000 });
      const job = await finishedJob(client, agent.id, jobId);
      expect(job.status).toBe('completed');
      expect(job.attempts).toBe(2);
      const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
      expect(facts.map((f) => ('name' in f ? f.name : ''))).toEqual(['Survivor']);
      const rows = await harness.server.orm.em.fork().count(MemoryJob, { agent: agent.id });
      expect(rows).toBe(1);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      await worker?.close();
    }
  });
});
