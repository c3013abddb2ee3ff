import { pino } from 'pino';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TMemoryJobEvent } from '../../shared/memory-events.js';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import { demoManagerRoute } from '../support/demo-managers.js';
import { finishedJob, managerRoute, type SeenRequest } from '../support/memory-managers.js';
import { signUp, startTestConsolidateWorker } from '../support/server.js';

// The memory managers with the server's default for short content (CONSOLIDATE_DIRECT_MAX_CHARS):
// one manager with every type's tools.
let harness: ChatHarness;
let worker: ReturnType<typeof startTestConsolidateWorker>;
const workerLog: string[] = [];

beforeAll(async () => {
  harness = await startChatHarness();
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        workerLog.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  worker = startTestConsolidateWorker(harness.server, { directMaxChars: 2000, log });
});
afterAll(async () => {
  await worker.close();
  await harness.close();
});
afterEach(() => {
  harness.openai.route = undefined;
});

async function setup() {
  const owner = await signUp(harness.server, 'calls');
  const agent = await owner.client.agents.create.mutate({
    name: 'rememberer',
    modelConfig: { provider: 'openai', model: 'gpt-test', parameters: {} },
  });
  return { ...owner, agent };
}

const TRIP = 'user: I flew to Lisbon with my sister Ana on 2026-11-20. My name is Rui, by the way.';

describe('consolidation of short content, one manager of every type', () => {
  it('records three memory types from parallel tool calls in one LLM call', async () => {
    const { client, agent } = await setup();
    const seen: SeenRequest[] = [];
    harness.openai.route = managerRoute(
      {
        meta: ['episodic', 'semantic', 'core'],
        managers: {
          episodic: [
            [
              {
                name: 'episodic_memory_insert',
                args: {
                  items: [
                    {
                      occurred_at: '2026-11-20T09:00:00Z',
                      event_type: 'trip',
                      summary: 'Rui flew to Lisbon with Ana',
                    },
                  ],
                },
              },
            ],
          ],
          semantic: [
            [{ name: 'semantic_memory_insert', args: { items: [{ name: 'Ana', summary: "Rui's sister" }] } }],
          ],
          core: [[{ name: 'core_memory_append', args: { label: 'human', content: 'Name: Rui' } }]],
        },
      },
      seen,
    );
    const { jobId } = await client.memory.ingest.mutate({ agentId: agent.id, text: TRIP });
    const job = await finishedJob(client, agent.id, jobId);
    expect(job).toMatchObject({ status: 'completed', warnings: [] });
    expect(job.usage.llmCalls).toBe(1);
    expect(seen.map((s) => s.manager)).toEqual(['direct']);
    expect(job.changes.map((c) => c.memoryType).sort()).toEqual(['core', 'episodic', 'semantic']);
    // Each change is authored by its type's manager, as in the two-stage pipeline.
    const [event] = (await client.memory.episodic.list.query({ agentId: agent.id })).items;
    expect(event).toMatchObject({ summary: 'Rui flew to Lisbon with Ana' });
    expect(event!.lastModified.by).toBe('agent');
    const tools = (seen[0]!.body.tools as { function: { name: string } }[]).map((t) => t.function.name);
    expect(tools).toEqual(
      expect.arrayContaining([
        'core_memory_append',
        'episodic_memory_insert',
        'knowledge_vault_insert',
        'finish_memory_update',
      ]),
    );
  });

  it('reads a single item and a date written without T or offset leniently', async () => {
    const { client, agent } = await setup();
    const seen: SeenRequest[] = [];
    harness.openai.route = managerRoute(
      {
        meta: ['episodic'],
        managers: {
          episodic: [
            [
              {
                name: 'episodic_memory_insert',
                // A single item where a list is expected, and a naive timestamp: both read leniently.
                args: {
                  occurred_at: '2026-12-01 19:28:13',
                  event_type: 'call',
                  summary: 'Rui called the bank',
                  extra: 1,
                },
              },
            ],
            [{ name: 'finish_memory_update', args: {} }],
          ],
        },
      },
      seen,
    );
    const { jobId } = await client.memory.ingest.mutate({
      agentId: agent.id,
      text: 'user: I called the bank.',
    });
    const job = await finishedJob(client, agent.id, jobId);
    expect(job).toMatchObject({ status: 'completed', warnings: [] });
    const [event] = (await client.memory.episodic.list.query({ agentId: agent.id })).items;
    expect(event).toMatchObject({ summary: 'Rui called the bank', eventType: 'call' });
    expect(event!.type === 'episodic' && event!.occurredAt.toISOString()).toBe('2026-12-01T19:28:13.000Z');
    expect(job.usage.llmCalls).toBe(1);
  });

  it('ends as completed with a warning, in the job, its event and the log, when the model ignores its tools', async () => {
    const { client, agent } = await setup();
    // A model that answers in prose whatever the tools and tool_choice say.
    harness.openai.route = () => ({ text: 'Noted! I will remember that.' });
    const events: TMemoryJobEvent[] = [];
    const sub = client.memory.events.subscribe({ agentId: agent.id }, { onData: (e) => events.push(e) });
    await new Promise((r) => setTimeout(r, 200));
    const { jobId } = await client.memory.ingest.mutate({ agentId: agent.id, text: 'user: my cat is Miso' });
    const job = await finishedJob(client, agent.id, jobId);
    expect(job.status).toBe('completed');
    expect(job.changes).toEqual([]);
    expect(job.warnings).toEqual([
      'the memory manager answered without calling a tool, so nothing was recorded',
    ]);
    await expect
      .poll(() => events.find((e) => e.type === 'completed' && e.jobId === jobId))
      .toMatchObject({
        warnings: job.warnings,
      });
    sub.unsubscribe();
    await expect
      .poll(() => workerLog.find((l) => l.includes('completed with warnings') && l.includes(jobId)))
      .toBeDefined();
  });

  it('for long content, falls back to the one manager when the meta manager ignores its forced tool', async () => {
    const { client, agent } = await setup();
    const seen: SeenRequest[] = [];
    const script = managerRoute(
      {
        meta: ['semantic'],
        managers: {
          semantic: [
            [
              {
                name: 'semantic_memory_insert',
                args: { items: [{ name: 'Tea', summary: 'Rui drinks green tea' }] },
              },
            ],
          ],
        },
      },
      seen,
    );
    harness.openai.route = async (body) => {
      const tools = JSON.stringify(body.tools ?? []);
      // The meta manager's request: answer text, as a model that ignores tool_choice does.
      if (tools.includes('trigger_memory_update')) return { text: 'This is about tea.' };
      return script(body);
    };
    const long = `user: ${'I drink green tea every morning, and I like it. '.repeat(60)}`;
    const { jobId } = await client.memory.ingest.mutate({ agentId: agent.id, text: long });
    const job = await finishedJob(client, agent.id, jobId);
    expect(job).toMatchObject({ status: 'completed', warnings: [] });
    expect(job.usage.llmCalls).toBe(2);
    expect(seen.map((s) => s.manager)).toEqual(['direct']);
    const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(facts.map((f) => ('summary' in f ? f.summary : ''))).toEqual(['Rui drinks green tea']);
  });

  it("writes memories with the quick start's fake model (npm run fake-llm), short and long content alike", async () => {
    const { client, agent } = await setup();
    harness.openai.route = demoManagerRoute;
    const short = await client.memory.ingest.mutate({
      agentId: agent.id,
      messages: [{ role: 'user', content: 'My dog is called Rex.' }],
    });
    const long = await client.memory.ingest.mutate({
      agentId: agent.id,
      messages: [
        {
          role: 'user',
          content: `My garden has tomatoes. ${'It is sunny and the plants grow well. '.repeat(60)}`,
        },
      ],
    });
    const a = await finishedJob(client, agent.id, short.jobId);
    expect(a).toMatchObject({ status: 'completed', warnings: [] });
    expect(a.usage.llmCalls).toBe(1);
    expect(a.changes.map((c) => c.memoryType).sort()).toEqual(['episodic', 'semantic']);
    const b = await finishedJob(client, agent.id, long.jobId);
    expect(b).toMatchObject({ status: 'completed', warnings: [] });
    // The meta manager, then the episodic and semantic managers: one call each.
    expect(b.usage.llmCalls).toBe(3);
    const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(facts.map((f) => ('name' in f ? f.name : '')).sort()).toEqual([
      "The user's dog",
      "The user's garden",
    ]);
  });

  it('keeps a secret in the vault: other memories, core memory, history, the job input and the log get a reference', async () => {
    const { client, agent } = await setup();
    const secret = 'sk-live-51HqZ9kT2pQ7';
    const said = `user: my Stripe key is ${secret}, keep it safe`;
    harness.openai.route = managerRoute({
      meta: ['knowledge_vault', 'semantic', 'core', 'episodic'],
      managers: {
        // A careless model: the secret goes into the vault, and into everything else too.
        knowledge_vault: [
          [
            {
              name: 'knowledge_vault_insert',
              args: {
                items: [
                  {
                    entry_type: 'api_key',
                    sensitivity: 'high',
                    secret_value: secret,
                    caption: `Stripe key ${secret}`,
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
              args: { items: [{ name: 'Stripe', summary: `The Stripe key is ${secret}` }] },
            },
          ],
        ],
        core: [[{ name: 'core_memory_append', args: { label: 'human', content: `Stripe key: ${secret}` } }]],
        episodic: [
          [
            {
              name: 'episodic_memory_insert',
              args: { items: [{ event_type: 'note', summary: 'Shared a key', details: said }] },
            },
          ],
        ],
      },
    });
    const { jobId } = await client.memory.ingest.mutate({ agentId: agent.id, text: said });
    const job = await finishedJob(client, agent.id, jobId);
    expect(job).toMatchObject({ status: 'completed', warnings: [] });
    const [vaultItem] = (await client.memory.vault.list.query({ agentId: agent.id })).items;
    const ref = `[secret: knowledge vault item ${vaultItem!.id}]`;
    expect(
      (await client.memory.vault.reveal.mutate({ agentId: agent.id, id: vaultItem!.id })).secretValue,
    ).toBe(secret);
    expect(vaultItem).toMatchObject({ caption: `Stripe key ${ref}` });

    const [fact] = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(fact).toMatchObject({ summary: `The Stripe key is ${ref}` });
    const [listed] = (await client.memory.episodic.list.query({ agentId: agent.id })).items;
    const event = await client.memory.episodic.get.query({ agentId: agent.id, id: listed!.id });
    expect(event).toMatchObject({ details: `user: my Stripe key is ${ref}, keep it safe` });
    const core = await client.memory.core.get.query({ agentId: agent.id });
    expect(core.find((b) => b.label === 'human')!.value).toContain(`Stripe key: ${ref}`);

    const history = await client.memory.history.query({ agentId: agent.id, itemId: fact!.id });
    const [row] = await harness.server.orm.em
      .fork()
      .getConnection()
      .execute<{ input: unknown }[]>('select input from memory_jobs where id = ?', [jobId]);
    const everything = JSON.stringify({
      fact,
      event,
      core,
      history,
      job,
      input: row!.input,
      vaultItem,
      log: workerLog,
    });
    expect(everything).not.toContain(secret);
    expect(JSON.stringify(row!.input)).toContain(ref);

    // A later job that repeats the stored secret gets the same reference.
    harness.openai.route = managerRoute({
      meta: ['semantic'],
      managers: {
        semantic: [
          [
            {
              name: 'semantic_memory_insert',
              args: { items: [{ name: 'Key', summary: `Key again: ${secret}` }] },
            },
          ],
        ],
      },
    });
    const again = await client.memory.ingest.mutate({
      agentId: agent.id,
      text: 'user: remind me of the key',
    });
    await finishedJob(client, agent.id, again.jobId);
    const facts = (await client.memory.semantic.list.query({ agentId: agent.id })).items;
    expect(facts.map((f) => ('summary' in f ? f.summary : ''))).toContain(`Key again: ${ref}`);
  });
});
