import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../server/modules/agents/agent.entity.js';
import { Message } from '../../server/modules/messages/message.entity.js';
import { expectTRPCError, signUp, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** Inserts `count` messages, several sharing one millisecond, as a chat would. */
async function insertMessages(agentId: string, count: number, at = new Date('2026-01-01T00:00:00Z')) {
  const em = server.orm.em.fork();
  const agent = em.getReference(Agent, agentId);
  const made: Message[] = [];
  for (let i = 0; i < count; i++) {
    const createdAt = new Date(at.getTime() + Math.floor(i / 3));
    made.push(
      em.create(Message, {
        agent,
        role: i % 2 ? 'assistant' : 'user',
        content: `message ${i}`,
        createdAt,
        updatedAt: createdAt,
      }),
    );
  }
  await em.flush();
  return made;
}

describe('messages.list', () => {
  it('returns messages oldest first and walks all pages with the cursor, without gaps or repeats', async () => {
    const { client } = await signUp(server, 'pager');
    const agent = await client.agents.create.mutate({ name: 'chatty' });
    const made = await insertMessages(agent.id, 23);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof client.messages.list.query>> = await client.messages.list.query({
        agentId: agent.id,
        cursor,
        limit: 5,
      });
      seen.push(...page.items.map((m) => m.content));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);

    expect(pages).toBe(5);
    expect(seen).toEqual(made.map((m) => m.content));
  });

  it('returns the newest first on request, and walks back through earlier pages with the cursor', async () => {
    const { client } = await signUp(server, 'recent');
    const agent = await client.agents.create.mutate({ name: 'long chat' });
    const made = await insertMessages(agent.id, 23);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof client.messages.list.query>> = await client.messages.list.query({
        agentId: agent.id,
        cursor,
        limit: 5,
        order: 'newest',
      });
      seen.push(...page.items.map((m) => m.content));
      cursor = page.nextCursor;
    } while (cursor);

    expect(seen).toEqual(made.map((m) => m.content).reverse());
  });

  it('returns no cursor when everything fits on one page', async () => {
    const { client } = await signUp(server, 'single');
    const agent = await client.agents.create.mutate({ name: 'quiet' });
    await insertMessages(agent.id, 3);
    const page = await client.messages.list.query({ agentId: agent.id, limit: 3 });
    expect(page.items).toHaveLength(3);
    expect(page.nextCursor).toBeNull();
    expect(page.items[0]).toMatchObject({
      agentId: agent.id,
      role: 'user',
      content: 'message 0',
      tokenUsage: null,
    });
  });

  it('rejects a tampered cursor with BAD_REQUEST', async () => {
    const { client } = await signUp(server, 'tamper');
    const agent = await client.agents.create.mutate({ name: 'cursor' });
    await expectTRPCError(
      client.messages.list.query({ agentId: agent.id, cursor: 'bm90LWEtY3Vyc29y' }),
      'BAD_REQUEST',
      400,
    );
  });

  it('gives NOT_FOUND for a deleted agent', async () => {
    const { client } = await signUp(server, 'gone');
    const agent = await client.agents.create.mutate({ name: 'to delete' });
    await insertMessages(agent.id, 2);
    await client.agents.delete.mutate({ id: agent.id });
    await expectTRPCError(client.messages.list.query({ agentId: agent.id }), 'NOT_FOUND', 404);
  });
});
