import { Queue } from 'bullmq';
import { MemoryJob } from '../../server/modules/consolidation/memory-job.entity.js';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { failAbandonedTurns, messageKey } from '../../server/modules/chat/turn.store.js';
import { Agent } from '../../server/modules/agents/agent.entity.js';
import { CoreMemoryBlock } from '../../server/modules/memory/core-block.entity.js';
import { coreBlockValues } from '../../server/modules/memory/core.service.js';
import { Message } from '../../server/modules/messages/message.entity.js';
import { User } from '../../server/modules/users/user.entity.js';
import { workerRedisOptions } from '../../server/redis.js';
import { QUEUES } from '../../shared/jobs/index.js';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import type { FakeAnthropic } from '../support/fake-anthropic.js';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.js';
import { createMirixClient } from '../../client/index.js';
import { expectTRPCError, signUp, startTestServer, type TestServer } from '../support/server.js';

let harness: ChatHarness;
let server: TestServer;
let openaiFake: FakeOpenAI;
let anthropicFake: FakeAnthropic;
beforeAll(async () => {
  harness = await startChatHarness({ CHAT_HISTORY_MESSAGES: 4 });
  ({ server, openai: openaiFake, anthropic: anthropicFake } = harness);
});
afterAll(async () => {
  await harness?.close();
});

const systemOf = (req: Record<string, unknown> | undefined, provider: 'openai' | 'anthropic') =>
  provider === 'anthropic'
    ? String(req?.system)
    : String((req?.messages as { role: string; content: string }[])[0]?.content);

describe('Server-Timing', () => {
  it("tells the provider's share of a chat turn (llm) from the whole request (app)", async () => {
    const owner = await signUp(server, 'timing');
    let header = '';
    const client = createMirixClient({
      url: server.url,
      token: owner.token,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        header = res.headers.get('server-timing') ?? '';
        return res;
      },
    });
    const agent = await client.agents.create.mutate({ name: 'timed' });
    expect(header).toMatch(/^app;dur=[\d.]+$/); // no provider call, no llm phase
    // A provider that takes 60 ms to answer.
    openaiFake.route = async () => {
      await new Promise((r) => setTimeout(r, 60));
      return { text: 'ok' };
    };
    try {
      await client.chat.send.mutate({ agentId: agent.id, message: 'hi' });
    } finally {
      openaiFake.route = undefined;
    }
    const app = Number(/app;dur=([\d.]+)/.exec(header)?.[1]);
    const llm = Number(/llm;dur=([\d.]+)/.exec(header)?.[1]);
    expect(llm).toBeGreaterThanOrEqual(55); // the fake's delay
    expect(app).toBeGreaterThan(llm);
  });
});

describe.each(['openai', 'anthropic'] as const)('chat.send with %s', (provider) => {
  const fake = () => (provider === 'openai' ? openaiFake.replies : anthropicFake.replies);
  const lastRequest = () =>
    provider === 'openai' ? openaiFake.chatRequests.at(-1) : anthropicFake.requests.at(-1);

  async function setup() {
    const owner = await signUp(server, `chat${provider}`);
    const agent = await owner.client.agents.create.mutate({
      name: 'memoryful',
      systemPrompt: 'You are Ada.',
      modelConfig: { provider, model: `${provider}-test-model`, parameters: { temperature: 0.3 } },
    });
    return { ...owner, agent };
  }

  it('answers with memories and core blocks in the prompt, saves both messages with usage, and queues consolidation', async () => {
    const { client, agent } = await setup();
    await client.memory.core.set.mutate({ agentId: agent.id, label: 'human', value: 'Name: Grace.' });
    const fact = await client.memory.semantic.create.mutate({
      agentId: agent.id,
      name: 'Launch',
      summary: 'The launch is on March 15',
    });
    await client.memory.vault.create.mutate({
      agentId: agent.id,
      entryType: 'key',
      caption: 'Launch staging key',
      sensitivity: 'medium',
      secretValue: 'sk-medium-secret',
    });
    await client.memory.vault.create.mutate({
      agentId: agent.id,
      entryType: 'pw',
      caption: 'Launch root password',
      sensitivity: 'high',
      secretValue: 'hunter2-high',
    });
    fake().push({ text: 'The launch is on March 15.', usage: { prompt: 120, completion: 9 } });

    const res = await client.chat.send.mutate({
      agentId: agent.id,
      message: 'When is the launch?',
      context: { page: 'calendar' },
    });
    expect(res.response).toBe('The launch is on March 15.');
    expect(res.usage).toEqual({ promptTokens: 120, completionTokens: 9, totalTokens: 129 });
    expect(res.memoriesUsed.map((m) => m.id)).toContain(fact.id);

    const system = systemOf(lastRequest(), provider);
    expect(system).toContain('You are Ada.');
    expect(system).toContain('Name: Grace.');
    expect(system).toContain('- Launch: The launch is on March 15');
    expect(system).toContain('Launch staging key');
    expect(system).toContain('page: calendar');
    const wire = JSON.stringify(lastRequest());
    for (const hidden of ['Launch root password', 'hunter2-high', 'sk-medium-secret'])
      expect(wire).not.toContain(hidden);

    const page = await client.messages.list.query({ agentId: agent.id });
    expect(page.items.map((m) => [m.role, m.content])).toEqual([
      ['user', 'When is the launch?'],
      ['assistant', 'The launch is on March 15.'],
    ]);
    expect(page.items[1]?.id).toBe(res.assistantMessageId);
    expect(page.items[1]?.tokenUsage).toEqual(res.usage);
    // The reply keeps what its prompt carried: the fact, and the medium vault item by caption only.
    expect(page.items[1]?.memoriesUsed).toEqual(res.memoriesUsed);
    expect(page.items[1]?.memoriesUsed).toContainEqual({ id: fact.id, type: 'semantic', title: 'Launch' });
    expect(JSON.stringify(page)).not.toContain('sk-medium-secret');
    expect(page.items[0]?.memoriesUsed).toEqual([]);

    const queue = new Queue(QUEUES.consolidate, {
      connection: workerRedisOptions(inject('redisUrl')),
      prefix: server.env.QUEUE_PREFIX,
    });
    try {
      // The turn is recorded as a consolidation job (its messages by id) and queued under that id.
      const [recorded] = (await client.memory.jobs.query({ agentId: agent.id })).items;
      expect(recorded).toMatchObject({ source: 'chat', status: 'queued' });
      const row = await server.orm.em.fork().findOneOrFail(MemoryJob, recorded!.jobId);
      expect(row.input).toEqual({ kind: 'chat', messageIds: [res.userMessageId, res.assistantMessageId] });
      // Queued in Redis after the answer (the turn does not wait for it).
      await expect
        .poll(async () => (await queue.getJob(recorded!.jobId))?.data as unknown, { timeout: 5_000 })
        .toEqual({ memoryJobId: recorded!.jobId, agentId: agent.id });
    } finally {
      await queue.close();
    }
  });

  it('puts the CHAT_MEMORY_TOP_K best-ranked memories of each type in the prompt', async () => {
    const { client, agent } = await setup();
    const k = server.env.CHAT_MEMORY_TOP_K;
    await client.memory.semantic.createMany.mutate({
      agentId: agent.id,
      items: Array.from({ length: k + 3 }, (_, i) => ({
        name: `Launch fact ${i}`,
        summary: `launch detail ${i}${' launch'.repeat(i % 3)}`,
      })),
    });
    await client.memory.procedural.create.mutate({
      agentId: agent.id,
      entryType: 'workflow',
      summary: 'How to run the launch checklist',
      steps: ['check', 'launch'],
    });
    const message = 'When is the launch?';
    // What the prompt should carry: the first k of each type in memory.search's fused order.
    const ranked = await client.memory.search.query({ agentId: agent.id, query: message, limit: k * 5 });
    const best = (type: string) =>
      ranked.items
        .filter((r) => r.item.type === type)
        .slice(0, k)
        .map((r) => r.item.id);
    expect(ranked.items.filter((r) => r.item.type === 'semantic').length).toBeGreaterThan(k);

    fake().push({ text: 'ok' });
    const res = await client.chat.send.mutate({ agentId: agent.id, message });
    const used = (type: string) => res.memoriesUsed.filter((m) => m.type === type).map((m) => m.id);
    expect(used('semantic')).toEqual(best('semantic'));
    expect(used('procedural')).toEqual(best('procedural'));
    expect(used('procedural')).toHaveLength(1);
    const system = systemOf(lastRequest(), provider);
    const section = /<semantic_memory>\n([\s\S]*?)\n<\/semantic_memory>/.exec(system)?.[1] ?? '';
    expect(section.split('\n')).toHaveLength(k);
    expect(system).toContain('- workflow: How to run the launch checklist');
  });

  it('answers without queueing consolidation when the turn is not to be remembered (remember: false)', async () => {
    const { client, agent } = await setup();
    fake().push({ text: 'first' }, { text: 'second' });
    await client.chat.send.mutate({
      agentId: agent.id,
      message: 'a question for an evaluation',
      remember: false,
    });
    expect((await client.memory.jobs.query({ agentId: agent.id })).items).toEqual([]);
    await client.chat.send.mutate({ agentId: agent.id, message: 'remember this one' });
    expect((await client.memory.jobs.query({ agentId: agent.id })).items).toHaveLength(1);
    const history = await client.messages.list.query({ agentId: agent.id });
    expect(history.items.map((m) => m.content)).toContain('a question for an evaluation');
  });

  it('sends only the last CHAT_HISTORY_MESSAGES messages of the conversation', async () => {
    const { client, agent } = await setup();
    for (let i = 1; i <= 3; i++) {
      fake().push({ text: `answer ${i}` });
      await client.chat.send.mutate({ agentId: agent.id, message: `question ${i}` });
    }
    fake().push({ text: 'answer 4' });
    await client.chat.send.mutate({ agentId: agent.id, message: 'question 4' });
    const messages = (lastRequest()?.messages as { role: string; content: unknown }[]).filter(
      (m) => m.role !== 'system',
    );
    // Anthropic carries assistant turns as content blocks.
    const text = (c: unknown) =>
      typeof c === 'string' ? c : (c as { type: string; text?: string }[]).map((b) => b.text ?? '').join('');
    expect(messages.map((m) => text(m.content))).toEqual([
      'question 2',
      'answer 2',
      'question 3',
      'answer 3',
      'question 4',
    ]);
  });

  it('keeps the user message and records the failure when the provider fails', async () => {
    const { client, agent } = await setup();
    fake().push({ status: 429 });
    await expectTRPCError(
      client.chat.send.mutate({ agentId: agent.id, message: 'are you there?' }),
      'TOO_MANY_REQUESTS',
      429,
    );
    const rows = await server.orm.em.fork().find(Message, { agent: agent.id });
    expect(rows.map((r) => r.role)).toEqual(['user']);
    expect(rows[0]?.metadata).toMatchObject({ status: 'failed', error: { code: 'TOO_MANY_REQUESTS' } });
  });
});

describe('a turn’s status on the user message', () => {
  it('is pending while the provider answers, complete once the answer is saved', async () => {
    const { client } = await signUp(server, 'turnpending');
    const agent = await client.agents.create.mutate({ name: 'slow' });
    let release!: () => void;
    const answered = new Promise<void>((r) => (release = r));
    let asked = false;
    openaiFake.route = async () => {
      asked = true;
      await answered;
      return { text: 'done' };
    };
    try {
      const turn = client.chat.send.mutate({ agentId: agent.id, message: 'take your time' });
      await expect.poll(() => asked).toBe(true);
      const during = await client.messages.list.query({ agentId: agent.id });
      expect(during.items.map((m) => [m.role, m.status])).toEqual([['user', 'pending']]);
      release();
      await turn;
    } finally {
      openaiFake.route = undefined;
    }
    const after = await client.messages.list.query({ agentId: agent.id });
    expect(after.items.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
  });

  it('failAbandonedTurns marks failed a turn left pending longer than the threshold (its failure could not be recorded), and no other', async () => {
    const { client, user } = await signUp(server, 'turnabandoned');
    const agent = await client.agents.create.mutate({ name: 'left behind' });
    const em = server.orm.em.fork();
    const conn = em.getConnection();
    const insert = (id: string, ageMs: number, metadata: string | null) =>
      conn.execute(
        `insert into messages (id, created_at, updated_at, agent_id, role, content, sender_id, metadata)
         values (?, now() - (? * interval '1 millisecond'), now(), ?, 'user', ?, ?, ?::jsonb)`,
        [id, ageMs, agent.id, 'anyone there', user.id, metadata],
      );
    const [old, recent, answered] = [messageKey().id, messageKey().id, messageKey().id];
    await insert(old, 5_000, '{"status":"pending"}');
    await insert(recent, 100, '{"status":"pending"}');
    await insert(answered, 5_000, null);
    expect(await failAbandonedTurns(em, { olderThanMs: 2_000 })).toBe(1);
    const byId = new Map(
      (await client.messages.list.query({ agentId: agent.id })).items.map((m) => [m.id, m]),
    );
    expect(byId.get(old)).toMatchObject({ status: 'failed', error: { code: 'TURN_ABANDONED' } });
    expect(byId.get(recent)?.status).toBe('pending');
    expect(byId.get(answered)?.status).toBe('complete');
    // Once marked, a later run has nothing to do.
    expect(await failAbandonedTurns(em, { olderThanMs: 2_000 })).toBe(0);
  });
});

describe('chat.send and core memory', () => {
  it('gives an agent missing its default core blocks those blocks, and puts them in the prompt', async () => {
    const owner = await signUp(server, 'chatcore');
    const agent = await owner.client.agents.create.mutate({ name: 'older agent' });
    // As if the agent predates core memory: no blocks at all.
    await server.orm.em
      .getConnection()
      .execute('delete from core_memory_blocks where agent_id = ?', [agent.id]);
    openaiFake.replies.push({ text: 'ok' });
    await owner.client.chat.send.mutate({ agentId: agent.id, message: 'hello' });
    const system = systemOf(openaiFake.chatRequests.at(-1), 'openai');
    expect(system).toContain('<persona>');
    expect(system).toContain('<human>');
    const rows = await server.orm.em
      .getConnection()
      .execute<{ label: string }[]>(
        'select label from core_memory_blocks where agent_id = ? and deleted_at is null order by label',
        [agent.id],
      );
    expect(rows.map((r) => r.label)).toEqual(['human', 'persona']);
  });
});

describe('chat.send errors', () => {
  it("gives NOT_FOUND for another user's agent", async () => {
    const alice = await signUp(server, 'chatalice');
    const bob = await signUp(server, 'chatbob');
    const agent = await alice.client.agents.create.mutate({ name: 'private' });
    await expectTRPCError(
      bob.client.chat.send.mutate({ agentId: agent.id, message: 'hi' }),
      'NOT_FOUND',
      404,
    );
    expect(await server.orm.em.fork().count(Message, { agent: agent.id })).toBe(0);
  });

  it('gives NOT_FOUND for a deleted agent and saves nothing', async () => {
    // The ownership check and the user message's insert are one statement: no agent, no message.
    const { client } = await signUp(server, 'chatdeleted');
    const agent = await client.agents.create.mutate({ name: 'gone' });
    await client.agents.delete.mutate({ id: agent.id });
    const asked = openaiFake.chatRequests.length;
    await expectTRPCError(client.chat.send.mutate({ agentId: agent.id, message: 'hi' }), 'NOT_FOUND', 404);
    expect(await server.orm.em.fork().count(Message, { agent: agent.id })).toBe(0);
    expect(openaiFake.chatRequests).toHaveLength(asked);
  });

  it("answers NOT_FOUND for another user's agent before reading any of it for the prompt", async () => {
    // The turn's first read is the memory search, which embeds the message: an embedder that
    // counts requests shows whether any read started.
    const embedder = await startFakeOpenAI({ dim: 768 });
    const own = await startTestServer({
      env: {
        OPENAI_BASE_URL: openaiFake.url,
        OPENAI_API_KEY: 'sk-test',
        EMBEDDING_PROVIDER: 'openai',
        EMBEDDING_BASE_URL: embedder.url,
        EMBEDDING_API_KEY: 'sk-test',
      },
    });
    try {
      const alice = await signUp(own, 'scopealice');
      const bob = await signUp(own, 'scopebob');
      const agent = await alice.client.agents.create.mutate({ name: 'private' });
      await alice.client.chat.send.mutate({ agentId: agent.id, message: 'secret question' });
      const afterOwnTurn = embedder.embeddingBatches.length;
      expect(afterOwnTurn).toBeGreaterThan(0);

      const asked = openaiFake.chatRequests.length;
      await expectTRPCError(
        bob.client.chat.send.mutate({ agentId: agent.id, message: 'what is the secret?' }),
        'NOT_FOUND',
        404,
      );
      await expectTRPCError(
        bob.client.memory.search.query({ agentId: agent.id, query: 'secret' }),
        'NOT_FOUND',
        404,
      );
      expect(embedder.embeddingBatches).toHaveLength(afterOwnTurn);
      expect(openaiFake.chatRequests).toHaveLength(asked);
      expect(await own.orm.em.fork().count(Message, { agent: agent.id })).toBe(2);
    } finally {
      await own.close();
      await embedder.close();
    }
  });

  it('gives an agent missing its default core blocks the blocks on its first turn', async () => {
    const { client, user } = await signUp(server, 'coreless');
    const agent = await client.agents.create.mutate({ name: 'coreless' });
    const em = server.orm.em.fork();
    await em.nativeDelete(CoreMemoryBlock, { agent: agent.id });
    const owner = await em.findOneOrFail(User, user.id);
    const loaded = await em.findOneOrFail(Agent, agent.id);
    expect((await coreBlockValues(em, owner, loaded)).map((b) => b.label)).toEqual(['persona', 'human']);
  });

  it('answers PRECONDITION_FAILED naming the variables when no provider is configured', async () => {
    const bare = await startTestServer();
    try {
      const { client } = await signUp(bare, 'noprov');
      const agent = await client.agents.create.mutate({ name: 'unconfigured' });
      const err = await expectTRPCError(
        client.chat.send.mutate({ agentId: agent.id, message: 'hi' }),
        'PRECONDITION_FAILED',
        412,
      );
      expect(err.message).toMatch(/OPENAI_API_KEY/);
    } finally {
      await bare.close();
    }
  });
});
