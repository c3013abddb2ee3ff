import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyJob, type StagedChange } from '../../server/modules/consolidation/apply.service.js';
import { MemoryJob } from '../../server/modules/consolidation/memory-job.entity.js';
import { MemoryHistory } from '../../server/modules/memory/memory-history.entity.js';
import { MemoryItem } from '../../server/modules/memory/memory.entity.js';
import { VaultCipher } from '../../server/modules/memory/vault-cipher.js';
import { signUp, startTestServer, TEST_VAULT_KEYS, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const usage = { llmCalls: 2, promptTokens: 10, completionTokens: 5, totalTokens: 15 };

/** An agent with one event, and an active job of its (as a worker holds it once claimed). */
async function activeJob(name: string) {
  const { client, user } = await signUp(server, name);
  const agent = await client.agents.create.mutate({ name });
  const event = await client.memory.episodic.create.mutate({
    agentId: agent.id,
    eventType: 'trip',
    summary: 'Lisbon',
  });
  const em = server.orm.em.fork();
  const job = em.create(MemoryJob, {
    agent: agent.id,
    user: user.id,
    source: 'text',
    input: { kind: 'text', text: 'x', source: null },
    status: 'active',
    attempts: 1,
  });
  await em.flush();
  const jobId = job.id;
  const apply = (staged: StagedChange[]) =>
    applyJob(server.orm.em.fork(), {
      cipher: new VaultCipher(TEST_VAULT_KEYS),
      target: { jobId, agentId: agent.id, userId: user.id },
      staged,
      usage,
    });
  return { client, agent, event, jobId, apply };
}

describe('applyJob', () => {
  it('applies every kind of change with one history row each, and completes the job with its changes', async () => {
    const { client, agent, event, jobId, apply } = await activeJob('applyall');
    const result = await apply([
      {
        kind: 'insert',
        type: 'semantic',
        fields: { name: 'Ana', summary: 'Lives in Porto' },
        actor: 'semantic_memory_manager',
      },
      {
        kind: 'update',
        type: 'episodic',
        id: event.id,
        patch: { details: 'Trams' },
        operation: 'merged',
        actor: 'episodic_memory_manager',
      },
      { kind: 'core', label: 'human', op: 'append', text: 'Name: Ana', actor: 'core_memory_manager' },
    ]);
    expect(result.alreadyApplied).toBe(false);
    expect(result.changes.map((c) => c.operation)).toEqual(['created', 'merged', 'appended']);
    // The inserted fact and the merged event need new vectors; core blocks have none.
    expect(result.toEmbed).toHaveLength(2);

    const em = server.orm.em.fork();
    expect(await em.count(MemoryHistory, { job: jobId })).toBe(3);
    const job = await em.findOneOrFail(MemoryJob, jobId);
    expect(job.status).toBe('completed');
    expect(job.llmCalls).toBe(2);
    expect((await client.memory.episodic.get.query({ agentId: agent.id, id: event.id })).details).toBe(
      'Trams',
    );
    const core = await client.memory.core.get.query({ agentId: agent.id });
    expect(core.find((b) => b.label === 'human')?.value).toBe('Name: Ana');
  });

  it('lands whole or not at all: a change the database refuses rolls back the changes before it', async () => {
    const { agent, jobId, apply } = await activeJob('applynone');
    await expect(
      apply([
        {
          kind: 'insert',
          type: 'semantic',
          fields: { name: 'Kept?', summary: 'no' },
          actor: 'semantic_memory_manager',
        },
        // PostgreSQL text cannot hold NUL: the statement fails inside the transaction.
        {
          kind: 'insert',
          type: 'semantic',
          fields: { name: 'bad', summary: 'a\u0000b' },
          actor: 'semantic_memory_manager',
        },
      ]),
    ).rejects.toThrow();
    const em = server.orm.em.fork();
    expect(await em.count(MemoryItem, { agent: agent.id, memoryType: 'semantic' })).toBe(0);
    expect(await em.count(MemoryHistory, { job: jobId })).toBe(0);
    expect((await em.findOneOrFail(MemoryJob, jobId)).status).toBe('active');
  });

  it('skips a change to an item deleted since it was staged, and deletes what it was asked to', async () => {
    const { client, agent, event, apply } = await activeJob('applygone');
    const result = await apply([
      { kind: 'delete', type: 'episodic', id: event.id, actor: 'episodic_memory_manager' },
      {
        kind: 'update',
        type: 'episodic',
        id: event.id,
        patch: { summary: 'late' },
        operation: 'updated',
        actor: 'episodic_memory_manager',
      },
    ]);
    expect(result.changes.map((c) => c.operation)).toEqual(['deleted']);
    await expect(client.memory.episodic.get.query({ agentId: agent.id, id: event.id })).rejects.toThrow(
      /not found/i,
    );
  });
});
