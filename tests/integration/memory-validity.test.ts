import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import { finishedJob, managerRoute } from '../support/memory-managers.js';
import { signUp, startTestConsolidateWorker } from '../support/server.js';

let harness: ChatHarness;
let worker: ReturnType<typeof startTestConsolidateWorker>;

beforeAll(async () => {
  harness = await startChatHarness();
  worker = startTestConsolidateWorker(harness.server, { directMaxChars: 2000 });
});
afterAll(async () => {
  await worker.close();
  await harness.close();
});

async function setup() {
  const owner = await signUp(harness.server, 'valid');
  const agent = await owner.client.agents.create.mutate({
    name: 'historian',
    modelConfig: { provider: 'openai', model: 'gpt-test', parameters: {} },
  });
  return { ...owner, agent };
}

const summaries = (items: { item: { type: string } & Record<string, unknown> }[]) =>
  items.map((i) => i.item.summary);

describe('validity of memories', () => {
  it('closes a fact that changed instead of overwriting it; search answers for now, or for any moment', async () => {
    const { client, agent } = await setup();
    const lisbon = await client.memory.semantic.create.mutate({
      agentId: agent.id,
      name: 'Ana home',
      summary: 'Ana lives in Lisbon',
      validFrom: new Date('2020-01-01T00:00:00Z'),
    });
    expect(lisbon).toMatchObject({ validTo: null, supersedesId: null });
    expect(lisbon.validFrom.toISOString()).toBe('2020-01-01T00:00:00.000Z');

    harness.openai.route = managerRoute({
      meta: ['semantic'],
      managers: {
        semantic: [
          [
            {
              name: 'semantic_memory_supersede',
              args: { id: lisbon.id, summary: 'Ana lives in Porto', changed_at: '2026-06-01 12:00:00' },
            },
          ],
        ],
      },
    });
    const { jobId } = await client.memory.ingest.mutate({
      agentId: agent.id,
      text: 'user: Ana moved from Lisbon to Porto in June.',
    });
    const job = await finishedJob(client, agent.id, jobId);
    expect(job).toMatchObject({ status: 'completed', warnings: [] });
    console.log(
      JSON.stringify(job.changes),
      JSON.stringify(
        (await client.memory.semantic.list.query({ agentId: agent.id })).items.map((i) => [
          i.id,
          'summary' in i && i.summary,
        ]),
      ),
    );
    expect(job.changes.map((c) => c.operation).sort()).toEqual(['created', 'superseded']);

    const old = await client.memory.semantic.get.query({ agentId: agent.id, id: lisbon.id });
    expect(old.summary).toBe('Ana lives in Lisbon');
    expect(old.validTo?.toISOString()).toBe('2026-06-01T12:00:00.000Z');
    const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    const porto = facts.find((f) => 'summary' in f && f.summary === 'Ana lives in Porto')!;
    expect(porto).toMatchObject({ name: 'Ana home', supersedesId: lisbon.id, validTo: null });
    expect(porto.validFrom.toISOString()).toBe('2026-06-01T12:00:00.000Z');

    const query = 'where does Ana live?';
    const now = await client.memory.search.query({ agentId: agent.id, query, explain: true });
    expect(summaries(now.items)).toEqual(['Ana lives in Porto']);
    const before = await client.memory.search.query({
      agentId: agent.id,
      query,
      asOf: new Date('2023-05-01T00:00:00Z'),
    });
    expect(summaries(before.items)).toEqual(['Ana lives in Lisbon']);
    const recent = await client.memory.search.query({ agentId: agent.id, query: '', types: ['semantic'] });
    expect(summaries(recent.items)).toEqual(['Ana lives in Porto']);

    const history = await client.memory.history.query({ agentId: agent.id, itemId: lisbon.id });
    // (An item created through the API has no history row of its own; its first change is one.)
    expect(history.map((h) => h.operation)).toEqual(['superseded']);
    expect(history[0]!.before).not.toHaveProperty('validTo');
    expect(history[0]!.after).toMatchObject({
      validTo: '2026-06-01T12:00:00.000Z',
      summary: 'Ana lives in Lisbon',
    });
    expect(history[0]!.jobId).toBe(jobId);
  });

  it('reads a memory written before validity as valid since its creation', async () => {
    const { client, agent } = await setup();
    const item = await client.memory.episodic.create.mutate({
      agentId: agent.id,
      eventType: 'trip',
      summary: 'A trip',
      occurredAt: new Date('2025-01-01T00:00:00Z'),
    });
    // As the migration leaves existing rows: no valid_from.
    await harness.server.orm.em
      .fork()
      .getConnection()
      .execute('update memories set valid_from = null where id = ?', [item.id]);
    const got = await client.memory.episodic.get.query({ agentId: agent.id, id: item.id });
    expect(got.validFrom.getTime()).toBe(got.createdAt.getTime());
    // The event time stays occurredAt.
    expect(got.occurredAt.toISOString()).toBe('2025-01-01T00:00:00.000Z');
  });

  it('refuses to supersede a fact twice, and lets the model correct the call', async () => {
    const { client, agent } = await setup();
    const fact = await client.memory.semantic.create.mutate({
      agentId: agent.id,
      name: 'Job',
      summary: 'Rui works at Acme',
      validTo: new Date('2025-01-01T00:00:00Z'),
    });
    harness.openai.route = managerRoute({
      meta: ['semantic'],
      managers: {
        semantic: [
          [{ name: 'semantic_memory_supersede', args: { id: fact.id, summary: 'Rui works at Initech' } }],
          [
            {
              name: 'semantic_memory_insert',
              args: { items: [{ name: 'Job', summary: 'Rui works at Initech' }] },
            },
          ],
        ],
      },
    });
    const { jobId } = await client.memory.ingest.mutate({
      agentId: agent.id,
      text: 'user: I work at Initech now.',
    });
    const job = await finishedJob(client, agent.id, jobId);
    expect(job).toMatchObject({ status: 'completed', warnings: [] });
    expect(job.usage.llmCalls).toBe(2);
    const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(facts.map((f) => ('summary' in f ? f.summary : '')).sort()).toEqual([
      'Rui works at Acme',
      'Rui works at Initech',
    ]);
  });
});
