import { TRPCClientError } from '@trpc/client';
import type { MirixClient } from '../../client/index.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { managerRoute } from '../support/memory-managers.js';
import { startStack, type Stack } from '../support/stack.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { CHAOS } from './chaos.js';

// PostgreSQL lost under a running API and worker while CHAOS.turns chat turns wait for the model:
// every connection is cut and new ones are refused (a TCP proxy in front of the real server, which
// the other test files share). Every answer is a 503, never a 500; once the database is back, each
// turn's user message is marked failed, and the same processes serve requests again.

const ABANDON_MS = 3000;
let fake: FakeOpenAI;
let db: TestDatabase;
let proxy: TcpProxy;
let stack: Stack;
const calls = { chat: 0 };
/** The model answers a chat turn once the gate opens (so no answer can be saved before the cut). */
let gate: Promise<void> = Promise.resolve();
let openGate = () => {};
const closeGate = () => {
  gate = new Promise((resolve) => (openGate = resolve));
};

beforeAll(async () => {
  fake = await startFakeOpenAI({ dim: 8 });
  const managers = managerRoute({ meta: [] });
  fake.route = async (body) => {
    const reply = await managers(body);
    if (reply) return reply;
    calls.chat++;
    await gate; // a model thinking
    return { text: 'an answer' };
  };
  db = await createTestDatabase();
  const target = new URL(db.url);
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  await proxy.start();
  stack = await startStack({
    databaseUrl: proxy.rewrite(db.url),
    redisUrl: inject('redisUrl'),
    openaiUrl: fake.url,
    env: { CHAT_TURN_ABANDON_MS: String(ABANDON_MS), DB_POOL_MAX: '10' },
  });
});
afterAll(async () => {
  await stack?.close();
  await proxy?.stop();
  await fake?.close();
  await db?.drop();
});

/** The HTTP status a call answered: 200, or its tRPC error's. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err) {
    if (err instanceof TRPCClientError)
      return (err.data as { httpStatus?: number } | undefined)?.httpStatus ?? -1;
    throw err;
  }
}

async function agentsOf(client: MirixClient) {
  return Promise.all(
    Array.from({ length: CHAOS.agents }, (_, i) => client.agents.create.mutate({ name: `agent ${i}` })),
  );
}

/** CHAOS.turns chat turns over the agents, each resolving to the status it answered. */
function sendTurns(client: MirixClient, agents: { id: string }[]): Promise<number>[] {
  return Array.from({ length: CHAOS.turns }, (_, i) =>
    statusOf(client.chat.send.mutate({ agentId: agents[i % agents.length]!.id, message: `question ${i}` })),
  );
}

/** Waits until the same API process answers again. */
async function untilAnswering(client: MirixClient) {
  await expect
    .poll(() => statusOf(client.agents.list.query({})), { timeout: 30_000, interval: 200 })
    .toBe(200);
}

/** The agents' messages once none is pending any more (the worker's sweep has run). */
async function settledMessages(client: MirixClient, agents: { id: string }[]) {
  const messages = async () =>
    (await Promise.all(agents.map((a) => client.messages.list.query({ agentId: a.id, limit: 200 })))).flatMap(
      (p) => p.items,
    );
  await expect
    .poll(async () => (await messages()).filter((m) => m.status === 'pending').length, {
      timeout: ABANDON_MS * 10,
      interval: 250,
    })
    .toBe(0);
  return messages();
}

describe('PostgreSQL lost mid-request', () => {
  it('answers 503 only, marks every cut turn failed once it is back, and recovers without restarts', async () => {
    const { client, token } = await stack.signUp('pgless');
    const agents = await agentsOf(client);
    closeGate();
    const startedBefore = calls.chat;
    const turns = sendTurns(client, agents);
    // Every turn has saved its user message and waits for the model: now the database goes.
    await expect.poll(() => calls.chat - startedBefore, { timeout: 30_000, interval: 10 }).toBe(CHAOS.turns);
    await proxy.stop();
    openGate();

    // While it is gone: reads, writes, a new turn, REST and the readiness check.
    const during = await Promise.all([
      statusOf(client.agents.list.query({})),
      statusOf(client.memory.search.query({ agentId: agents[0]!.id, query: 'anything' })),
      statusOf(client.memory.semantic.create.mutate({ agentId: agents[0]!.id, name: 'n', summary: 's' })),
      statusOf(client.chat.send.mutate({ agentId: agents[1]!.id, message: 'during the outage' })),
      fetch(`${stack.url}/api/v1/agents`, { headers: { authorization: `Bearer ${token}` } }).then(
        (r) => r.status,
      ),
      fetch(`${stack.url}/ready`).then((r) => r.status),
    ]);
    const cut = await Promise.all(turns);
    expect(cut).toEqual(Array.from({ length: CHAOS.turns }, () => 503));
    expect(during).toEqual([503, 503, 503, 503, 503, 503]);

    await proxy.start();
    // The same API process answers again as soon as the database does.
    await untilAnswering(client);
    const messages = await settledMessages(client, agents);
    // Only the turns that were cut saved a message (the one sent during the outage saved nothing),
    // and none got an answer.
    expect(messages.map((m) => m.role)).toEqual(Array.from({ length: CHAOS.turns }, () => 'user'));
    for (const m of messages) {
      expect(m.status).toBe('failed');
      expect(m.error?.code).toBe('TURN_ABANDONED');
    }

    // Recovery without restarts: a turn succeeds on the same processes.
    const turn = await client.chat.send.mutate({ agentId: agents[0]!.id, message: 'are you back?' });
    expect(turn.response).toBe('an answer');
    expect(stack.api.child.exitCode).toBeNull();
    expect(stack.worker?.child.exitCode).toBeNull();
  });

  it('answers 503 only when the cut comes while turns are mid-query, and leaves no message pending', async () => {
    const { client } = await stack.signUp('pgmidquery');
    const agents = await agentsOf(client);
    closeGate();
    const startedBefore = calls.chat;
    const turns = sendTurns(client, agents);
    // The first turn has reached the model; the others are saving their message or reading memories.
    await expect.poll(() => calls.chat - startedBefore, { timeout: 30_000, interval: 1 }).toBeGreaterThan(0);
    await proxy.stop();
    openGate();
    const cut = await Promise.all(turns);
    expect(cut).toEqual(Array.from({ length: CHAOS.turns }, () => 503));
    await proxy.start();
    await untilAnswering(client);
    const saved = await settledMessages(client, agents);
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.length).toBeLessThanOrEqual(CHAOS.turns);
    expect(saved.every((m) => m.role === 'user' && m.status === 'failed')).toBe(true);
  });
});
