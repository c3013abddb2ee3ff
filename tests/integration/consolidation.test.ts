import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { workerRedisOptions } from '../../server/redis.js';
import { MemoryItem } from '../../server/modules/memory/memory.entity.js';
import type { TMemoryJobEvent } from '../../shared/memory-events.js';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import { finishedJob, managerRoute, type SeenRequest } from '../support/memory-managers.js';
import { expectTRPCError, signUp, startTestConsolidateWorker } from '../support/server.js';

let harness: ChatHarness;
let worker: ReturnType<typeof startTestConsolidateWorker>;

beforeAll(async () => {
  harness = await startChatHarness();
  worker = startTestConsolidateWorker(harness.server);
});
afterAll(async () => {
  await worker.close();
  await harness.close();
});
afterEach(() => {
  harness.openai.route = undefined;
  harness.anthropic.route = undefined;
});

async function setup(provider: 'openai' | 'anthropic' = 'openai') {
  const owner = await signUp(harness.server, 'mem');
  const agent = await owner.client.agents.create.mutate({
    name: 'rememberer',
    modelConfig: { provider, model: provider === 'openai' ? 'gpt-test' : 'claude-test', parameters: {} },
  });
  return { ...owner, agent };
}

const TRIP = [
  {
    role: 'user' as const,
    content: 'I just got back from a week in Lisbon with my sister Ana. We loved the trams.',
  },
  { role: 'assistant' as const, content: 'Welcome back! Lisbon trams are great.' },
  { role: 'user' as const, content: 'Ana lives in Porto now, by the way.' },
];

describe.each(['openai', 'anthropic'] as const)('memory.ingest with %s', (provider) => {
  const fake = () => (provider === 'openai' ? harness.openai : harness.anthropic);

  it('turns a conversation about a trip into an episodic event and semantic facts', async () => {
    const { client, agent } = await setup(provider);
    const seen: SeenRequest[] = [];
    fake().route = managerRoute(
      {
        meta: ['episodic', 'semantic'],
        managers: {
          episodic: [
            [
              {
                name: 'episodic_memory_insert',
                args: {
                  items: [
                    {
                      occurred_at: '2026-11-20T10:00:00Z',
                      event_type: 'trip',
                      actor: 'user',
                      summary: 'Spent a week in Lisbon with sister Ana',
                      details: 'They loved the trams.',
                    },
                  ],
                },
              },
            ],
          ],
          semantic: [
            [
              {
                name: 'semantic_memory_insert',
                args: {
                  items: [
                    { name: 'Ana', summary: "The user's sister; lives in Porto" },
                    { name: 'Lisbon trams', summary: 'The user loved the trams in Lisbon' },
                  ],
                },
              },
            ],
          ],
        },
      },
      seen,
    );

    const queued = await client.memory.ingest.mutate({ agentId: agent.id, messages: TRIP });
    expect(queued.status).toBe('queued');
    const job = await finishedJob(client, agent.id, queued.jobId);

    expect(job.status).toBe('completed');
    expect(job.changes.map((c) => [c.memoryType, c.operation, c.label]).sort()).toEqual([
      ['episodic', 'created', 'Spent a week in Lisbon with sister Ana'],
      ['semantic', 'created', 'Ana'],
      ['semantic', 'created', 'Lisbon trams'],
    ]);
    // The meta call, then one call per manager: the inserts succeed, so no finish round trip.
    expect(job.usage.llmCalls).toBe(3);
    expect(job.usage.totalTokens).toBeGreaterThan(0);
    expect(job.startedAt).not.toBeNull();
    expect(job.durationMs).not.toBeNull();

    const events = await client.memory.episodic.list.query({ agentId: agent.id });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({
      eventType: 'trip',
      summary: 'Spent a week in Lisbon with sister Ana',
      occurredAt: new Date('2026-11-20T10:00:00Z'),
      lastModified: { by: 'agent', jobId: queued.jobId },
    });
    const facts = await client.memory.semantic.list.query({ agentId: agent.id });
    expect(facts.items.map((f) => ('name' in f ? f.name : '')).sort()).toEqual(['Ana', 'Lisbon trams']);

    // The meta manager saw the conversation and its keywords; the managers got their own tools.
    const meta = seen.find((s) => s.manager === 'meta')!;
    expect(JSON.stringify(meta.body)).toContain('Lisbon');
    expect(JSON.stringify(meta.body)).toMatch(/Keywords in the new content: [^\n]*(ana|lisbon)/);
    const semanticTools = JSON.stringify(seen.find((s) => s.manager === 'semantic')!.body.tools);
    expect(semanticTools).toContain('semantic_memory_update');
    expect(semanticTools).not.toContain('episodic_memory_insert');
  });
});

describe('memory consolidation', () => {
  it('updates a contradicted fact instead of adding a duplicate, and history shows both versions', async () => {
    const { client, agent } = await setup();
    harness.openai.route = managerRoute({
      meta: ['semantic'],
      managers: {
        semantic: [
          [
            {
              name: 'semantic_memory_insert',
              args: { items: [{ name: 'Employer', summary: 'Works at Acme' }] },
            },
          ],
        ],
      },
    });
    await finishedJob(
      client,
      agent.id,
      (await client.memory.ingest.mutate({ agentId: agent.id, text: 'I work at Acme.' })).jobId,
    );
    const [fact] = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(fact).toBeDefined();

    const seen: SeenRequest[] = [];
    harness.openai.route = managerRoute(
      {
        meta: ['semantic'],
        managers: {
          semantic: [
            [
              {
                name: 'semantic_memory_update',
                args: { id: fact!.id, summary: 'Works at Globex (left Acme)' },
              },
            ],
          ],
        },
      },
      seen,
    );
    const second = await finishedJob(
      client,
      agent.id,
      (await client.memory.ingest.mutate({ agentId: agent.id, text: 'I left Acme; I work at Globex now.' }))
        .jobId,
    );
    expect(second.changes).toEqual([
      expect.objectContaining({ itemId: fact!.id, memoryType: 'semantic', operation: 'updated' }),
    ]);
    // The manager was shown the existing fact with its id, so it could update it.
    const prompt = JSON.stringify(seen.find((s) => s.manager === 'semantic')!.body);
    expect(prompt).toContain(fact!.id);
    expect(prompt).toContain('Works at Acme');

    const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(facts).toHaveLength(1);
    expect(facts[0]).toMatchObject({ summary: 'Works at Globex (left Acme)' });

    // The changed fact waits for a new embedding, and an embed job asks for it.
    expect(facts[0]!.embeddingStatus).toBe('pending');
    const embedQueue = new Queue('embed', {
      connection: workerRedisOptions(inject('redisUrl')),
      prefix: harness.server.env.QUEUE_PREFIX,
    });
    try {
      // One embed job after the insert, one after the update (sent within the scheduler's linger).
      const embedJobsFor = async (id: string) =>
        (await embedQueue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])).filter((j) =>
          (j.data as { itemIds: string[] }).itemIds.includes(id),
        ).length;
      await expect.poll(() => embedJobsFor(fact!.id), { timeout: 5000 }).toBe(2);
    } finally {
      await embedQueue.close();
    }

    const history = await client.memory.history.query({ agentId: fact!.agentId, itemId: fact!.id });
    expect(history.map((h) => h.operation)).toEqual(['created', 'updated']);
    expect(history[0]).toMatchObject({ before: null, after: { summary: 'Works at Acme' } });
    expect(history[1]).toMatchObject({
      before: { summary: 'Works at Acme' },
      after: { summary: 'Works at Globex (left Acme)' },
      jobId: second.jobId,
      actor: 'semantic_memory_manager',
    });
  });

  it("records users' own updates and deletes, and core block edits, in the same history", async () => {
    const { client, agent } = await setup();
    const fact = await client.memory.semantic.create.mutate({
      agentId: agent.id,
      name: 'City',
      summary: 'Lives in Lisbon',
    });
    await client.memory.semantic.update.mutate({
      agentId: fact.agentId,
      id: fact.id,
      summary: 'Lives in Porto',
    });
    await client.memory.semantic.delete.mutate({ agentId: fact.agentId, id: fact.id });
    const history = await client.memory.history.query({ agentId: fact.agentId, itemId: fact.id });
    expect(history.map((h) => [h.operation, h.actor, h.jobId])).toEqual([
      ['updated', 'user', null],
      ['deleted', 'user', null],
    ]);
    expect(history[0]).toMatchObject({
      before: { summary: 'Lives in Lisbon' },
      after: { summary: 'Lives in Porto' },
    });
    expect(history[1]).toMatchObject({ before: { summary: 'Lives in Porto' }, after: null });

    const block = await client.memory.core.append.mutate({
      agentId: agent.id,
      label: 'human',
      text: 'Likes tea',
    });
    const blocks = await client.memory.core.get.query({ agentId: agent.id });
    expect(block.value).toBe('Likes tea');
    const blockId = (
      await harness.server.orm.em
        .fork()
        .getConnection()
        .execute<{ id: string }[]>(
          "select id from core_memory_blocks where agent_id = ? and label = 'human'",
          [agent.id],
        )
    )[0]!.id;
    expect(blocks.some((b) => b.label === 'human')).toBe(true);
    expect(await client.memory.history.query({ agentId: agent.id, itemId: blockId })).toEqual([
      expect.objectContaining({
        memoryType: 'core',
        operation: 'appended',
        before: { value: '' },
        after: { value: 'Likes tea' },
      }),
    ]);
  });

  it('stores a password in the knowledge vault, encrypted, with high sensitivity', async () => {
    const { client, agent } = await setup();
    const password = 'hunter2-correct-horse';
    harness.openai.route = managerRoute({
      meta: ['knowledge_vault'],
      managers: {
        knowledge_vault: [
          [
            {
              name: 'knowledge_vault_insert',
              args: {
                items: [
                  {
                    entry_type: 'password',
                    caption: 'Home wifi password',
                    secret_value: password,
                    sensitivity: 'high',
                  },
                ],
              },
            },
          ],
        ],
      },
    });
    const job = await finishedJob(
      client,
      agent.id,
      (
        await client.memory.ingest.mutate({
          agentId: agent.id,
          messages: [{ role: 'user', content: `My wifi password is ${password}` }],
        })
      ).jobId,
    );
    expect(job.status).toBe('completed');
    expect(JSON.stringify(job)).not.toContain(password);

    const [entry] = (await client.memory.vault.list.query({ agentId: agent.id })).items;
    expect(entry).toMatchObject({
      entryType: 'password',
      caption: 'Home wifi password',
      sensitivity: 'high',
    });
    const row = await harness.server.orm.em
      .fork()
      .findOneOrFail(MemoryItem, entry!.id, { populate: ['secretCiphertext'] });
    expect(row.secretCiphertext).toBeTruthy();
    expect(row.secretCiphertext).not.toContain(password);
    expect(Buffer.from(row.secretCiphertext!, 'base64').toString('utf8')).not.toContain(password);
    expect(
      (await client.memory.vault.reveal.mutate({ agentId: entry!.agentId, id: entry!.id })).secretValue,
    ).toBe(password);

    // History keeps the ciphertext only, and never returns even that.
    const history = await client.memory.history.query({ agentId: entry!.agentId, itemId: entry!.id });
    expect(JSON.stringify(history)).not.toContain(password);
    expect(JSON.stringify(history)).not.toContain(row.secretCiphertext!);
    const stored = await harness.server.orm.em
      .fork()
      .getConnection()
      .execute<{ after: Record<string, unknown> }[]>('select after from memory_history where item_id = ?', [
        entry!.id,
      ]);
    expect(stored[0]!.after.secretCiphertext).toBe(row.secretCiphertext);
    expect(JSON.stringify(stored)).not.toContain(password);
  });

  it('stores a procedure ("how I deploy") in procedural memory with its steps', async () => {
    const { client, agent } = await setup();
    const steps = ['Run the tests', 'Build the Docker image', 'Push to the registry', 'kubectl rollout'];
    harness.openai.route = managerRoute({
      meta: ['procedural'],
      managers: {
        procedural: [
          [
            {
              name: 'procedural_memory_insert',
              args: { items: [{ entry_type: 'workflow', summary: 'How the user deploys', steps }] },
            },
          ],
        ],
      },
    });
    await finishedJob(
      client,
      agent.id,
      (
        await client.memory.ingest.mutate({
          agentId: agent.id,
          text: 'How I deploy: run the tests, build the image, push it, then roll out with kubectl.',
          source: 'notes.md',
        })
      ).jobId,
    );
    const [procedure] = (await client.memory.procedural.list.query({ agentId: agent.id })).items;
    expect(procedure).toMatchObject({ entryType: 'workflow', summary: 'How the user deploys', steps });
  });

  it('reports malformed tool arguments back to the model, which then corrects them', async () => {
    const { client, agent } = await setup();
    const seen: SeenRequest[] = [];
    harness.openai.route = managerRoute(
      {
        meta: ['semantic'],
        managers: {
          semantic: [
            [{ name: 'semantic_memory_insert', args: '{"items": [{"name": "Tea"' }],
            [
              {
                name: 'semantic_memory_insert',
                args: { items: [{ name: 'Tea', summary: 'The user drinks green tea' }] },
              },
            ],
          ],
        },
      },
      seen,
    );
    const job = await finishedJob(
      client,
      agent.id,
      (await client.memory.ingest.mutate({ agentId: agent.id, text: 'I drink green tea every morning.' }))
        .jobId,
    );
    expect(job.status).toBe('completed');
    expect(job.warnings).toEqual([]);
    const semantic = seen.filter((s) => s.manager === 'semantic');
    // The error, then the corrected call, which ends the manager's work: no finish round trip.
    expect(semantic).toHaveLength(2);
    const lastTool = (semantic[1]!.body.messages as { role: string; content: string }[]).filter(
      (m) => m.role === 'tool',
    );
    expect(lastTool.at(-1)!.content).toContain('not valid JSON');
    expect(job.usage.llmCalls).toBe(3);
    const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(facts.map((f) => ('summary' in f ? f.summary : ''))).toEqual(['The user drinks green tea']);
  });

  it('gives the model one correction: calls still wrong after it end the job with warnings, in the job and its event', async () => {
    const { client, agent } = await setup();
    const seen: SeenRequest[] = [];
    harness.openai.route = managerRoute(
      {
        meta: ['semantic'],
        managers: {
          semantic: [
            [{ name: 'semantic_memory_insert', args: { items: [{ name: 'Tea' }] } }],
            [
              {
                name: 'semantic_memory_update',
                args: { id: '0190a000-0000-7000-8000-000000000000', summary: 'x' },
              },
            ],
            [
              {
                name: 'semantic_memory_insert',
                args: { items: [{ name: 'Tea', summary: 'never asked for' }] },
              },
            ],
          ],
        },
      },
      seen,
    );
    const events: TMemoryJobEvent[] = [];
    const sub = client.memory.events.subscribe({ agentId: agent.id }, { onData: (e) => events.push(e) });
    await new Promise((r) => setTimeout(r, 200));
    const { jobId } = await client.memory.ingest.mutate({ agentId: agent.id, text: 'I drink green tea.' });
    const job = await finishedJob(client, agent.id, jobId);
    expect(job.status).toBe('completed');
    expect(seen.filter((s) => s.manager === 'semantic')).toHaveLength(2);
    expect(job.warnings).toHaveLength(1);
    expect(job.warnings[0]).toMatch(
      /^the semantic memory manager: 1 tool call\(s\) failed after a correction: semantic_memory_update: no semantic item with id 0190a000/,
    );
    expect((await client.memory.semantic.list.query({ agentId: agent.id })).items).toEqual([]);
    await expect
      .poll(() => events.find((e) => e.type === 'completed' && e.jobId === jobId))
      .toMatchObject({
        warnings: job.warnings,
      });
    sub.unsubscribe();
  });

  it('takes a chat turn through the same path', async () => {
    const { client, agent } = await setup();
    harness.openai.route = managerRoute({
      meta: ['core'],
      managers: { core: [[{ name: 'core_memory_append', args: { label: 'human', content: 'Name: Rui' } }]] },
    });
    harness.openai.replies.push({ text: 'Nice to meet you, Rui.' });
    await client.chat.send.mutate({ agentId: agent.id, message: 'Hi, I am Rui.' });
    const [job] = (await client.memory.jobs.query({ agentId: agent.id })).items;
    expect(job).toMatchObject({ source: 'chat' });
    const done = await finishedJob(client, agent.id, job!.jobId);
    expect(done.changes).toEqual([
      expect.objectContaining({ memoryType: 'core', operation: 'appended', label: 'human' }),
    ]);
    const blocks = await client.memory.core.get.query({ agentId: agent.id });
    expect(blocks.find((b) => b.label === 'human')?.value).toBe('Name: Rui');
  });

  it("answers NOT_FOUND for another user's jobs, history, usage, events and ingest", async () => {
    const { client, agent } = await setup();
    harness.openai.route = managerRoute({
      meta: ['semantic'],
      managers: {
        semantic: [[{ name: 'semantic_memory_insert', args: { items: [{ name: 'X', summary: 'y' }] } }]],
      },
    });
    const { jobId } = await client.memory.ingest.mutate({ agentId: agent.id, text: 'secret plans' });
    await finishedJob(client, agent.id, jobId);
    const [item] = (await client.memory.semantic.list.query({ agentId: agent.id })).items;

    const mallory = await signUp(harness.server, 'mallory');
    await expectTRPCError(mallory.client.memory.job.query({ agentId: agent.id, jobId }), 'NOT_FOUND', 404);
    await expectTRPCError(
      mallory.client.memory.history.query({ agentId: item!.agentId, itemId: item!.id }),
      'NOT_FOUND',
      404,
    );
    await expectTRPCError(mallory.client.memory.usage.query({ agentId: agent.id }), 'NOT_FOUND', 404);
    await expectTRPCError(mallory.client.memory.jobs.query({ agentId: agent.id }), 'NOT_FOUND', 404);
    await expectTRPCError(
      mallory.client.memory.ingest.mutate({ agentId: agent.id, text: 'inject' }),
      'NOT_FOUND',
      404,
    );
    await expect(
      new Promise((resolve, reject) => {
        const sub = mallory.client.memory.events.subscribe(
          { agentId: agent.id },
          {
            onData: resolve,
            onError: (err) => {
              sub.unsubscribe();
              reject(err);
            },
          },
        );
      }),
    ).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
  });

  it('rejects an ingest with neither messages nor text, with field errors', async () => {
    const { client, agent } = await setup();
    const err = await expectTRPCError(client.memory.ingest.mutate({ agentId: agent.id }), 'BAD_REQUEST', 400);
    expect(JSON.stringify(err.data)).toContain('send either messages or text');
    expect(
      await harness.server.orm.em
        .fork()
        .getConnection()
        .execute('select 1 from memory_jobs where agent_id = ?', [agent.id]),
    ).toHaveLength(0);
  });
});
