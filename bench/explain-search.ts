// EXPLAIN ANALYZE of each signal's search statement, for tuning:
//   npx tsx bench/explain-search.ts <database-url> <username> "<query>" [vector,fulltext,trigram]
// (keep a benchmark database with `npm run bench:search -- --keep`; its user is `bench`).
import pg from 'pg';
import { toSql } from 'pgvector';
import { SESSION_SETTINGS } from '../server/db/orm-config.js';
import { hashedEmbedding } from '../server/modules/embeddings/hashed.js';
import { MEMORY_TYPES } from '../server/modules/memory/memory.types.js';
import {
  DEFAULT_FUSION_WEIGHTS,
  fulltextStatement,
  trigramStatement,
  vectorStatement,
  type SearchQueryInput,
} from '../server/modules/memory/search.service.js';
import { parseSearchQuery } from '../server/modules/memory/search.query.js';

const [url, username, query, methodList] = process.argv.slice(2);
if (!url || !username || !query) {
  console.error('usage: explain-search.ts <database-url> <username> "<query>" [vector,fulltext,trigram]');
  process.exit(2);
}
const methods = (methodList ?? 'vector,fulltext,trigram').split(',');
const c = new pg.Client({ connectionString: url });
await c.connect();
await c.query(SESSION_SETTINGS);
const user = (await c.query<{ id: string }>('select id from users where username = $1', [username])).rows[0];
const agent =
  user &&
  (await c.query<{ id: string }>('select id from agents where owner_id = $1 limit 1', [user.id])).rows[0];
if (!user || !agent) throw new Error(`no agent for user ${username}`);
const input: SearchQueryInput = {
  agentId: agent.id,
  userId: user.id,
  types: [...MEMORY_TYPES],
  from: null,
  to: null,
  vector: null,
  embeddingModel: 'mirix-hashed-v1',
  fulltext: null,
  exclude: [],
  trigram: null,
  weights: DEFAULT_FUSION_WEIGHTS,
  candidates: 40,
  limit: 10,
};
const statements = [
  methods.includes('vector') &&
    vectorStatement({ ...input, vector: toSql(hashedEmbedding(query, 768)) as string }),
  methods.includes('fulltext') && fulltextStatement({ ...input, fulltext: parseSearchQuery(query) }),
  methods.includes('trigram') && trigramStatement({ ...input, trigram: query }),
].filter((s) => s !== false);
for (const { sql, params } of statements) {
  const plan = await c.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sql}`, params);
  console.log(plan.rows.map((r) => r['QUERY PLAN'].replace(/'\[[-0-9.,e]+\]'/g, "'[…]'")).join('\n'));
}
await c.end();
