import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../server/modules/agents/agent.entity.js';
import { Message } from '../../server/modules/messages/message.entity.js';
import { User } from '../../server/modules/users/user.entity.js';
import { expectTRPCError, signUp, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('agent CRUD', () => {
  it('creates, gets, updates, lists and soft-deletes an agent', async () => {
    const { user, client } = await signUp(server, 'crud');

    const created = await client.agents.create.mutate({
      name: '集成测试智能体',
      agentType: 'assistant',
      description: '用于集成测试',
      systemPrompt: '你是一个测试助手',
      modelConfig: { provider: 'anthropic', model: 'claude-sonnet-4', parameters: { temperature: 0.2 } },
    });
    expect(created).toMatchObject({
      ownerId: user.id,
      name: '集成测试智能体',
      agentType: 'assistant',
      description: '用于集成测试',
      systemPrompt: '你是一个测试助手',
      modelConfig: { provider: 'anthropic', model: 'claude-sonnet-4', parameters: { temperature: 0.2 } },
      isActive: true,
    });

    expect(await client.agents.get.query({ id: created.id })).toEqual(created);

    const updated = await client.agents.update.mutate({ id: created.id, description: '更新后的描述' });
    expect(updated.description).toBe('更新后的描述');
    expect(updated.name).toBe(created.name);
    expect(updated.systemPrompt).toBe(created.systemPrompt);
    expect(updated.modelConfig).toEqual(created.modelConfig);
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());

    const cleared = await client.agents.update.mutate({ id: created.id, systemPrompt: null });
    expect(cleared.systemPrompt).toBeNull();
    expect(cleared.description).toBe('更新后的描述');

    const list = await client.agents.list.query({});
    expect(list.items.map((a) => a.id)).toEqual([created.id]);
    expect(list.total).toBe(1);

    expect(await client.agents.delete.mutate({ id: created.id })).toEqual({ id: created.id, deleted: true });
    await expectTRPCError(client.agents.get.query({ id: created.id }), 'NOT_FOUND', 404);
    await expectTRPCError(client.agents.update.mutate({ id: created.id, name: 'x' }), 'NOT_FOUND', 404);
    await expectTRPCError(client.agents.delete.mutate({ id: created.id }), 'NOT_FOUND', 404);
    expect((await client.agents.list.query({})).items).toEqual([]);

    // Soft delete: the row is still there, marked deleted.
    const row = await server.orm.em.fork().findOneOrFail(Agent, { id: created.id });
    expect(row.deletedAt).toBeInstanceOf(Date);
  });

  it('fills in defaults for agentType and modelConfig', async () => {
    const { client } = await signUp(server, 'defaults');
    const agent = await client.agents.create.mutate({ name: 'plain' });
    expect(agent.agentType).toBe('assistant');
    expect(agent.modelConfig).toEqual({ provider: 'openai', model: 'gpt-4o-mini', parameters: {} });
    expect(agent.description).toBeNull();
  });

  it('lists newest first, pages with skip/limit and filters by agentType', async () => {
    const { client } = await signUp(server, 'lister');
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        await client.agents.create.mutate({ name: `agent ${i}`, agentType: i % 2 ? 'analyst' : 'assistant' }),
      );
    }
    const newestFirst = made.map((a) => a.id).reverse();

    const all = await client.agents.list.query({ limit: 100 });
    expect(all.items.map((a) => a.id)).toEqual(newestFirst);
    expect(all.total).toBe(5);

    const page = await client.agents.list.query({ skip: 1, limit: 2 });
    expect(page.items.map((a) => a.id)).toEqual(newestFirst.slice(1, 3));
    expect(page).toMatchObject({ total: 5, skip: 1, limit: 2 });

    const analysts = await client.agents.list.query({ agentType: 'analyst' });
    expect(analysts.items.map((a) => a.name)).toEqual(['agent 3', 'agent 1']);
    expect(analysts.total).toBe(2);
  });

  it('rejects a limit above 100', async () => {
    const { client } = await signUp(server, 'limit');
    const err = await expectTRPCError(client.agents.list.query({ limit: 101 }), 'BAD_REQUEST', 400);
    expect(err.data.fieldErrors?.limit?.[0]).toMatch(/100/);
  });

  it('reports field-level validation errors, including nested fields', async () => {
    const { client } = await signUp(server, 'invalid');
    const err = await expectTRPCError(
      client.agents.create.mutate({
        name: '',
        agentType: 'Not A Type',
        // @ts-expect-error -- an unsupported provider, on purpose
        modelConfig: { provider: 'mystery', model: 'x' },
      }),
      'BAD_REQUEST',
      400,
    );
    expect(Object.keys(err.data.fieldErrors ?? {}).sort()).toEqual([
      'agentType',
      'modelConfig.provider',
      'name',
    ]);
    expect(err.data.fieldErrors?.name).toEqual(['required']);
    expect(err.message).toMatch(/^Invalid input: /);
    expect(err.message).not.toMatch(/stack|at .*\.ts/);
    expect(await server.orm.em.fork().count(Agent, { name: '' })).toBe(0);
  });

  it('rejects a malformed id as BAD_REQUEST, not a server error', async () => {
    const { client } = await signUp(server, 'badid');
    const err = await expectTRPCError(client.agents.get.query({ id: 'not-a-uuid' }), 'BAD_REQUEST', 400);
    expect(err.data.fieldErrors).toHaveProperty('id');
  });

  it('runs batched calls in separate units of work: one failing call does not spoil the others', async () => {
    const { client } = await signUp(server, 'batch');
    const existing = await client.agents.create.mutate({ name: 'existing' });
    const [ok, missing, ok2] = await Promise.allSettled([
      client.agents.create.mutate({ name: 'batched one' }),
      client.agents.update.mutate({ id: '00000000-0000-7000-8000-000000000000', name: 'ghost' }),
      client.agents.update.mutate({ id: existing.id, name: 'renamed in batch' }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(missing.status).toBe('rejected');
    expect(ok2.status).toBe('fulfilled');
    const names = (await client.agents.list.query({})).items.map((a) => a.name).sort();
    expect(names).toEqual(['batched one', 'renamed in batch']);
  });
});

describe('ownership', () => {
  it("gives NOT_FOUND on every agent and message procedure aimed at another user's objects", async () => {
    const alice = await signUp(server, 'alice');
    const bob = await signUp(server, 'bob');
    const agent = await alice.client.agents.create.mutate({ name: 'alice private' });
    const em = server.orm.em.fork();
    em.create(Message, { agent: em.getReference(Agent, agent.id), role: 'user', content: 'secret note' });
    await em.flush();

    await expectTRPCError(bob.client.agents.get.query({ id: agent.id }), 'NOT_FOUND', 404);
    await expectTRPCError(bob.client.agents.update.mutate({ id: agent.id, name: 'pwned' }), 'NOT_FOUND', 404);
    await expectTRPCError(bob.client.agents.delete.mutate({ id: agent.id }), 'NOT_FOUND', 404);
    await expectTRPCError(bob.client.messages.list.query({ agentId: agent.id }), 'NOT_FOUND', 404);
    expect((await bob.client.agents.list.query({})).items).toEqual([]);

    // The same answer as for an id that does not exist at all: nothing leaks.
    const ghost = await expectTRPCError(
      bob.client.agents.get.query({ id: '00000000-0000-7000-8000-000000000000' }),
      'NOT_FOUND',
    );
    const real = await expectTRPCError(bob.client.agents.get.query({ id: agent.id }), 'NOT_FOUND');
    expect(real.message).toBe(ghost.message);

    // Nothing changed for Alice.
    const mine = await alice.client.agents.get.query({ id: agent.id });
    expect(mine.name).toBe('alice private');
    expect((await alice.client.messages.list.query({ agentId: agent.id })).items).toHaveLength(1);
  });
});

describe('admin.listAgents', () => {
  it('lists agents across users for a superuser, and is FORBIDDEN to others', async () => {
    const admin = await signUp(server, 'root');
    await server.orm.em.fork().nativeUpdate(User, { id: admin.user.id }, { isSuperuser: true });
    const carol = await signUp(server, 'carol');
    const dave = await signUp(server, 'dave');
    const a1 = await carol.client.agents.create.mutate({ name: 'carol agent', agentType: 'analyst' });
    const a2 = await dave.client.agents.create.mutate({ name: 'dave agent', agentType: 'analyst' });
    const deleted = await dave.client.agents.create.mutate({ name: 'dave deleted', agentType: 'analyst' });
    await dave.client.agents.delete.mutate({ id: deleted.id });

    const all = await admin.client.admin.listAgents.query({ agentType: 'analyst', limit: 100 });
    const ids = all.items.map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining([a1.id, a2.id]));
    expect(ids).not.toContain(deleted.id);
    expect(ids.indexOf(a2.id)).toBeLessThan(ids.indexOf(a1.id));

    const davesOnly = await admin.client.admin.listAgents.query({ ownerId: dave.user.id });
    expect(davesOnly.items.map((a) => a.id)).toEqual([a2.id]);

    await expectTRPCError(carol.client.admin.listAgents.query({}), 'FORBIDDEN', 403);
  });
});

describe('admin.listUsers', () => {
  it('lists accounts for a superuser, never their password hashes, and is FORBIDDEN to others', async () => {
    const admin = await signUp(server, 'root');
    await server.orm.em.fork().nativeUpdate(User, { id: admin.user.id }, { isSuperuser: true });
    const erin = await signUp(server, 'erin');
    const page = await admin.client.admin.listUsers.query({ limit: 200 });
    expect(page.items.map((u) => u.id)).toEqual(expect.arrayContaining([admin.user.id, erin.user.id]));
    expect(page.items.find((u) => u.id === admin.user.id)?.isSuperuser).toBe(true);
    expect(page.total).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(page)).not.toMatch(/argon2|password/i);
    await expectTRPCError(erin.client.admin.listUsers.query({}), 'FORBIDDEN', 403);
  });
});
