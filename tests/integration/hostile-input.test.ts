// Hostile input answers 400 with a message that says what is wrong, never a 500, and stores nothing
// (regressions of issue 16: NUL bytes, lone surrogates, deep nesting, out-of-range dates, crafted cursors).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectTRPCError, signUp, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let owner: Awaited<ReturnType<typeof signUp>>;
let agentId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUp(server, 'hostile');
  agentId = (await owner.client.agents.create.mutate({ name: 'target' })).id;
});
afterAll(async () => {
  await server?.close();
});

/** JSON nested `depth` levels deep (built as text: JSON.stringify itself recurses). */
const nested = (depth: number) => `${'{"p":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** A raw tRPC call over HTTP, as a fuzzer sends it (the input as superjson's `{ json }`). */
async function rawTrpc(path: string, input: unknown, token?: string) {
  const res = await fetch(`${server.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: `{"json":${typeof input === 'string' ? input : JSON.stringify(input)}}`,
  });
  return { status: res.status, text: await res.text() };
}

async function rawRest(method: string, path: string, body: string, token = owner.token) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  return { status: res.status, text: await res.text() };
}

const noStack = (text: string) =>
  expect(text).not.toMatch(/\n\s+at |Maximum call stack|invalid byte sequence/);

describe('hostile input', () => {
  it('answers a NUL byte in any string field with 400, with no account needed', async () => {
    const login = await rawTrpc('auth.login', { username: 'a\u0000b', password: 'whatever-password' });
    expect(login.status).toBe(400);
    expect(login.text).toContain('NUL');
    noStack(login.text);
    const c = owner.client;
    await expectTRPCError(c.agents.create.mutate({ name: 'x\u0000' }), 'BAD_REQUEST', 400);
    await expectTRPCError(
      c.memory.semantic.create.mutate({ agentId, name: 'n', summary: 's\u0000' }),
      'BAD_REQUEST',
    );
    await expectTRPCError(
      c.memory.core.set.mutate({ agentId, label: 'human', value: '\u0000' }),
      'BAD_REQUEST',
    );
    await expectTRPCError(c.memory.ingest.mutate({ agentId, text: 'a\u0000' }), 'BAD_REQUEST');
    await expectTRPCError(c.memory.semantic.list.query({ agentId, contains: '\u0000' }), 'BAD_REQUEST');
    expect((await c.memory.semantic.list.query({ agentId })).items).toEqual([]);
  });

  it('answers lone surrogates with 400', async () => {
    const c = owner.client;
    const item = await c.memory.semantic.create.mutate({ agentId, name: 'ok', summary: 'fine' });
    await expectTRPCError(
      c.memory.semantic.update.mutate({ agentId, id: item.id, summary: '\ud800' }),
      'BAD_REQUEST',
    );
    await expectTRPCError(
      c.memory.core.set.mutate({ agentId, label: 'human', value: 'x\udfff' }),
      'BAD_REQUEST',
    );
    await expectTRPCError(c.memory.ingest.mutate({ agentId, text: '\ud800' }), 'BAD_REQUEST');
    expect((await c.memory.semantic.get.query({ agentId, id: item.id })).summary).toBe('fine');
  });

  it('refuses input nested too deeply, so no stored agent can break agent lists (stored DoS)', async () => {
    const deep = `{"name":"deep","model_config":{"provider":"openai","model":"m","parameters":${nested(2500)}}}`;
    const created = await rawRest('POST', '/agents', deep);
    expect(created.status).toBe(400);
    expect(created.text).toContain('nested deeper');
    const rest5000 = await rawRest('POST', '/agents', `{"name":"deeper","parameters":${nested(5000)}}`);
    expect(rest5000.status).toBe(400);
    const trpcInput = `{"name":"deep","modelConfig":{"parameters":${nested(3000)}}}`;
    const trpc = await rawTrpc('agents.create', trpcInput, owner.token);
    expect(trpc.status).toBe(400);
    noStack(trpc.text);
    const list = await owner.client.agents.list.query({});
    expect(list.items.map((a) => a.name)).toEqual(['target']);
  });

  it('answers dates PostgreSQL cannot hold with 400', async () => {
    const c = owner.client;
    for (const when of ['-271821-04-20', '+275760-09-13T00:00:00.000Z', '0000-01-01', '99999-01-01']) {
      const search = await rawRest(
        'POST',
        `/agents/${agentId}/memories/search`,
        JSON.stringify({ query: 'x', time_range: { from: when } }),
      );
      expect(search.status, when).toBe(400);
      const episode = await rawRest(
        'POST',
        `/agents/${agentId}/memories/episodic`,
        JSON.stringify({ summary: 's', occurred_at: when }),
      );
      expect(episode.status, when).toBe(400);
    }
    await expectTRPCError(
      c.memory.episodic.create.mutate({ agentId, summary: 's', occurredAt: new Date('-271821-04-20') }),
      'BAD_REQUEST',
    );
  });

  it('answers crafted cursors with 400', async () => {
    const crafted = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of [
      crafted(['2024-01-01', '-'.repeat(36)]),
      crafted(['+275760-09-13T00:00:00.000Z', agentId]),
    ]) {
      await expectTRPCError(owner.client.memory.semantic.list.query({ agentId, cursor }), 'BAD_REQUEST', 400);
      await expectTRPCError(owner.client.messages.list.query({ agentId, cursor }), 'BAD_REQUEST', 400);
    }
  });
});
