// `npm run bench:vectors [-- --rows 1000000 --sizes 10,100,1000,10000,100000 --queries 50 --below 2000,5000
//   --efs 40,100 --measure 10000,100000 --keep --reuse]`
// Is the vector signal exact enough, and the same every time, at every agent size?
// Builds a `memories` table of --rows rows (default 1M) across many agents straight in SQL:
// vectors are clustered (each agent draws from a few of 200 shared centroids, plus noise), the
// target agents hold --sizes memories each, and filler agents of 200-2,000 memories make up the
// rest. Then, per target agent and configuration, it runs the search statement's vector signal
// (vectorStatement) as the API does, on pooled connections with prepared
// statements, and prints:
//   - recall@10 against an exact scan of the agent's rows (both keeping only neighbours with at
//     least MIN_VECTOR_SIMILARITY, as search does);
//   - whether every connection and every repetition (past the plan cache's switch to a generic
//     plan) returned the same ranking;
//   - latency p50/p95/p99 of the statement, next to the exact scan (the floor of exactness).
// --keep leaves the database (mirix_bench_vectors) in place, --reuse measures a kept one again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { SESSION_SETTINGS } from '../server/db/orm-config.js';
import {
  DEFAULT_FUSION_WEIGHTS,
  MIN_VECTOR_SIMILARITY,
  VECTOR_SEARCH,
  vectorStatement,
} from '../server/modules/memory/search.service.js';
import { createBenchDatabase, rng, summarize, table, type LatencySummary } from './lib.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const ROWS = Number(arg('rows', '1000000'));
const SIZES = arg('sizes', '10,100,1000,10000,100000').split(',').map(Number);
const QUERIES = Number(arg('queries', '50'));
/** Which of the built target sizes to measure (all by default; --reuse needs the same --sizes). */
const MEASURE = arg('measure', SIZES.join(',')).split(',').map(Number);
const REPEAT = 8; // past the five executions after which PostgreSQL may settle on a generic plan
const DIM = 768;
const MODEL = 'bench-clustered';
const NAME = 'mirix_bench_vectors';
const { DATABASE_URL } = process.env;
if (!DATABASE_URL) {
  console.error('Set DATABASE_URL (npm run bench:vectors does, via scripts/services.sh).');
  process.exit(1);
}

/** A point of agent `ord`'s topics: row `g` picks one of its 4 topics, `sub` one of the topic's 10 sub-topics. */
const POINT = (
  ord: string,
  g: string,
  sub: string,
) => `(select c.v from bench_centroids c where c.i = (${ord} * 7 + (${g} % 4) * 53) % 200)
  + (select c.v from bench_centroids c where c.i = 200 + ((${ord} * 7 + (${g} % 4) * 53) % 200) * 10 + ${sub})
  + (select array_agg((random() - 0.5) * 0.3) from generate_series(1, ${DIM}) where ${g} > 0)::vector(${DIM})`;

const USER = '00000000-0000-7000-8000-000000000001';
const agentId = (i: number) => `00000000-0000-7000-8000-${(1_000_000 + i).toString(16).padStart(12, '0')}`;

async function build(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const t0 = performance.now();
  const step = async (what: string, sql: string, params: unknown[] = []) => {
    const t = performance.now();
    await c.query(sql, params);
    console.log(`  ${what}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  await c.query(`set maintenance_work_mem = '4GB'; set max_parallel_maintenance_workers = 1`);
  await c.query(
    `insert into users (id, created_at, updated_at, username, email, password_hash) values ($1, now(), now(), 'bench', 'bench@bench.local', 'x')`,
    [USER],
  );
  // Agent sizes: the targets, then fillers until the table holds ROWS rows.
  const r = rng(5);
  const sizes = [...SIZES];
  let total = sizes.reduce((a, b) => a + b, 0);
  while (total < ROWS) {
    const n = Math.min(ROWS - total, 200 + Math.floor(r() * 1800));
    sizes.push(n);
    total += n;
  }
  await step(
    `${sizes.length} agents`,
    `insert into agents (id, created_at, updated_at, owner_id, name, agent_type, model_config)
     select a, now(), now(), $1, 'bench', 'chat', '{}' from unnest($2::uuid[]) a`,
    [USER, sizes.map((_, i) => agentId(i))],
  );
  await step(
    '200 centroids and 2,000 sub-centroids',
    `create table bench_centroids as
     select i, (select array_agg((random() - 0.5) * x.scale) from generate_series(1, ${DIM}), (select case when i >= 200 then 0.5 else 1 end as scale) x)::vector(${DIM}) as v
     from generate_series(0, 2199) i`,
  );
  await c.query('drop index if exists memories_embedding_hnsw_idx');
  // Each agent draws from 4 topics (centroids) of its own; each memory is its topic, one of 10
  // sub-topics of that topic at half the scale, and a little noise: clusters within clusters, as
  // in embeddings of real text (isotropic noise alone makes every neighbour equally far).
  await step(
    `${total} memories`,
    `insert into memories (id, created_at, updated_at, agent_id, user_id, memory_type, last_modified, embedding, embedding_model, summary)
     select gen_random_uuid(), now(), now(), a.id, $1, 'semantic', '{}',
       ${POINT('a.ord', 'g', 't.sub')},
       $2, 'x'
     from unnest($3::uuid[], $4::int[]) with ordinality as a(id, n, ord), generate_series(1, a.n) g,
       lateral (select floor(random() * 10)::int + 0 * g as sub) t`,
    [USER, MODEL, sizes.map((_, i) => agentId(i)), sizes],
  );
  await step(
    'HNSW index (m 8, ef_construction 32, as migrated)',
    'create index "memories_embedding_hnsw_idx" on "memories" using hnsw ("embedding" vector_cosine_ops) with (m = 8, ef_construction = 32) where "deleted_at" is null',
  );
  await step('vacuum analyze', 'vacuum analyze memories');
  console.log(`  built in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  await c.end();
}

/** Random queries near the agent's own centroids (what a question about its memories looks like). */
async function queriesFor(c: pg.Client, agentIndex: number): Promise<string[]> {
  const { rows } = await c.query<{ q: string }>(
    `select (${POINT('$1::int', 'g', 't.sub')})::text as q
     from generate_series(1, $2) g, lateral (select floor(random() * 10)::int + 0 * g as sub) t`,
    [agentIndex + 1, QUERIES],
  );
  return rows.map((r) => r.q);
}

interface Config {
  name: string;
  settings: string;
  exactBelow: number;
}

const withEf = (ef: number) => SESSION_SETTINGS.replace(/hnsw\.ef_search = \d+/, `hnsw.ef_search = ${ef}`);
const CONFIGS: Config[] = [
  {
    name: 'before: HNSW always, ef_search 40, plans cached',
    settings: SESSION_SETTINGS.replace(/set plan_cache_mode[^;]*; ?/, '').replace(
      /hnsw\.ef_search = \d+/,
      'hnsw.ef_search = 40',
    ),
    exactBelow: 0,
  },
  ...arg('below', '2000,5000,10000')
    .split(',')
    .map(Number)
    .flatMap((exactBelow) =>
      arg('efs', '40,100,200')
        .split(',')
        .map(Number)
        .map((ef) => ({
          name: `exact below ${exactBelow}, else HNSW ef_search ${ef}`,
          settings: withEf(ef),
          exactBelow,
        })),
    ),
  {
    name: 'shipped (SESSION_SETTINGS, VECTOR_SEARCH)',
    settings: SESSION_SETTINGS,
    exactBelow: VECTOR_SEARCH.exactBelow,
  },
].filter(
  (c) => !args.includes('--shipped-only') || c.name.startsWith('shipped') || c.name.startsWith('before'),
);

async function measure(url: string) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const results: Record<string, unknown>[] = [];
  const latencyRows: Record<string, string | number>[] = [];
  for (const [i, size] of SIZES.entries()) {
    if (!MEASURE.includes(size)) continue;
    const agent = agentId(i);
    const queries = await queriesFor(admin, i);
    // The exact answer: a sequential distance computation over the agent's rows.
    const exact: string[][] = [];
    const floor: number[] = [];
    for (const q of queries) {
      const t = performance.now();
      const { rows } = await admin.query<{ id: string }>(
        `select id from memories where agent_id = $1 and deleted_at is null and 1 - (embedding <=> $2::vector) >= $3
         order by (embedding <=> $2::vector) + 0, id limit 10`,
        [agent, q, MIN_VECTOR_SIMILARITY],
      );
      floor.push(performance.now() - t);
      exact.push(rows.map((r) => r.id));
    }
    for (const cfg of CONFIGS) {
      const pool = [0, 1, 2].map(() => new pg.Client({ connectionString: url }));
      for (const p of pool) {
        await p.connect();
        await p.query(cfg.settings);
      }
      const statement = (q: string) =>
        vectorStatement({
          agentId: agent,
          userId: USER,
          types: ['semantic'],
          from: null,
          to: null,
          vector: q,
          embeddingModel: MODEL,
          fulltext: null,
          exclude: [],
          trigram: null,
          weights: DEFAULT_FUSION_WEIGHTS,
          candidates: 40,
          limit: 10,
          exactBelow: cfg.exactBelow,
        });
      let recall = 0;
      let stable = 0;
      const times: number[] = [];
      for (const [qi, q] of queries.entries()) {
        const { sql, params } = statement(q);
        const seen = new Set<string>();
        let first: string[] = [];
        for (let rep = 0; rep < REPEAT; rep++) {
          for (const p of pool) {
            const t = performance.now();
            const { rows } = await p.query<{ id: string }>({
              name: `v${cfg.exactBelow}`,
              text: sql,
              values: params,
            });
            times.push(performance.now() - t);
            const ids = rows.slice(0, 10).map((r) => r.id);
            if (rep === 0 && p === pool[0]) first = ids;
            seen.add(ids.join(','));
          }
        }
        const truth = new Set(exact[qi]);
        recall += first.filter((id) => truth.has(id)).length / Math.max(1, truth.size);
        if (seen.size === 1) stable++;
      }
      for (const p of pool) await p.end();
      const latency: LatencySummary = summarize(times);
      results.push({
        size,
        config: cfg.name,
        recallAt10: Math.round((recall / queries.length) * 1000) / 1000,
        sameEveryTime: `${stable}/${queries.length}`,
        latency,
      });
      latencyRows.push({ 'agent size': size, config: cfg.name, ...latency });
    }
    latencyRows.push({
      'agent size': size,
      config: 'floor: exact scan (sequential, one connection)',
      ...summarize(floor),
    });
  }
  await admin.end();
  console.log(
    table(
      'vector signal: recall@10 against an exact scan, and the same ranking on 3 connections x 8 runs',
      results.map((r) => ({
        'agent size': r.size as number,
        config: r.config as string,
        'recall@10': r.recallAt10 as number,
        'same every time': r.sameEveryTime as string,
      })),
    ),
  );
  console.log(table('vector signal latency (ms)', latencyRows));
  return results;
}

const db = args.includes('--reuse') ? null : await createBenchDatabase(DATABASE_URL, NAME);
const url = db?.url ?? Object.assign(new URL(DATABASE_URL), { pathname: `/${NAME}` }).toString();
if (db) {
  db.migrate({ DATABASE_URL: db.url, NODE_ENV: 'development' });
  console.log(`building ${ROWS} rows:`);
  await build(db.url);
}
const results = await measure(url);
const out = join('bench', 'results', 'vectors.json');
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), rows: ROWS, results }, null, 2)}\n`);
console.log(`\nwrote ${out}`);
if (db && !args.includes('--keep')) await db.drop();
