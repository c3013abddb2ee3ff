// `npm run bench:search [-- --sizes 10000,100000 --shapes zipf,vocab30,rare --queries 500 --keep --reuse]`
// Three shapes of text: `zipf` (natural-language-like: stop words first, then 4,000 words by
// Zipf's law), `vocab30` (6-word summaries from a 30-word vocabulary: every word in a third of the
// memories) and `rare` (8-word summaries from 12,000 rare words, 3-word queries: few matches each).
// --keep leaves the benchmark databases in place; --reuse measures search again on a kept one
// (its ingest figures are then not measured).
// Seeds N synthetic memories for one agent (+20% on noise agents of other users) through the API,
// lets the worker embed them (offline hashed provider), then measures memory.search end to end
// over HTTP with the typed client, and the same statements run directly on PostgreSQL (the floor).
// The API and the worker run as their own processes, as in a deployment.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { toSql } from 'pgvector';
import { createMirixClient, type MirixClient } from '../client/index.js';
import { SESSION_SETTINGS } from '../server/db/orm-config.js';
import { hashedEmbedding } from '../server/modules/embeddings/hashed.js';
import { MEMORY_TYPES } from '../server/modules/memory/memory.types.js';
import { DEFAULT_FUSION_WEIGHTS, runFusedSearch } from '../server/modules/memory/search.service.js';
import { parseSearchQuery } from '../server/modules/memory/search.query.js';
import {
  rng,
  startService,
  summarize,
  table,
  throughput,
  timeSequential,
  type LatencySummary,
} from './lib.js';
import { execFileSync } from 'node:child_process';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const SIZES = arg('sizes', '10000,100000').split(',').map(Number);
type Shape = 'zipf' | 'vocab30' | 'rare';
const SHAPES = arg('shapes', 'zipf,vocab30,rare').split(',') as Shape[];
const QUERIES = Number(arg('queries', '500'));
const WARMUP = 50;
const BATCH = 500;
const INGEST_CONCURRENCY = 4;
const { DATABASE_URL, REDIS_URL } = process.env;
if (!DATABASE_URL || !REDIS_URL) {
  console.error('Set DATABASE_URL and REDIS_URL (npm run bench:search does, via scripts/services.sh).');
  process.exit(1);
}

// ---- a deterministic synthetic corpus ----
// The most frequent ranks are real English stop words (as in real text, full-text search drops
// them); after them come 4,000 pronounceable pseudo-words built from random letters, so that
// words, stems and trigrams are about as diverse as in natural language. Ranks follow Zipf's law.
const STOP_WORDS =
  'the of and to a in is it you that he was for on are with as his they be at one have this from or had by but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first been call who its now find long down day did get come made may part'.split(
    ' ',
  );
const rand = rng(42);
const CONSONANTS = 'bcdfghjklmnprstvwz';
const VOWELS = 'aeiou';
const pick = (chars: string) => chars[Math.floor(rand() * chars.length)]!;
const seen = new Set<string>(STOP_WORDS);
const VOCAB = [...STOP_WORDS];
while (VOCAB.length < STOP_WORDS.length + 4000) {
  const syllables = 2 + Math.floor(rand() * 2);
  let w = '';
  for (let i = 0; i < syllables; i++)
    w += pick(CONSONANTS) + pick(VOWELS) + (rand() < 0.3 ? pick(CONSONANTS) : '');
  if (!seen.has(w)) {
    seen.add(w);
    VOCAB.push(w);
  }
}
const SMALL_VOCAB = VOCAB.slice(STOP_WORDS.length, STOP_WORDS.length + 30);
const RARE_VOCAB: string[] = [];
while (RARE_VOCAB.length < 12_000) {
  let w = '';
  for (let i = 0, n = 3 + Math.floor(rand() * 2); i < n; i++) w += pick(CONSONANTS) + pick(VOWELS);
  if (!seen.has(w)) {
    seen.add(w);
    RARE_VOCAB.push(w);
  }
}
/** The shape being measured (set per run). */
let shape: Shape = 'zipf';
const zipfCdf: number[] = [];
{
  let sum = 0;
  for (let r = 1; r <= VOCAB.length; r++) zipfCdf.push((sum += 1 / r));
  for (let i = 0; i < zipfCdf.length; i++) zipfCdf[i]! /= sum;
}
const word = (r: () => number): string => {
  if (shape === 'vocab30') return SMALL_VOCAB[Math.floor(r() * SMALL_VOCAB.length)]!;
  if (shape === 'rare') return RARE_VOCAB[Math.floor(r() * RARE_VOCAB.length)]!;
  const x = r();
  let lo = 0;
  let hi = zipfCdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (zipfCdf[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return VOCAB[lo]!;
};
const sentence = (r: () => number, min: number, max: number) =>
  Array.from({ length: min + Math.floor(r() * (max - min + 1)) }, () => word(r)).join(' ');
/** A summary: natural lengths for zipf, the fixed lengths of the other shapes. */
const summary = (r: () => number, min: number, max: number) =>
  shape === 'vocab30' ? sentence(r, 6, 6) : shape === 'rare' ? sentence(r, 8, 8) : sentence(r, min, max);

type Kind = (typeof MEMORY_TYPES)[number];
function* corpus(n: number, seed: number): Generator<{ kind: Kind; item: Record<string, unknown> }> {
  const r = rng(seed);
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.4) {
      yield {
        kind: 'episodic',
        item: {
          eventType: ['meeting', 'call', 'errand', 'note', 'trip'][Math.floor(r() * 5)],
          summary: summary(r, 10, 16),
          occurredAt: new Date(start + Math.floor(r() * 700 * 86_400_000)),
        },
      };
    } else if (x < 0.65) {
      yield { kind: 'semantic', item: { name: sentence(r, 1, 3), summary: summary(r, 10, 16) } };
    } else if (x < 0.75) {
      yield {
        kind: 'procedural',
        item: {
          entryType: 'workflow',
          summary: summary(r, 8, 12),
          steps: [sentence(r, 4, 6), sentence(r, 4, 6)],
        },
      };
    } else if (x < 0.9) {
      yield {
        kind: 'resource',
        item: {
          title: sentence(r, 2, 4),
          summary: summary(r, 10, 14),
          resourceType: 'document',
          content: sentence(r, 50, 100),
        },
      };
    } else {
      yield {
        kind: 'knowledge_vault',
        item: {
          entryType: 'credential',
          caption: sentence(r, 4, 8),
          secretValue: `s-${Math.floor(r() * 1e12)}`,
        },
      };
    }
  }
}

const routerOf = (client: MirixClient, kind: Kind) =>
  kind === 'knowledge_vault' ? client.memory.vault : client.memory[kind];

async function ingest(client: MirixClient, agentId: string, n: number, seed: number) {
  const byKind = new Map<Kind, Record<string, unknown>[]>();
  const batches: { kind: Kind; items: Record<string, unknown>[] }[] = [];
  for (const { kind, item } of corpus(n, seed)) {
    const list = byKind.get(kind) ?? [];
    list.push(item);
    byKind.set(kind, list);
    if (list.length === BATCH) {
      batches.push({ kind, items: list });
      byKind.set(kind, []);
    }
  }
  for (const [kind, items] of byKind) if (items.length) batches.push({ kind, items });
  let next = 0;
  await Promise.all(
    Array.from({ length: INGEST_CONCURRENCY }, async () => {
      while (next < batches.length) {
        const b = batches[next++]!;
        await (routerOf(client, b.kind).createMany.mutate as (i: unknown) => Promise<unknown>)({
          agentId,
          items: b.items,
        });
      }
    }),
  );
}

/** What people search for: one to three content words (no stop words), one query in ten misspelt. */
function makeQueries(count: number): string[] {
  const r = rng(7);
  const contentWord = () => {
    for (;;) {
      const w = word(r);
      if (!STOP_WORDS.includes(w)) return w;
    }
  };
  return Array.from({ length: count }, (_, i) => {
    const words = shape === 'rare' ? 3 : 1 + Math.floor(r() * 3);
    const q = Array.from({ length: words }, contentWord).join(' ');
    // One query in ten has a typo (two letters swapped).
    if (i % 10 === 9 && q.length > 4) {
      const p = 1 + Math.floor(r() * (q.length - 3));
      return q.slice(0, p) + q[p + 1] + q[p] + q.slice(p + 2);
    }
    return q;
  });
}

async function register(url: string, name: string, existing = false) {
  const anon = createMirixClient({ url });
  const password = 'bench-password';
  if (!existing) await anon.auth.register.mutate({ username: name, email: `${name}@bench.local`, password });
  const { accessToken } = await anon.auth.login.mutate({ username: name, password });
  return createMirixClient({ url, token: accessToken });
}

interface RunResult {
  shape: Shape;
  n: number;
  totalRows: number;
  ingest: { items: number; seconds: number; itemsPerSecond: number; createOnlyItemsPerSecond: number };
  endToEnd: LatencySummary;
  sqlFloor: LatencySummary;
  ratioP95: number;
  throughputQps: number;
}

async function run(n: number): Promise<RunResult> {
  const dbName = `mirix_bench_${shape}_${n}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  const reuse =
    args.includes('--reuse') &&
    (await admin.query('select 1 from pg_database where datname = $1', [dbName])).rowCount === 1;
  if (!reuse) {
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.query(`create database ${dbName}`);
  }
  await admin.end();
  const url = new URL(DATABASE_URL!);
  url.pathname = `/${dbName}`;
  const env = {
    DATABASE_URL: url.toString(),
    REDIS_URL: REDIS_URL!,
    NODE_ENV: 'development',
    JWT_SECRET: 'b'.repeat(40),
    VAULT_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
    // The benchmark is one user calling as fast as it can: no request budget.
    RATE_LIMIT_PER_USER: '100000000',
    QUEUE_PREFIX: `bench-${n}-${Date.now()}`,
    EMBEDDING_BATCH_SIZE: '256',
    LOG_LEVEL: 'info',
    PORT: '0',
    HOST: '127.0.0.1',
  };
  if (!reuse) {
    execFileSync('npm', ['run', '--silent', 'db:migrate'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
  }
  const api = await startService(
    ['server/main.ts'],
    env,
    join(tmpdir(), `mirix-bench-api-${n}.log`),
    /"port":\d+/,
  );
  const worker = await startService(
    ['workers/main.ts'],
    env,
    join(tmpdir(), `mirix-bench-worker-${n}.log`),
    /worker started/,
  );
  try {
    const base = `http://127.0.0.1:${/"port":(\d+)/.exec(api.log())![1]}`;
    const client = await register(base, 'bench', reuse);
    const agent = reuse
      ? (await client.agents.list.query({})).items[0]!
      : await client.agents.create.mutate({ name: 'bench agent' });
    const noise = await Promise.all(
      [1, 2, 3, 4].map(async (i) => {
        const c = await register(base, `noise${i}`, reuse);
        const agentId = reuse
          ? (await c.agents.list.query({})).items[0]!.id
          : (await c.agents.create.mutate({ name: `noise ${i}` })).id;
        return { client: c, agentId };
      }),
    );
    const noisePer = Math.round(n * 0.05);
    const total = n + noisePer * noise.length;

    process.stdout.write(
      `\n[${shape}, N=${n}] ingesting ${total} items through the API; the worker embeds them...`,
    );
    const t0 = performance.now();
    if (!reuse) {
      await Promise.all([
        ingest(client, agent.id, n, 1),
        ...noise.map((x, i) => ingest(x.client, x.agentId, noisePer, 100 + i)),
      ]);
    }
    const createSeconds = (performance.now() - t0) / 1000;
    const sql = new pg.Client({ connectionString: env.DATABASE_URL });
    await sql.connect();
    // Done when no memory waits for its vector, read from the pending-embedding index so that
    // watching does not slow the ingest it times (memory.stats counts every row of each agent;
    // docs/benchmarks.md).
    const pending = async () =>
      (
        await sql.query<{ pending: boolean }>(`select exists (select 1 from memories where embedding is null
          and deleted_at is null and memory_type <> 'knowledge_vault') as pending`)
      ).rows[0]!.pending;
    while (await pending()) await new Promise((r) => setTimeout(r, 200));
    const ingestSeconds = (performance.now() - t0) / 1000;
    console.log(reuse ? ' skipped (--reuse)' : ` ${ingestSeconds.toFixed(1)} s`);

    await sql.query('vacuum analyze memories');
    await sql.query(SESSION_SETTINGS);
    const [{ id: userId }] = (
      await sql.query<{ id: string }>("select id from users where username = 'bench'")
    ).rows as [{ id: string }];

    const queries = makeQueries(QUERIES + WARMUP);
    const search = (q: string) => client.memory.search.query({ agentId: agent.id, query: q, limit: 10 });
    // The floor: the same statements, run the same way (vector and full text at once, on two
    // connections), straight on PostgreSQL.
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    const prepared = new WeakSet<pg.PoolClient>();
    const run = async <T>(st: { sql: string; params: unknown[] }) => {
      const c = await pool.connect();
      try {
        if (!prepared.has(c)) {
          await c.query(SESSION_SETTINGS);
          prepared.add(c);
        }
        return (await c.query(st.sql, st.params)).rows as T[];
      } finally {
        c.release();
      }
    };
    const floor = (q: string) =>
      runFusedSearch(run, {
        agentId: agent.id,
        userId,
        types: [...MEMORY_TYPES],
        from: null,
        to: null,
        vector: toSql(hashedEmbedding(q, 768)) as string,
        embeddingModel: 'mirix-hashed-v1',
        fulltext: parseSearchQuery(q),
        exclude: [],
        trigram: q,
        weights: DEFAULT_FUSION_WEIGHTS,
        candidates: 40,
        limit: 10,
      });
    for (const q of queries.slice(0, WARMUP)) {
      await search(q);
      await floor(q);
    }
    const measured = queries.slice(WARMUP);
    const e2e = summarize(await timeSequential(measured.length, (i) => search(measured[i]!)));
    const sqlFloor = summarize(await timeSequential(measured.length, (i) => floor(measured[i]!)));
    const qps = await throughput(measured.length, 8, (i) => search(measured[i % measured.length]!));
    const [{ count }] = (await sql.query<{ count: string }>('select count(*) from memories')).rows as [
      { count: string },
    ];
    await sql.end();
    await pool.end();
    return {
      shape,
      n,
      totalRows: Number(count),
      ingest: reuse
        ? { items: total, seconds: NaN, itemsPerSecond: NaN, createOnlyItemsPerSecond: NaN }
        : {
            items: total,
            seconds: Math.round(ingestSeconds * 10) / 10,
            itemsPerSecond: Math.round(total / ingestSeconds),
            createOnlyItemsPerSecond: Math.round(total / createSeconds),
          },
      endToEnd: e2e,
      sqlFloor,
      ratioP95: Math.round((e2e.p95 / sqlFloor.p95) * 100) / 100,
      throughputQps: Math.round(qps),
    };
  } finally {
    await worker.stop();
    await api.stop();
    if (!args.includes('--keep')) {
      const a = new pg.Client({ connectionString: DATABASE_URL });
      await a.connect();
      await a.query(`drop database if exists ${dbName} with (force)`);
      await a.end();
    }
  }
}

const results: RunResult[] = [];
for (const s of SHAPES) {
  shape = s;
  for (const n of SIZES) results.push(await run(n));
}

console.log(
  table(
    'memory.search, limit 10, all types, vector + full text + trigram fused (ms)',
    results.flatMap((r) => [
      { shape: r.shape, N: r.n, rows: r.totalRows, path: 'end to end (typed client, HTTP)', ...r.endToEnd },
      { shape: r.shape, N: r.n, rows: r.totalRows, path: 'raw SQL floor (same statements)', ...r.sqlFloor },
    ]),
  ),
);
console.log(
  table(
    'throughput and ingest',
    results.map((r) => ({
      shape: r.shape,
      N: r.n,
      'e2e/floor p95': r.ratioP95,
      'search QPS (8 clients)': r.throughputQps,
      'ingest items': r.ingest.items,
      'ingest s': r.ingest.seconds,
      'API createMany items/s': r.ingest.createOnlyItemsPerSecond,
      'ingest items/s (create + embed)': r.ingest.itemsPerSecond,
    })),
  ),
);
const out = join('bench', 'results', 'search.json');
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), machine: '2 cores', results }, null, 2)}\n`,
);
console.log(`\nwrote ${out}`);
