// `npm run bench:recall [-- --data ../shared/eval/locomo-dev --out bench/results/recall.json --tune --db NAME]`
// Retrieval quality on conversations in the LOCOMO format (one JSON file per conversation), through
// the API: every dialog turn becomes one episodic memory of the conversation's agent (actor the
// speaker, summary "Speaker: text", details the text, occurredAt the session's date; a shared
// photo's caption is part of the text), the worker embeds them with the offline hashed embedder,
// and every question of categories 1-4 is sent to memory.search exactly as written. hit@k: one of
// the question's evidence turns is among the first k results. Printed for the full search, for
// each signal alone, and for a BM25 (k1 1.2, b 0.75, no stemming) that this script computes over
// the same texts in the same run; plus the full search's latency.
// --tune also prints hit@k for a grid of fusion weights, fusing the signals' own ranked lists
// offline: by weighted scores as the SQL does, and by weighted reciprocal rank (k = 60) for comparison.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createMirixClient, type MirixClient } from '../client/index.js';

import { createBenchDatabase, startService, summarize, table } from './lib.js';
import { loadLocomo, type Question, type Turn, turnText } from './locomo-data.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const DATA = resolve(arg('data', '../shared/eval/locomo-dev'));
const OUT = arg('out', join('bench', 'results', 'recall.json'));
const TUNE = args.includes('--tune');
const DB_NAME = arg('db', 'mirix_bench_recall');
const KS = [1, 5, 10, 20] as const;
const LIMIT = 20;
const { DATABASE_URL, REDIS_URL } = process.env;
if (!DATABASE_URL || !REDIS_URL) {
  console.error('Set DATABASE_URL and REDIS_URL (npm run bench:recall does, via scripts/services.sh).');
  process.exit(1);
}

// ---- the data set ----
interface Conversation {
  name: string;
  turns: (Turn & { date: Date })[];
  questions: Question[];
}

function load(dir: string): Conversation[] {
  return loadLocomo(dir).map((c) => ({
    name: c.name,
    turns: c.sessions.flatMap((s) => s.turns.map((t) => ({ ...t, date: s.date }))),
    questions: c.questions,
  }));
}

// ---- the BM25 baseline, over the same summaries ----
const tokens = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
function bm25Index(docs: string[], k1 = 1.2, b = 0.75) {
  const tfs = docs.map((d) => {
    const tf = new Map<string, number>();
    for (const w of tokens(d)) tf.set(w, (tf.get(w) ?? 0) + 1);
    return tf;
  });
  const lens = docs.map((d) => tokens(d).length);
  const avg = lens.reduce((a, x) => a + x, 0) / Math.max(1, lens.length);
  const df = new Map<string, number>();
  for (const tf of tfs) for (const w of tf.keys()) df.set(w, (df.get(w) ?? 0) + 1);
  const n = docs.length;
  return (query: string): number[] => {
    const q = [...new Set(tokens(query))];
    const scores = tfs.map((tf, i) => {
      let s = 0;
      for (const w of q) {
        const f = tf.get(w);
        if (!f) continue;
        const idf = Math.log(1 + (n - df.get(w)! + 0.5) / (df.get(w)! + 0.5));
        s += (idf * f * (k1 + 1)) / (f + k1 * (1 - b + (b * lens[i]!) / avg));
      }
      return s;
    });
    return scores
      .map((s, i) => [s, i] as const)
      .filter(([s]) => s > 0)
      .sort((x, y) => y[0] - x[0] || x[1] - y[1])
      .slice(0, LIMIT)
      .map(([, i]) => i);
  };
}

// ---- scoring ----
type Ranked = string[]; // dia_ids, best first
class HitCounter {
  readonly hits = new Map<string, number[]>();
  readonly counts = new Map<string, number>();
  add(group: string, ranked: Ranked, evidence: Set<string>) {
    for (const g of [group, 'all']) {
      const h = this.hits.get(g) ?? KS.map(() => 0);
      KS.forEach((k, i) => {
        if (ranked.slice(0, k).some((id) => evidence.has(id))) h[i]!++;
      });
      this.hits.set(g, h);
      this.counts.set(g, (this.counts.get(g) ?? 0) + 1);
    }
  }
  rate(group: string): number[] {
    const n = this.counts.get(group) ?? 0;
    return (this.hits.get(group) ?? KS.map(() => 0)).map((h) => (n ? Math.round((h / n) * 1000) / 1000 : 0));
  }
}

const METHODS = ['vector', 'fulltext', 'trigram'] as const;
type Method = (typeof METHODS)[number];
const CATEGORY = { 1: 'multi-hop', 2: 'temporal', 3: 'open-domain', 4: 'single-hop' } as Record<
  number,
  string
>;

type Scored = { id: string; score: number }[];
type Fusion = 'rrf' | 'score';
/**
 * Fuses per-signal lists: by weighted scores (each signal's score divided by its best in this
 * query), as the search service does (fuseSignals), or by weighted reciprocal rank.
 */
function fuse(lists: Record<Method, Scored>, weights: Record<Method, number>, how: Fusion): Ranked {
  const score = new Map<string, number>();
  for (const m of METHODS) {
    const best = Math.max(1e-9, ...lists[m].map((x) => x.score));
    lists[m].forEach((x, r) =>
      score.set(
        x.id,
        (score.get(x.id) ?? 0) + weights[m] * (how === 'rrf' ? 1 / (60 + r + 1) : x.score / best),
      ),
    );
  }
  return [...score.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
}

async function main() {
  const conversations = load(DATA);
  if (conversations.length === 0) throw new Error(`no .json conversations in ${DATA}`);
  const db = await createBenchDatabase(DATABASE_URL!, DB_NAME);
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: REDIS_URL!,
    NODE_ENV: 'development',
    JWT_SECRET: 'r'.repeat(40),
    RATE_LIMIT_PER_USER: '100000000',
    QUEUE_PREFIX: `bench-recall-${Date.now()}`,
    LOG_LEVEL: 'info',
    PORT: '0',
    HOST: '127.0.0.1',
  };
  db.migrate(env);
  const api = await startService(
    ['server/main.ts'],
    env,
    join(tmpdir(), 'mirix-recall-api.log'),
    /"port":\d+/,
  );
  const worker = await startService(
    ['workers/main.ts'],
    env,
    join(tmpdir(), 'mirix-recall-worker.log'),
    /worker started/,
  );
  try {
    const url = `http://127.0.0.1:${/"port":(\d+)/.exec(api.log())![1]}`;
    const anon = createMirixClient({ url });
    await anon.auth.register.mutate({
      username: 'recall',
      email: 'recall@bench.local',
      password: 'bench-password',
    });
    const { accessToken } = await anon.auth.login.mutate({ username: 'recall', password: 'bench-password' });
    const client: MirixClient = createMirixClient({ url, token: accessToken });

    const full = new HitCounter();
    const single = Object.fromEntries(METHODS.map((m) => [m, new HitCounter()])) as Record<
      Method,
      HitCounter
    >;
    const bm25 = new HitCounter();
    const latencies: number[] = [];
    const perQuestion: { lists: Record<Method, Scored>; evidence: Set<string>; category: number }[] = [];
    let turns = 0;

    for (const conv of conversations) {
      const agentId = (await client.agents.create.mutate({ name: `locomo ${conv.name}` })).id;
      const idToDia = new Map<string, string>();
      for (let i = 0; i < conv.turns.length; i += 500) {
        const batch = conv.turns.slice(i, i + 500);
        const { ids } = await client.memory.episodic.createMany.mutate({
          agentId,
          items: batch.map((t) => ({
            occurredAt: t.date,
            eventType: 'conversation',
            actor: t.speaker,
            summary: `${t.speaker}: ${turnText(t)}`,
            details: turnText(t),
          })),
        });
        ids.forEach((id, j) => idToDia.set(id, batch[j]!.dia_id));
      }
      turns += conv.turns.length;
      while ((await client.memory.stats.query({ agentId })).pendingEmbeddings > 0) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const baseline = bm25Index(conv.turns.map((t) => `${t.speaker}: ${turnText(t)}`));
      const search = async (query: string, methods?: Method[], limit = LIMIT) =>
        (await client.memory.search.query({ agentId, query, types: ['episodic'], limit, methods })).items.map(
          (h) => idToDia.get(h.item.id)!,
        );
      /** One signal's own ranked list with its own scores. */
      const signal = async (query: string, m: Method) => {
        const { items } = await client.memory.search.query({
          agentId,
          query,
          types: ['episodic'],
          limit: 40,
          methods: [m],
          explain: true,
        });
        return items.map((h) => ({ id: idToDia.get(h.item.id)!, score: h.explain?.[m]?.score ?? 0 }));
      };
      for (const q of conv.questions) {
        const evidence = new Set(q.evidence);
        const group = CATEGORY[q.category]!;
        const t = performance.now();
        full.add(group, await search(q.question), evidence);
        latencies.push(performance.now() - t);
        // Each signal alone, with as many results as the fused statement takes from it.
        const lists = {} as Record<Method, Scored>;
        for (const m of METHODS) {
          lists[m] = await signal(q.question, m);
          single[m].add(
            group,
            lists[m].map((x) => x.id),
            evidence,
          );
        }
        perQuestion.push({ lists, evidence, category: q.category });
        bm25.add(
          group,
          baseline(q.question).map((i) => conv.turns[i]!.dia_id),
          evidence,
        );
      }
    }

    const groups = ['all', ...Object.values(CATEGORY)];
    const row = (name: string, c: HitCounter) =>
      groups.map((g) => {
        const [h1, h5, h10, h20] = c.rate(g);
        return {
          method: name,
          questions: c.counts.get(g) ?? 0,
          category: g,
          'hit@1': h1!,
          'hit@5': h5!,
          'hit@10': h10!,
          'hit@20': h20!,
        };
      });
    const rows = [
      ...row('memory.search (fused)', full),
      ...METHODS.flatMap((m) => row(`${m} alone`, single[m])),
      ...row('BM25 baseline (this script)', bm25),
    ];
    console.log(
      table(
        `hit@k on ${conversations.length} conversations, ${turns} turns, ${full.counts.get('all')} questions (${DATA})`,
        rows.filter((r) => r.category === 'all'),
      ),
    );
    console.log(
      table(
        'per category',
        rows.filter((r) => r.category !== 'all'),
      ),
    );
    const latency = summarize(latencies);
    console.log(table('memory.search latency over HTTP (ms)', [{ ...latency }]));

    let tuning: { fusion: Fusion; weights: Record<Method, number>; rates: number[] }[] = [];
    if (TUNE) {
      for (const fusion of ['rrf', 'score'] as const) {
        for (const vector of [0, 0.05, 0.1, 0.2, 0.3, 0.5, 1]) {
          for (const trigram of [0, 0.1, 0.3]) {
            const weights = { vector, fulltext: 1, trigram };
            const c = new HitCounter();
            for (const q of perQuestion)
              c.add(CATEGORY[q.category]!, fuse(q.lists, weights, fusion), q.evidence);
            tuning.push({ fusion, weights, rates: c.rate('all') });
          }
        }
      }
      tuning = tuning.sort((a, b) => b.rates[2]! + b.rates[0]! - (a.rates[2]! + a.rates[0]!));
      console.log(
        table(
          "fusion weights (fulltext 1), offline over the signals' lists, best hit@1 + hit@10 first",
          tuning.slice(0, 16).map((t) => ({
            fusion: t.fusion,
            vector: t.weights.vector,
            trigram: t.weights.trigram,
            'hit@1': t.rates[0]!,
            'hit@5': t.rates[1]!,
            'hit@10': t.rates[2]!,
            'hit@20': t.rates[3]!,
          })),
        ),
      );
    }

    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(
      OUT,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          data: DATA,
          conversations: conversations.length,
          turns,
          ks: KS,
          rows,
          latency,
          tuning,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwrote ${OUT}`);
  } finally {
    await worker.stop();
    await api.stop();
    await db.drop();
  }
}

await main();
