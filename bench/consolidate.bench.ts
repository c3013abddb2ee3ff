// `npm run bench:consolidate`: consolidation jobs through real worker processes, with a loopback
// fake OpenAI provider that answers at once, as a model would, with the tool calls the content needs
// (a short note: one manager inserts a fact in one call). Prints tables and writes
// bench/results/consolidate.json.
//   1. Throughput: JOBS jobs over AGENTS agents queued first, then 1 (and then 2) worker processes
//      drain them; jobs/s = jobs / (last finish - first start); LLM calls, tokens and time per job.
//   2. Calls per job for the standard inputs: a short note for one type, a short conversation that
//      touches three types, and a long one (beyond CONSOLIDATE_DIRECT_MAX_CHARS) that touches three.
//   3. Queue latency: jobs arriving at a steady RATE while 2 workers run; enqueue -> start, p50/p95.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createMirixClient } from '../client/index.js';
import { startFakeOpenAI } from '../tests/support/fake-openai.js';
import { managerRoute } from '../tests/support/memory-managers.js';
import { createBenchDatabase, startService, summarize, table } from './lib.js';

const { DATABASE_URL, REDIS_URL } = process.env;
if (!DATABASE_URL || !REDIS_URL) {
  console.error('Set DATABASE_URL and REDIS_URL (npm run bench:consolidate does, via scripts/services.sh).');
  process.exit(1);
}
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const JOBS = arg('jobs', 2000);
const AGENTS = arg('agents', 200);
const CONCURRENCY = arg('concurrency', 64);
const RATE = arg('rate', 50);
const LATENCY_JOBS = arg('latency-jobs', 500);

const fake = await startFakeOpenAI({ dim: 8 });
fake.route = managerRoute({
  meta: ['semantic'],
  managers: {
    semantic: [
      [{ name: 'semantic_memory_insert', args: { items: [{ name: 'Fact', summary: 'A remembered fact' }] } }],
    ],
  },
});

const db = await createBenchDatabase(DATABASE_URL, 'mirix_bench_consolidate');
const env = {
  DATABASE_URL: db.url,
  REDIS_URL,
  NODE_ENV: 'development',
  JWT_SECRET: 'c'.repeat(40),
  VAULT_KEYS: `bench:${Buffer.alloc(32, 9).toString('base64')}`,
  OPENAI_BASE_URL: fake.url,
  OPENAI_API_KEY: 'bench',
  // The benchmark is one user calling as fast as it can: no request budget.
  RATE_LIMIT_PER_USER: '100000000',
  QUEUE_PREFIX: `bench-consolidate-${Date.now()}`,
  CONSOLIDATE_CONCURRENCY: String(CONCURRENCY),
  DB_POOL_MAX: '20',
  LOG_LEVEL: 'warn',
  PORT: '0',
  HOST: '127.0.0.1',
};
db.migrate(env);
const api = await startService(
  ['server/main.ts'],
  { ...env, LOG_LEVEL: 'info' },
  join(tmpdir(), 'mirix-bench-consolidate-api.log'),
  /"port":\d+/,
);
const sql = new pg.Client({ connectionString: env.DATABASE_URL });
await sql.connect();
const workers: Awaited<ReturnType<typeof startService>>[] = [];
const startWorkers = async (n: number) => {
  for (let i = workers.length; i < n; i++) {
    workers.push(
      await startService(
        ['workers/main.ts'],
        { ...env, LOG_LEVEL: 'info' },
        join(tmpdir(), `mirix-bench-consolidate-worker-${i}.log`),
        /worker started/,
      ),
    );
  }
};
const stopWorkers = async () => {
  await Promise.all(workers.map((w) => w.stop()));
  workers.length = 0;
};

try {
  const base = `http://127.0.0.1:${/"port":(\d+)/.exec(api.log())![1]}`;
  const anon = createMirixClient({ url: base });
  await anon.auth.register.mutate({
    username: 'consolidate',
    email: 'c@bench.local',
    password: 'bench-password',
  });
  const { accessToken } = await anon.auth.login.mutate({
    username: 'consolidate',
    password: 'bench-password',
  });
  const client = createMirixClient({ url: base, token: accessToken });
  const agents: string[] = [];
  for (let i = 0; i < AGENTS; i++) {
    agents.push(
      (
        await client.agents.create.mutate({
          name: `agent ${i}`,
          modelConfig: { provider: 'openai', model: 'fake', parameters: {} },
        })
      ).id,
    );
  }

  /** Queues `n` ingests over the agents, `parallel` at a time; returns their job ids. */
  const ingest = async (n: number, parallel = 16) => {
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < n) {
          const i = next++;
          const { jobId } = await client.memory.ingest.mutate({
            agentId: agents[i % agents.length]!,
            text: `Note ${i}: the user mentioned a fact worth remembering.`,
          });
          ids.push(jobId);
        }
      }),
    );
    return ids;
  };
  const waitDone = async (ids: string[]) => {
    for (;;) {
      const { rows } = await sql.query<{ n: string }>(
        "select count(*) as n from memory_jobs where id = any($1) and status in ('completed', 'failed')",
        [ids],
      );
      if (Number(rows[0]!.n) === ids.length) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stats = async (ids: string[]) => {
    const { rows } = await sql.query<{
      completed: string;
      failed: string;
      seconds: number;
      calls: number;
      max_calls: number;
      tokens: number;
      ms_p50: number;
      ms_p95: number;
      warned: string;
    }>(
      `select count(*) filter (where status = 'completed') as completed,
         count(*) filter (where status = 'failed') as failed,
         extract(epoch from max(finished_at) - min(started_at))::float8 as seconds,
         avg(llm_calls)::float8 as calls, max(llm_calls) as max_calls,
         avg(total_tokens)::float8 as tokens,
         percentile_cont(0.5) within group (order by extract(epoch from finished_at - started_at) * 1000) as ms_p50,
         percentile_cont(0.95) within group (order by extract(epoch from finished_at - started_at) * 1000) as ms_p95,
         count(*) filter (where jsonb_array_length(warnings) > 0) as warned
       from memory_jobs where id = any($1)`,
      [ids],
    );
    const r = rows[0]!;
    const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
    return {
      completed: Number(r.completed),
      failed: Number(r.failed),
      'with warnings': Number(r.warned),
      seconds: round(r.seconds),
      jobsPerSecond: round(Number(r.completed) / r.seconds, 1),
      'LLM calls/job': round(r.calls),
      'max calls': r.max_calls,
      'tokens/job': round(r.tokens, 1),
      'job ms p50': round(r.ms_p50, 1),
      'job ms p95': round(r.ms_p95, 1),
    };
  };

  const throughput: Record<string, string | number>[] = [];
  for (const n of [1, 2]) {
    const ids = await ingest(JOBS);
    await startWorkers(n);
    await waitDone(ids);
    throughput.push({ 'worker processes': n, jobs: JOBS, ...(await stats(ids)) });
    await stopWorkers();
  }

  // Calls per job for the standard inputs, one worker process.
  const THREE_TYPES = managerRoute({
    meta: ['episodic', 'semantic', 'core'],
    managers: {
      episodic: [
        [{ name: 'episodic_memory_insert', args: { items: [{ event_type: 'trip', summary: 'A trip' }] } }],
      ],
      semantic: [
        [{ name: 'semantic_memory_insert', args: { items: [{ name: 'Fact', summary: 'A fact' }] } }],
      ],
      core: [[{ name: 'core_memory_append', args: { label: 'human', content: 'A lasting fact' } }]],
    },
  });
  const INPUTS = [
    {
      input: 'short note, one type',
      route: fake.route,
      text: (i: number) => `Note ${i}: a fact worth remembering.`,
    },
    {
      input: 'short conversation, three types',
      route: THREE_TYPES,
      text: (i: number) => `user: I am Rui (${i}). I flew to Lisbon last week; Ana is my sister.`,
    },
    {
      input: 'long conversation, three types',
      route: THREE_TYPES,
      text: (i: number) =>
        `user: trip report ${i}. ${'We walked the hills, ate well and met friends. '.repeat(60)}`,
    },
  ];
  const perInput: Record<string, string | number>[] = [];
  const MIX_JOBS = Math.min(JOBS, 200);
  await startWorkers(1);
  for (const { input, route, text } of INPUTS) {
    fake.route = route;
    const mixIds: string[] = [];
    for (let i = 0; i < MIX_JOBS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, MIX_JOBS - i) }, (_, j) =>
          client.memory.ingest.mutate({ agentId: agents[(i + j) % agents.length]!, text: text(i + j) }),
        ),
      );
      mixIds.push(...batch.map((b) => b.jobId));
    }
    await waitDone(mixIds);
    const {
      ['LLM calls/job']: calls,
      ['max calls']: max,
      ['tokens/job']: tokens,
      ['job ms p50']: p50,
      ['with warnings']: warned,
    } = await stats(mixIds);
    perInput.push({
      input,
      jobs: MIX_JOBS,
      'LLM calls/job': calls,
      'max calls': max,
      'tokens/job': tokens,
      'job ms p50': p50,
      'with warnings': warned,
    });
  }
  await stopWorkers();
  fake.route = INPUTS[0]!.route;

  // Queue latency at a steady arrival rate, two workers running, once they have embedded the
  // facts the throughput runs left pending (the same processes run the embed worker).
  await startWorkers(2);
  for (;;) {
    const { rows } = await sql.query<{ n: string }>(
      "select count(*) as n from memories where embedding is null and deleted_at is null and memory_type <> 'knowledge_vault'",
    );
    if (Number(rows[0]!.n) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const ids: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < LATENCY_JOBS; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    void client.memory.ingest
      .mutate({ agentId: agents[i % agents.length]!, text: `Steady note ${i} about a fact.` })
      .then((r) => ids.push(r.jobId));
  }
  while (ids.length < LATENCY_JOBS) await new Promise((r) => setTimeout(r, 50));
  await waitDone(ids);
  const { rows: latencyRows } = await sql.query<{ ms: number }>(
    `select extract(epoch from started_at - created_at)::float8 * 1000 as ms from memory_jobs
     where id = any($1) and status = 'completed'`,
    [ids],
  );
  const queueLatency = summarize(latencyRows.map((r) => r.ms));
  await stopWorkers();

  console.log(
    table(`consolidation throughput (${AGENTS} agents, concurrency ${CONCURRENCY} per process)`, throughput),
  );
  console.log(table('LLM calls per job for the standard inputs (1 worker process)', perInput));
  console.log(
    table(`queue latency, enqueue -> start, at ${RATE} jobs/s with 2 worker processes (ms)`, [
      { measure: 'queue latency', ...queueLatency },
    ]),
  );
  writeFileSync(
    join('bench', 'results', 'consolidate.json'),
    `${JSON.stringify({ date: new Date().toISOString(), agents: AGENTS, concurrency: CONCURRENCY, throughput, perInput, rate: RATE, queueLatency }, null, 2)}\n`,
  );
  console.log('\nwrote bench/results/consolidate.json');
} finally {
  await stopWorkers();
  await api.stop();
  await sql.end();
  await fake.close();
  await db.drop();
}
