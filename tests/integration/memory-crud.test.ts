import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryItem } from '../../server/modules/memory/memory.entity.js';
import { VaultAccess } from '../../server/modules/memory/vault-access.entity.js';
import { expectTRPCError, signUp, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function agentFor(name: string) {
  const owner = await signUp(server, name);
  const agent = await owner.client.agents.create.mutate({ name: `${name} agent` });
  return { ...owner, agent };
}

describe('each memory type: create, get, list, update, delete', () => {
  it('episodic', async () => {
    const { client, agent } = await agentFor('epi');
    const occurredAt = new Date('2026-03-01T10:00:00Z');
    const created = await client.memory.episodic.create.mutate({
      agentId: agent.id,
      occurredAt,
      eventType: 'meeting',
      actor: 'assistant',
      summary: 'Met Alice to plan the launch',
      details: 'We agreed on the 15th.',
    });
    expect(created).toMatchObject({
      type: 'episodic',
      agentId: agent.id,
      occurredAt,
      eventType: 'meeting',
      summary: 'Met Alice to plan the launch',
      embeddingStatus: 'pending',
      lastModified: { operation: 'created', by: 'user' },
    });
    expect(await client.memory.episodic.get.query({ agentId: created.agentId, id: created.id })).toEqual(
      created,
    );

    const updated = await client.memory.episodic.update.mutate({
      agentId: created.agentId,
      id: created.id,
      summary: 'Met Alice and Bob',
    });
    expect(updated.summary).toBe('Met Alice and Bob');
    // Omitted fields keep their values, including ones that have a default on create.
    expect(updated.details).toBe('We agreed on the 15th.');
    expect(updated.actor).toBe('assistant');
    expect(updated.lastModified.operation).toBe('updated');

    const list = await client.memory.episodic.list.query({ agentId: agent.id });
    expect(list.items.map((i) => i.id)).toEqual([created.id]);

    await client.memory.episodic.delete.mutate({ agentId: created.agentId, id: created.id });
    await expectTRPCError(
      client.memory.episodic.get.query({ agentId: created.agentId, id: created.id }),
      'NOT_FOUND',
      404,
    );
    expect((await client.memory.episodic.list.query({ agentId: agent.id })).items).toEqual([]);
    const row = await server.orm.em.fork().findOneOrFail(MemoryItem, { id: created.id });
    expect(row.deletedAt).toBeInstanceOf(Date);
  });

  it('semantic', async () => {
    const { client, agent } = await agentFor('sem');
    const created = await client.memory.semantic.create.mutate({
      agentId: agent.id,
      name: 'PostgreSQL',
      summary: 'An open source relational database',
      source: 'wikipedia',
    });
    expect(created).toMatchObject({
      type: 'semantic',
      name: 'PostgreSQL',
      details: null,
      source: 'wikipedia',
    });
    const updated = await client.memory.semantic.update.mutate({
      agentId: created.agentId,
      id: created.id,
      details: 'Has extensions like pgvector',
    });
    expect(updated).toMatchObject({ name: 'PostgreSQL', details: 'Has extensions like pgvector' });
    await client.memory.semantic.delete.mutate({ agentId: created.agentId, id: created.id });
    await expectTRPCError(
      client.memory.semantic.get.query({ agentId: created.agentId, id: created.id }),
      'NOT_FOUND',
    );
  });

  it('procedural', async () => {
    const { client, agent } = await agentFor('proc');
    const created = await client.memory.procedural.create.mutate({
      agentId: agent.id,
      entryType: 'workflow',
      summary: 'Deploy the API',
      steps: ['run the tests', 'build the image', 'roll out'],
    });
    expect(created.steps).toEqual(['run the tests', 'build the image', 'roll out']);
    const updated = await client.memory.procedural.update.mutate({
      agentId: created.agentId,
      id: created.id,
      steps: ['just roll out'],
    });
    expect(updated.steps).toEqual(['just roll out']);
    expect(updated.summary).toBe('Deploy the API');
    await client.memory.procedural.delete.mutate({ agentId: created.agentId, id: created.id });
    await expectTRPCError(
      client.memory.procedural.update.mutate({ agentId: created.agentId, id: created.id, summary: 'x' }),
      'NOT_FOUND',
    );
  });

  it('resource (content comes back from get, not from list)', async () => {
    const { client, agent } = await agentFor('res');
    const content = 'chapter one. '.repeat(5000);
    const created = await client.memory.resource.create.mutate({
      agentId: agent.id,
      title: 'Design notes',
      summary: 'Notes about the architecture',
      resourceType: 'document',
      content,
    });
    expect(created.content).toBe(content);
    expect(
      (await client.memory.resource.get.query({ agentId: created.agentId, id: created.id })).content,
    ).toBe(content);
    const listed = await client.memory.resource.list.query({ agentId: agent.id });
    expect(listed.items[0]).not.toHaveProperty('content');
    const updated = await client.memory.resource.update.mutate({
      agentId: created.agentId,
      id: created.id,
      title: 'Design notes v2',
    });
    expect(updated.content).toBe(content);
    await client.memory.resource.delete.mutate({ agentId: created.agentId, id: created.id });
    await expectTRPCError(
      client.memory.resource.get.query({ agentId: created.agentId, id: created.id }),
      'NOT_FOUND',
    );
  });

  it('creates up to 500 items in one batch, and rejects 501', async () => {
    const { client, agent } = await agentFor('batch');
    const items = Array.from({ length: 500 }, (_, i) => ({ eventType: 'note', summary: `batch item ${i}` }));
    const { ids } = await client.memory.episodic.createMany.mutate({ agentId: agent.id, items });
    expect(ids).toHaveLength(500);
    expect((await client.memory.stats.query({ agentId: agent.id })).counts.episodic).toBe(500);
    const err = await expectTRPCError(
      client.memory.episodic.createMany.mutate({ agentId: agent.id, items: [...items, items[0]!] }),
      'BAD_REQUEST',
      400,
    );
    expect(err.data.fieldErrors).toHaveProperty('items');
    expect((await client.memory.stats.query({ agentId: agent.id })).counts.episodic).toBe(500);
  });

  it('writes nothing from a batch with one invalid item', async () => {
    const { client, agent } = await agentFor('atomic');
    const err = await expectTRPCError(
      client.memory.semantic.createMany.mutate({
        agentId: agent.id,
        items: [
          { name: 'ok', summary: 'fine' },
          { name: '', summary: 'bad' },
        ],
      }),
      'BAD_REQUEST',
    );
    expect(Object.keys(err.data.fieldErrors ?? {})).toEqual(['items.1.name']);
    expect((await client.memory.stats.query({ agentId: agent.id })).counts.semantic).toBe(0);
  });
});

describe('list filters and pagination', () => {
  it('filters by time range and substring, newest first, and pages with a cursor', async () => {
    const { client, agent } = await agentFor('lists');
    const day = (d: number) => new Date(Date.UTC(2026, 0, d, 12));
    for (let d = 1; d <= 9; d++) {
      await client.memory.episodic.create.mutate({
        agentId: agent.id,
        occurredAt: day(d),
        eventType: 'log',
        summary: d % 3 === 0 ? `Coffee with Sam, day ${d}` : `Worked on 100% of the tasks, day ${d}`,
      });
    }
    const ranged = await client.memory.episodic.list.query({ agentId: agent.id, from: day(3), to: day(6) });
    expect(ranged.items.map((i) => (i.type === 'episodic' ? i.occurredAt.getUTCDate() : 0))).toEqual([
      6, 5, 4, 3,
    ]);

    const coffee = await client.memory.episodic.list.query({ agentId: agent.id, contains: 'coffee' });
    expect(coffee.items).toHaveLength(3);
    const literal = await client.memory.episodic.list.query({ agentId: agent.id, contains: '100%' });
    expect(literal.items).toHaveLength(6);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof client.memory.episodic.list.query>> =
        await client.memory.episodic.list.query({ agentId: agent.id, limit: 4, cursor });
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(9);
    expect(new Set(seen).size).toBe(9);
  });
});

describe('core memory', () => {
  it('starts with persona and human, and supports set, append and replace', async () => {
    const { client, agent } = await agentFor('core');
    const blocks = await client.memory.core.get.query({ agentId: agent.id });
    expect(blocks.map((b) => [b.label, b.value, b.limit])).toEqual([
      ['persona', '', 5000],
      ['human', '', 5000],
    ]);
    await client.memory.core.set.mutate({ agentId: agent.id, label: 'human', value: 'Name: Ada.' });
    const appended = await client.memory.core.append.mutate({
      agentId: agent.id,
      label: 'human',
      text: 'Likes tea.',
    });
    expect(appended.value).toBe('Name: Ada.\nLikes tea.');
    const replaced = await client.memory.core.replace.mutate({
      agentId: agent.id,
      label: 'human',
      old: 'tea',
      new: 'coffee $&',
    });
    expect(replaced.value).toBe('Name: Ada.\nLikes coffee $&.');
    expect(replaced.remaining).toBe(5000 - replaced.value.length);
    const custom = await client.memory.core.set.mutate({
      agentId: agent.id,
      label: 'project',
      value: 'MIRIX',
      limit: 100,
    });
    expect(custom).toMatchObject({ label: 'project', limit: 100, remaining: 95 });
    expect((await client.memory.core.get.query({ agentId: agent.id })).map((b) => b.label)).toEqual([
      'persona',
      'human',
      'project',
    ]);
  });

  it('refuses a write over the limit, saying how much room is left, and keeps the old value', async () => {
    const { client, agent } = await agentFor('corelimit');
    await client.memory.core.set.mutate({ agentId: agent.id, label: 'persona', value: 'x'.repeat(4990) });
    const err = await expectTRPCError(
      client.memory.core.append.mutate({ agentId: agent.id, label: 'persona', text: 'y'.repeat(20) }),
      'BAD_REQUEST',
      400,
    );
    expect(err.message).toBe(
      'Core block "persona" has 10 of 5000 characters left; this write would make it 5011 characters (11 too many)',
    );
    const persona = (await client.memory.core.get.query({ agentId: agent.id })).find(
      (b) => b.label === 'persona',
    );
    expect(persona?.value).toBe('x'.repeat(4990));
  });

  it('refuses to replace text that is not there', async () => {
    const { client, agent } = await agentFor('corereplace');
    await expectTRPCError(
      client.memory.core.replace.mutate({ agentId: agent.id, label: 'human', old: 'absent', new: 'x' }),
      'BAD_REQUEST',
    );
  });

  it('keeps every concurrent append', async () => {
    const { client, agent } = await agentFor('coreconc');
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.memory.core.append.mutate({ agentId: agent.id, label: 'human', text: `fact ${i}` }),
      ),
    );
    const human = (await client.memory.core.get.query({ agentId: agent.id })).find(
      (b) => b.label === 'human',
    )!;
    expect(human.value.split('\n').sort()).toEqual(Array.from({ length: 10 }, (_, i) => `fact ${i}`).sort());
  });
});

describe('knowledge vault', () => {
  it('stores ciphertext, never returns or logs the secret, and reveals it to the owner with an audit row', async () => {
    const { client, agent, user } = await agentFor('vault');
    const secret = 'sk-live-THE-SECRET-4242';
    const created = await client.memory.vault.create.mutate({
      agentId: agent.id,
      entryType: 'api_key',
      source: 'stripe dashboard',
      sensitivity: 'high',
      secretValue: secret,
      caption: 'Stripe production API key',
    });
    expect(JSON.stringify(created)).not.toContain(secret);
    expect(created).toMatchObject({ type: 'knowledge_vault', sensitivity: 'high', embeddingStatus: 'none' });

    const [row] = await server.orm.em
      .getConnection()
      .execute<{ secret_ciphertext: string; secret_key_id: string; embedding: unknown }[]>(
        'select secret_ciphertext, secret_key_id, embedding from memories where id = ?',
        [created.id],
      );
    expect(row?.secret_key_id).toBe('test1');
    expect(row?.secret_ciphertext).not.toContain(secret);
    expect(Buffer.from(row!.secret_ciphertext, 'base64').toString('latin1')).not.toContain(secret);
    expect(row?.embedding).toBeNull();

    const get = await client.memory.vault.get.query({ agentId: created.agentId, id: created.id });
    const list = await client.memory.vault.list.query({ agentId: agent.id });
    const search = await client.memory.search.query({
      agentId: agent.id,
      query: 'stripe api key',
      explain: true,
    });
    expect(search.items.map((h) => h.item.id)).toContain(created.id);
    for (const out of [get, list, search]) expect(JSON.stringify(out)).not.toContain(secret);

    const revealed = await client.memory.vault.reveal.mutate({ agentId: created.agentId, id: created.id });
    expect(revealed).toEqual({ id: created.id, secretValue: secret });
    const audit = await server.orm.em.fork().find(VaultAccess, { item: created.id });
    expect(audit).toHaveLength(1);
    expect(audit[0]?.action).toBe('reveal');
    expect(audit[0]?.user.id).toBe(user.id);

    const updated = await client.memory.vault.update.mutate({
      agentId: created.agentId,
      id: created.id,
      secretValue: 'rotated-secret',
    });
    expect(JSON.stringify(updated)).not.toContain('rotated-secret');
    expect(
      (await client.memory.vault.reveal.mutate({ agentId: created.agentId, id: created.id })).secretValue,
    ).toBe('rotated-secret');

    expect(server.logs.join('\n')).not.toContain(secret);
    expect(server.logs.join('\n')).not.toContain('rotated-secret');
  });

  it('does not decrypt a ciphertext copied onto another row', async () => {
    const { client, agent } = await agentFor('vaultswap');
    const a = await client.memory.vault.create.mutate({
      agentId: agent.id,
      entryType: 'pw',
      secretValue: 'alpha',
      caption: 'a',
    });
    const b = await client.memory.vault.create.mutate({
      agentId: agent.id,
      entryType: 'pw',
      secretValue: 'beta',
      caption: 'b',
    });
    await server.orm.em
      .getConnection()
      .execute(
        'update memories set secret_ciphertext = (select secret_ciphertext from memories where id = ?) where id = ?',
        [a.id, b.id],
      );
    await expectTRPCError(
      client.memory.vault.reveal.mutate({ agentId: b.agentId, id: b.id }),
      'INTERNAL_SERVER_ERROR',
      500,
    );
  });
});

describe('isolation', () => {
  it("gives NOT_FOUND for every memory procedure aimed at another user's agent or item", async () => {
    const alice = await agentFor('alicem');
    const bob = await agentFor('bobm');
    const a = alice.agent.id;
    const epi = await alice.client.memory.episodic.create.mutate({
      agentId: a,
      eventType: 'e',
      summary: 'private',
    });
    const sem = await alice.client.memory.semantic.create.mutate({
      agentId: a,
      name: 'n',
      summary: 'private',
    });
    const pro = await alice.client.memory.procedural.create.mutate({
      agentId: a,
      entryType: 'w',
      summary: 'private',
    });
    const res = await alice.client.memory.resource.create.mutate({
      agentId: a,
      title: 't',
      summary: 's',
      resourceType: 'doc',
    });
    const vlt = await alice.client.memory.vault.create.mutate({
      agentId: a,
      entryType: 'pw',
      secretValue: 'x',
      caption: 'c',
    });
    const m = bob.client.memory;

    const calls: Promise<unknown>[] = [
      m.core.get.query({ agentId: a }),
      m.core.set.mutate({ agentId: a, label: 'human', value: 'pwned' }),
      m.core.append.mutate({ agentId: a, label: 'human', text: 'pwned' }),
      m.core.replace.mutate({ agentId: a, label: 'human', old: 'x', new: 'y' }),
      m.search.query({ agentId: a, query: 'private' }),
      m.stats.query({ agentId: a }),
      m.episodic.create.mutate({ agentId: a, eventType: 'e', summary: 's' }),
      m.episodic.createMany.mutate({ agentId: a, items: [{ eventType: 'e', summary: 's' }] }),
      m.episodic.list.query({ agentId: a }),
      m.episodic.get.query({ agentId: epi.agentId, id: epi.id }),
      m.episodic.update.mutate({ agentId: epi.agentId, id: epi.id, summary: 'pwned' }),
      m.episodic.delete.mutate({ agentId: epi.agentId, id: epi.id }),
      m.semantic.get.query({ agentId: sem.agentId, id: sem.id }),
      m.semantic.update.mutate({ agentId: sem.agentId, id: sem.id, summary: 'pwned' }),
      m.semantic.delete.mutate({ agentId: sem.agentId, id: sem.id }),
      m.semantic.list.query({ agentId: a }),
      m.procedural.get.query({ agentId: pro.agentId, id: pro.id }),
      m.procedural.update.mutate({ agentId: pro.agentId, id: pro.id, summary: 'pwned' }),
      m.procedural.delete.mutate({ agentId: pro.agentId, id: pro.id }),
      m.resource.get.query({ agentId: res.agentId, id: res.id }),
      m.resource.update.mutate({ agentId: res.agentId, id: res.id, title: 'pwned' }),
      m.resource.delete.mutate({ agentId: res.agentId, id: res.id }),
      m.vault.get.query({ agentId: vlt.agentId, id: vlt.id }),
      m.vault.update.mutate({ agentId: vlt.agentId, id: vlt.id, caption: 'pwned' }),
      m.vault.delete.mutate({ agentId: vlt.agentId, id: vlt.id }),
      m.vault.reveal.mutate({ agentId: vlt.agentId, id: vlt.id }),
      m.vault.list.query({ agentId: a }),
      // An id of the right user but the wrong type is not found either.
      alice.client.memory.semantic.get.query({ agentId: epi.agentId, id: epi.id }),
    ];
    await Promise.all(calls.map((call) => expectTRPCError(call, 'NOT_FOUND', 404)));

    // Nothing changed for Alice.
    expect((await alice.client.memory.episodic.get.query({ agentId: epi.agentId, id: epi.id })).summary).toBe(
      'private',
    );
    expect((await alice.client.memory.stats.query({ agentId: a })).counts).toMatchObject({
      episodic: 1,
      semantic: 1,
      procedural: 1,
      resource: 1,
      knowledge_vault: 1,
    });
    expect(await server.orm.em.fork().count(VaultAccess, { item: vlt.id })).toBe(0);
  });

  it("addresses an item within its agent: the same owner's other agent gives NOT_FOUND", async () => {
    const { client, agent } = await agentFor('twoagents');
    const other = await client.agents.create.mutate({ name: 'second agent' });
    const item = await client.memory.semantic.create.mutate({ agentId: agent.id, name: 'n', summary: 's' });
    await expectTRPCError(client.memory.semantic.get.query({ agentId: other.id, id: item.id }), 'NOT_FOUND');
    await expectTRPCError(
      client.memory.semantic.update.mutate({ agentId: other.id, id: item.id, summary: 'moved?' }),
      'NOT_FOUND',
    );
    await expectTRPCError(
      client.memory.semantic.delete.mutate({ agentId: other.id, id: item.id }),
      'NOT_FOUND',
    );
    await expectTRPCError(client.memory.history.query({ agentId: other.id, itemId: item.id }), 'NOT_FOUND');
    const { jobId } = await client.memory.ingest.mutate({ agentId: agent.id, text: 'hello' });
    await expectTRPCError(client.memory.job.query({ agentId: other.id, jobId }), 'NOT_FOUND');
    expect((await client.memory.semantic.get.query({ agentId: agent.id, id: item.id })).summary).toBe('s');
  });

  it("hides a deleted agent's memories", async () => {
    const { client, agent } = await agentFor('deadagent');
    const item = await client.memory.semantic.create.mutate({ agentId: agent.id, name: 'n', summary: 's' });
    await client.agents.delete.mutate({ id: agent.id });
    await expectTRPCError(
      client.memory.semantic.get.query({ agentId: item.agentId, id: item.id }),
      'NOT_FOUND',
    );
    await expectTRPCError(client.memory.search.query({ agentId: agent.id, query: 's' }), 'NOT_FOUND');
  });
});

describe('stats', () => {
  it('counts live items per type and those waiting for an embedding', async () => {
    const { client, agent } = await agentFor('stats');
    await client.memory.semantic.createMany.mutate({
      agentId: agent.id,
      items: [
        { name: 'a', summary: 'a' },
        { name: 'b', summary: 'b' },
      ],
    });
    const gone = await client.memory.procedural.create.mutate({
      agentId: agent.id,
      entryType: 'w',
      summary: 's',
    });
    await client.memory.procedural.delete.mutate({ agentId: gone.agentId, id: gone.id });
    await client.memory.vault.create.mutate({
      agentId: agent.id,
      entryType: 'pw',
      secretValue: 'x',
      caption: 'c',
    });
    expect(await client.memory.stats.query({ agentId: agent.id })).toEqual({
      counts: { core: 2, episodic: 0, semantic: 2, procedural: 0, resource: 0, knowledge_vault: 1 },
      pendingEmbeddings: 2,
    });
  });
});
