import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNative } from '../../server/db/native.js';
import {
  DEFAULT_FUSION_WEIGHTS,
  runFusedSearch,
  type SearchQueryInput,
} from '../../server/modules/memory/search.service.js';
import { parseSearchQuery } from '../../server/modules/memory/search.query.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

/*
 * The fused search's statements, run on PostgreSQL over rows written through the API: what they
 * return, not how their SQL reads.
 */

let server: TestServer;
let em: EntityManager;
let alice: { userId: string; agentId: string };
let bob: { userId: string; agentId: string };
const ids = new Map<string, string>();

beforeAll(async () => {
  server = await startTestServer();
  em = server.orm.em.fork();
  const a = await signUp(server, 'builder');
  const b = await signUp(server, 'other');
  const aAgent = await a.client.agents.create.mutate({ name: 'a' });
  const bAgent = await b.client.agents.create.mutate({ name: 'b' });
  alice = { userId: a.user.id, agentId: aAgent.id };
  bob = { userId: b.user.id, agentId: bAgent.id };
  // [name, summary]: the name is what trigrams match (a short, name-like field).
  const facts = {
    porto: ['home', 'Ana lives in Porto near the river'],
    tea: ['habits', 'Ana drinks green tea every morning'],
    cluster: ['Kubernetes upgrades', 'The cluster upgrade runbook'],
    gone: ['diary', 'Ana kept a diary in Porto'],
  };
  const created = await a.client.memory.semantic.createMany.mutate({
    agentId: aAgent.id,
    items: Object.values(facts).map(([name, summary]) => ({ name: name!, summary: summary! })),
  });
  Object.keys(facts).forEach((key, i) => ids.set(key, created.ids[i]!));
  const trip = await a.client.memory.episodic.create.mutate({
    agentId: aAgent.id,
    eventType: 'trip',
    summary: 'Ana flew to Porto for the festival',
    occurredAt: new Date('2026-06-23T10:00:00Z'),
  });
  ids.set('trip', trip.id);
  await a.client.memory.semantic.delete.mutate({ agentId: aAgent.id, id: ids.get('gone')! });
  // Bob holds the same words: none of his rows may reach Alice's search.
  await b.client.memory.semantic.create.mutate({
    agentId: bAgent.id,
    name: 'home',
    summary: facts.porto[1]!,
  });
});
afterAll(async () => {
  await server?.close();
});

async function search(query: string, opts: Partial<SearchQueryInput> & { who?: typeof alice } = {}) {
  const { who = alice, ...rest } = opts;
  const parsed = parseSearchQuery(query);
  const result = await runFusedSearch((st) => runNative(em, st.sql, st.params), {
    agentId: who.agentId,
    userId: who.userId,
    types: ['semantic', 'episodic'],
    from: null,
    to: null,
    vector: null,
    embeddingModel: 'none',
    fulltext: parsed,
    exclude: parsed.exclude,
    trigram: query,
    weights: DEFAULT_FUSION_WEIGHTS,
    candidates: 40,
    limit: 10,
    ...rest,
  });
  const names = new Map([...ids].map(([name, id]) => [id, name]));
  return result.hits.map((h) => names.get(h.id) ?? `unknown ${h.id}`);
}

describe('the fused search statements', () => {
  it("find the owner's live memories that hold the question's words, and nobody else's", async () => {
    const hits = await search('where does Ana live in Porto?');
    expect(hits[0]).toBe('porto');
    expect(hits).toEqual(expect.arrayContaining(['porto', 'trip']));
    expect(hits).not.toContain('gone');
    expect(hits.every((h) => !h.startsWith('unknown'))).toBe(true);
  });

  it('return nothing for an agent the caller does not own, even when its rows match', async () => {
    expect(
      await search('Ana lives in Porto', { who: { userId: bob.userId, agentId: alice.agentId } }),
    ).toEqual([]);
  });

  it('keep to the types and the time range asked for', async () => {
    expect(await search('Ana Porto', { types: ['episodic'] })).toEqual(['trip']);
    const june = { from: new Date('2026-06-01T00:00:00Z'), to: new Date('2026-06-30T00:00:00Z') };
    expect(await search('Ana Porto', june)).toEqual(['trip']);
  });

  it('leave out memories holding an excluded word, and rank exact phrases first', async () => {
    expect(await search('Ana -Porto')).toEqual(['tea']);
    expect((await search('Ana "green tea" Porto'))[0]).toBe('tea');
  });

  it('find a misspelt word through trigrams when full text finds nothing, and stop at the limit', async () => {
    expect(await search('Kubernets', { fulltext: null })).toEqual(['cluster']);
    expect(await search('Ana', { limit: 1 })).toHaveLength(1);
  });
});
