import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNative } from '../../server/db/native.js';
import {
  BM25,
  DEFAULT_FUSION_WEIGHTS,
  fulltextStatement,
  runFusedSearch,
  type SearchQueryInput,
} from '../../server/modules/memory/search.service.js';
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

function input(query: string, opts: { from?: Date; to?: Date; types?: string[] } = {}): SearchQueryInput {
  const parsed = parseSearchQuery(query);
  return {
    ...owner,
    types: opts.types ?? ['semantic'],
    from: opts.from ?? null,
    to: opts.to ?? null,
    vector: null,
    embeddingModel: 'none',
    fulltext: parsed,
    exclude: parsed.exclude,
    trigram: null,
    weights: DEFAULT_FUSION_WEIGHTS,
    candidates: 40,
    limit: 10,
  };
}

async function search(query: string, opts: { from?: Date; to?: Date; types?: string[] } = {}) {
  const { hits } = await runFusedSearch((st) => runNative(em, st.sql, st.params), input(query, opts));
  return hits.map((h) => h.id);
}

interface PlanNode {
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}
/** Rows each scan of the agent's recency index read (kept plus filtered out), over the whole plan. */
function recencyRowsRead(node: PlanNode): number[] {
  const own =
    node['Index Name'] === 'memories_agent_recent_idx'
      ? [(node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)]
      : [];
  return [...own, ...(node.Plans ?? []).flatMap(recencyRowsRead)];
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

  it('reads at most its recent window for a narrow type, and finds that type through the index', async () => {
    // Twenty old procedures that also mention the river, under 6,000 semantic memories.
    const procedures = await runNative<{ id: string }>(
      em,
      `insert into memories (id, created_at, updated_at, agent_id, user_id, memory_type, last_modified, name, summary)
       select gen_random_uuid(), t, t, $1, $2, 'procedural', '{}'::jsonb, 'procedure ' || i, 'cross the river at dawn'
       from generate_series(1, 20) i, lateral (select timestamptz '2025-06-01' + i * interval '1 hour' as t) x
       returning id`,
      [owner.agentId, owner.userId],
    );
    const hits = await search('river ', { types: ['procedural'] });
    // All of them older than the recent window (6,000 semantic memories since 2026): found by an index.
    expect(hits).toHaveLength(10);
    const ids = new Set(procedures.map((r) => r.id));
    expect(hits.every((id) => ids.has(id))).toBe(true);

    const st = fulltextStatement({
      ...input('river ', { types: ['procedural'] }),
      fulltext: parseSearchQuery('river '),
    });
    const [plan] = await runNative<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      em,
      `explain (analyze, format json) ${st.sql}`,
      st.params,
    );
    const root = plan!['QUERY PLAN'][0].Plan;
    const reads = recencyRowsRead(root);
    expect(reads.length).toBeGreaterThan(0);
    for (const n of reads) expect(n).toBeLessThanOrEqual(BM25.walk);
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
    // (A plain table: a temporary one would live on one pooled connection only.)
    await runNative(em, 'create table default_target (like memories including storage)', []);
    try {
      const before = await toastChunks('default_target');
      await wideRow('default_target');
      expect(await toastChunks('default_target')).toBeGreaterThan(before);
    } finally {
      await runNative(em, 'drop table default_target', []);
    }

    const chunks = await toastChunks('memories');
    await wideRow('memories');
    expect(await toastChunks('memories')).toBe(chunks);
  });
});
