import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNative } from '../../server/db/native.js';
import { BM25, DEFAULT_FUSION_WEIGHTS, runFusedSearch } from '../../server/modules/memory/search.service.js';
import { parseSearchQuery } from '../../server/modules/memory/search.query.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

/*
 * Full text in an agent past BM25.sizeCap memories: a word most of them hold is read from the
 * agent's most recent memories (its index postings grow with the agent), a rarer one from the
 * index, so an old memory holding the rare word is still found first.
 */

const SIZE = BM25.sizeCap + 1_000;
let server: TestServer;
let em: EntityManager;
let owner: { userId: string; agentId: string };
/** Ids by age: index 0 is the oldest memory. */
let byAge: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  em = server.orm.em.fork();
  const a = await signUp(server, 'large');
  const agent = await a.client.agents.create.mutate({ name: 'large' });
  owner = { userId: a.user.id, agentId: agent.id };
  // Every memory holds "river"; the oldest also holds "zephyrine". One statement, so the rows lie
  // in the heap oldest first, as an index scan of postings would meet them.
  const rows = await runNative<{ id: string }>(
    em,
    `insert into memories (id, created_at, updated_at, agent_id, user_id, memory_type, last_modified, name, summary)
     select gen_random_uuid(), t, t, $1, $2, 'semantic', '{}'::jsonb, 'note ' || i,
       'walked by the river ' || case when i = 1 then 'zephyrine' else 'morning ' || (i % 97) end
     from generate_series(1, $3::int) i, lateral (select timestamptz '2026-01-01' + i * interval '1 minute' as t) x
     returning id`,
    [owner.agentId, owner.userId, SIZE],
  );
  byAge = rows.map((r) => r.id);
  await runNative(em, 'analyze memories', []);
});
afterAll(async () => {
  await server?.close();
});

async function search(query: string, range: { from?: Date; to?: Date } = {}) {
  const parsed = parseSearchQuery(query);
  const { hits } = await runFusedSearch((st) => runNative(em, st.sql, st.params), {
    ...owner,
    types: ['semantic'],
    from: range.from ?? null,
    to: range.to ?? null,
    vector: null,
    embeddingModel: 'none',
    fulltext: parsed,
    exclude: parsed.exclude,
    trigram: null,
    weights: DEFAULT_FUSION_WEIGHTS,
    candidates: 40,
    limit: 10,
  });
  return hits.map((h) => h.id);
}

describe('full text in a large agent', () => {
  it('reads a word most memories hold from the most recent ones', async () => {
    const hits = await search('river ');
    expect(hits).toHaveLength(10);
    const recent = new Set(byAge.slice(-BM25.walk));
    // Through the index, the first postings met would be the oldest rows.
    expect(hits.every((id) => recent.has(id))).toBe(true);
  });

  it('still finds an old memory through a rarer word it shares with the question', async () => {
    const hits = await search('river zephyrine ');
    expect(hits[0]).toBe(byAge[0]);
  });

  it("keeps the caller's time range and exclusions on the common-word path", async () => {
    // Memories 101-110 (one a minute from 2026-01-01 00:01).
    const window = { from: new Date('2026-01-01T01:41:00Z'), to: new Date('2026-01-01T01:50:00Z') };
    const inWindow = await search('river ', window);
    expect(new Set(inWindow)).toEqual(new Set(byAge.slice(100, 110)));
    // Every memory but the oldest holds "morning".
    expect(await search('river -morning ')).toEqual([byAge[0]]);
  });

  it('gives the same ranking every time', async () => {
    const first = await search('river morning ');
    for (let i = 0; i < 7; i++) expect(await search('river morning ')).toEqual(first);
  });
});

describe('memory rows', () => {
  /** How many TOAST chunks the table's values occupy. */
  async function toastChunks(table: string) {
    const [rel] = await runNative<{ toast: string }>(
      em,
      `select reltoastrelid::regclass::text as toast from pg_class where oid = $1::regclass`,
      [table],
    );
    const [row] = await runNative<{ n: number }>(em, `select count(*)::int as n from ${rel!.toast}`, []);
    return row!.n;
  }
  // A 768-dimension vector (3 KB, stored in the row) and 1.5 KB of text that does not compress.
  const wideRow = (table: string) =>
    runNative(
      em,
      `insert into ${table} (id, created_at, updated_at, agent_id, user_id, memory_type, last_modified, summary, embedding)
       select gen_random_uuid(), now(), now(), $1, $2, 'semantic', '{}'::jsonb,
         (select string_agg(md5(random()::text), ' ') from generate_series(1, 45)), array_fill(0.5, array[768])::vector`,
      [owner.agentId, owner.userId],
    );

  it('keep a few KB of text in the row, not in TOAST', async () => {
    // The same row in a table with the same columns but the default toast target is toasted.
    await runNative(em, 'create temp table default_target (like memories including storage)', []);
    const before = await toastChunks('default_target');
    await wideRow('default_target');
    expect(await toastChunks('default_target')).toBeGreaterThan(before);

    const chunks = await toastChunks('memories');
    await wideRow('memories');
    expect(await toastChunks('memories')).toBe(chunks);
  });
});
