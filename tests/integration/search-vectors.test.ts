import pg from 'pg';
import { toSql } from 'pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashedEmbedding } from '../../server/modules/embeddings/hashed.js';
import { MIN_VECTOR_SIMILARITY, VECTOR_SEARCH } from '../../server/modules/memory/search.service.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

/**
 * The vector signal at the edges the planner used to decide: a small agent inside a much larger
 * table, and the same query repeated on every pooled connection past the plan cache's switch to
 * generic plans (five executions). Rows are written in SQL (vectors around the query's own hashed
 * embedding, clustered), then searched through the API as any client would.
 */
let server: TestServer;
let client: Awaited<ReturnType<typeof signUp>>['client'];
let sql: pg.Client;
let small: string;
let large: string;
const QUERIES = ['garden tomatoes', 'quarterly budget', 'marathon training', 'kitten adoption'];
const LARGE = VECTOR_SEARCH.exactBelow + 1000;
const SMALL = 300;

beforeAll(async () => {
  server = await startTestServer();
  const owner = await signUp(server, 'vectors');
  client = owner.client;
  large = (await client.agents.create.mutate({ name: 'large' })).id;
  small = (await client.agents.create.mutate({ name: 'small' })).id;
  sql = new pg.Client({ connectionString: server.db.url });
  await sql.connect();
  const [{ owner_id: userId }] = (
    await sql.query<{ owner_id: string }>('select owner_id from agents where id = $1', [large])
  ).rows as [{ owner_id: string }];
  // Every memory sits near one of the queries: a point of the query's embedding plus noise, so
  // both agents crowd the same neighbourhoods and the large one dominates the shared graph.
  await sql.query('drop index memories_embedding_hnsw_idx');
  await sql.query(
    `insert into memories (id, created_at, updated_at, agent_id, user_id, memory_type, last_modified, embedding, embedding_model, name, summary)
     select gen_random_uuid(), now(), now(), a.agent, $1, 'semantic', jsonb_build_object('at', now(), 'operation', 'created', 'by', 'user'),
       q.v + (select array_agg((random() - 0.5) * 0.08) from generate_series(1, 768) where g > 0)::vector(768),
       'mirix-hashed-v1', 'n', 's'
     from (values ($2::uuid, $3::int), ($4::uuid, $5::int)) as a(agent, n), generate_series(1, a.n) g,
       lateral (select v from unnest($6::vector[]) with ordinality as t(v, i) where t.i = 1 + g % $7) q`,
    [
      userId,
      large,
      LARGE,
      small,
      SMALL,
      QUERIES.map((q) => toSql(hashedEmbedding(q, 768)) as string),
      QUERIES.length,
    ],
  );
  await sql.query(
    'create index "memories_embedding_hnsw_idx" on "memories" using hnsw ("embedding" vector_cosine_ops) with (m = 8, ef_construction = 32) where "deleted_at" is null',
  );
  await sql.query('vacuum analyze memories');
}, 120_000);
afterAll(async () => {
  await sql?.end();
  await server?.close();
});

const vectorSearch = async (agentId: string, query: string) =>
  (
    await client.memory.search.query({ agentId, query, methods: ['vector'], types: ['semantic'], limit: 10 })
  ).items.map((h) => h.item.id);

/** The exact top 10: every row of the agent, by distance. */
async function exactTop10(agentId: string, query: string): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>(
    `select id from memories where agent_id = $1 and deleted_at is null and 1 - (embedding <=> $2::vector) >= $3
     order by (embedding <=> $2::vector) + 0, id limit 10`,
    [agentId, toSql(hashedEmbedding(query, 768)), MIN_VECTOR_SIMILARITY],
  );
  return rows.map((r) => r.id);
}

describe('vector signal', () => {
  it("finds exactly the exact scan's top 10 for a small agent, after every connection's plan cache settled on a large agent", async () => {
    // Each pooled connection runs the statement for the large agent well past the five
    // executions after which PostgreSQL may switch to a generic plan, then for the small one.
    for (let round = 0; round < 8; round++) {
      await Promise.all([0, 1, 2, 3].map((i) => vectorSearch(large, QUERIES[(round + i) % QUERIES.length]!)));
    }
    for (const q of QUERIES) {
      const truth = await exactTop10(small, q);
      const answers = await Promise.all([0, 1, 2, 3].map(() => vectorSearch(small, q)));
      for (const ids of answers) expect(ids, q).toEqual(truth);
    }
  }, 60_000);

  it('gives the same ranking on every connection, every time', async () => {
    for (const agentId of [large, small]) {
      for (const q of QUERIES) {
        const first = await vectorSearch(agentId, q);
        expect(first).toHaveLength(10);
        for (let round = 0; round < 8; round++) {
          const again = await Promise.all([0, 1, 2, 3].map(() => vectorSearch(agentId, q)));
          for (const ids of again) expect(ids, `${q} round ${round}`).toEqual(first);
        }
      }
    }
  }, 60_000);

  it('keeps recall@10 of a large agent (through the HNSW index) at 0.9 or more', async () => {
    let found = 0;
    for (const q of QUERIES) {
      const truth = new Set(await exactTop10(large, q));
      found += (await vectorSearch(large, q)).filter((id) => truth.has(id)).length;
    }
    expect(found / (QUERIES.length * 10)).toBeGreaterThanOrEqual(0.9);
  });
});
