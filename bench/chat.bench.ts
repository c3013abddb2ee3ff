// `npm run bench:chat`: the server's own cost per chat turn, with a loopback fake OpenAI provider
// that answers at once. Prints a table and writes bench/results/chat.json.
//   1. chat.send, sequential: end-to-end latency per turn (the provider's time is ~0). The server
//      is measured once it has reached its steady state: V8 keeps compiling the request path for
//      several hundred turns after a start, so the first BENCH_WARMUP turns are not counted (the
//      first 300 of them are reported on their own row, as the cost right after a start).
//   2. agents.get, sequential: the floor of any authenticated call (auth and one statement).
//   3. chat.stream: the delay each content chunk takes from the provider to the client.
//   4. 100 concurrent chat.stream sessions: all must complete and every message be persisted.
// Knobs: BENCH_TURNS (1000) measured after BENCH_WARMUP (1000) turns; BENCH_STREAMS (100) measured
// after BENCH_STREAM_WARMUP (30); BENCH_NODE_FLAGS (say --perf-basic-prof for `perf record`) and
// BENCH_CPU_PROF=<dir> for the API process; BENCH_KEEP_DB=1 keeps the database for EXPLAIN.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createMirixClient, type MirixClient } from '../client/index.js';
import { startFakeOpenAI } from '../tests/support/fake-openai.js';
import {
  chatBenchEnv,
  createBenchDatabase,
  processTreeCpuMs,
  startService,
  summarize,
  table,
  timeSequential,
} from './lib.js';

const { DATABASE_URL, REDIS_URL } = process.env;
if (!DATABASE_URL || !REDIS_URL) {
  console.error('Set DATABASE_URL and REDIS_URL (npm run bench:chat does, via scripts/services.sh).');
  process.exit(1);
}
const TURNS = Number(process.env.BENCH_TURNS ?? 1000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const COLD = Math.min(300, WARMUP);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 100);
const STREAM_WARMUP = Number(process.env.BENCH_STREAM_WARMUP ?? 30);
const FLOOR_CALLS = 500;
const CONCURRENT = 100;

const fake = await startFakeOpenAI({ dim: 8 });
const db = await createBenchDatabase(DATABASE_URL, 'mirix_bench_chat');
const env = chatBenchEnv(db.url, REDIS_URL, fake.url, `bench-chat-${Date.now()}`);
db.migrate(env);
const api = await startService(
  ['server/main.ts'],
  env,
  join(tmpdir(), 'mirix-bench-chat-api.log'),
  /"port":\d+/,
);

try {
  const base = `http://127.0.0.1:${/"port":(\d+)/.exec(api.log())![1]}`;
  const anon = createMirixClient({ url: base });
  await anon.auth.register.mutate({
    username: 'chatbench',
    email: 'chat@bench.local',
    password: 'bench-password',
  });
  const { accessToken } = await anon.auth.login.mutate({ username: 'chatbench', password: 'bench-password' });
  // The server's own time per request, from its Server-Timing header (the client's cost excluded).
  let lastServerMs = NaN;
  let lastLlmMs = NaN;
  const client: MirixClient = createMirixClient({
    url: base,
    token: accessToken,
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      const timing = res.headers.get('server-timing') ?? '';
      lastServerMs = Number(/app;dur=([\d.]+)/.exec(timing)?.[1]);
      lastLlmMs = Number(/llm;dur=([\d.]+)/.exec(timing)?.[1] ?? 0);
      return res;
    },
  });
  const agent = await client.agents.create.mutate({
    name: 'bench',
    modelConfig: { provider: 'openai', model: 'fake', parameters: {} },
  });
  await client.memory.semantic.createMany.mutate({
    agentId: agent.id,
    items: Array.from({ length: 200 }, (_, i) => ({
      name: `fact ${i}`,
      summary: `remembered detail number ${i}`,
    })),
  });

  // 1. chat.send turns: the warm-up ones first (the first COLD of them are reported as `cold`).
  const coldServerSide: number[] = [];
  for (let i = 0; i < WARMUP; i++) {
    fake.replies.push({ text: 'A short answer.' });
    fake.chatRequests.length = 0;
    await client.chat.send.mutate({ agentId: agent.id, message: `warm up ${i} about detail` });
    if (i < COLD) coldServerSide.push(lastServerMs);
  }
  const serverSide: number[] = [];
  const withoutProvider: number[] = [];
  const cpuBefore = processTreeCpuMs(api.child.pid!);
  const send = summarize(
    await timeSequential(TURNS, async (i) => {
      fake.replies.push({ text: 'A short answer.' });
      // The fake keeps every request for tests to read; the benchmark reads none (and a growing
      // heap would make this process, which is the client and the provider, slower as it runs).
      fake.chatRequests.length = 0;
      await client.chat.send.mutate({ agentId: agent.id, message: `question ${i} about detail` });
      serverSide.push(lastServerMs);
      withoutProvider.push(lastServerMs - lastLlmMs);
    }),
  );
  const sendServer = summarize(serverSide);
  const sendOwn = summarize(withoutProvider);
  // The API process's CPU per turn: steadier than latency on a shared machine.
  const cpuPerTurn = Math.round(((processTreeCpuMs(api.child.pid!) - cpuBefore) / TURNS) * 100) / 100;

  // 2. The floor: an authenticated call that reads one row.
  const floorServerSide: number[] = [];
  for (let i = 0; i < FLOOR_CALLS; i++) {
    await client.agents.get.query({ id: agent.id });
    floorServerSide.push(lastServerMs);
  }
  const floor = summarize(floorServerSide);

  // 3. Per-chunk relay delay: the fake stamps each chunk with its send time (same process clock).
  // The first STREAM_WARMUP streams warm the streaming path up, like the turns above, unrecorded.
  const relay: number[] = [];
  for (let s = 0; s < STREAM_WARMUP + STREAMS; s++) {
    const stamps = Array.from({ length: 50 }, () => 'x'.repeat(20));
    fake.replies.push({ text: stamps.join(''), chunkSize: 20, delayMs: 2 });
    const sentAt: number[] = [];
    const origPush = fake.chunkSent;
    fake.chunkSent = () => sentAt.push(performance.now());
    let n = 0;
    await new Promise<void>((resolve, reject) => {
      const sub = client.chat.stream.subscribe(
        { agentId: agent.id, message: `stream ${s}` },
        {
          onData: (e) => {
            const delay = e.type === 'content' ? performance.now() - sentAt[n++]! : 0;
            if (e.type === 'content' && s >= STREAM_WARMUP) relay.push(delay);
            if (e.type === 'complete' || e.type === 'error') {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    fake.chunkSent = origPush;
  }
  const relaySummary = summarize(relay);

  // 4. 100 concurrent streams.
  for (let i = 0; i < CONCURRENT; i++) fake.replies.push({ text: 'concurrent answer', chunkSize: 3 });
  const t0 = performance.now();
  const outcomes = await Promise.all(
    Array.from(
      { length: CONCURRENT },
      (_, i) =>
        new Promise<string>((resolve) => {
          const sub = client.chat.stream.subscribe(
            { agentId: agent.id, message: `concurrent ${i}` },
            {
              onData: (e) => {
                if (e.type === 'complete' || e.type === 'error') {
                  sub.unsubscribe();
                  resolve(e.type);
                }
              },
              onError: () => resolve('transport-error'),
            },
          );
        }),
    ),
  );
  const concurrentSeconds = (performance.now() - t0) / 1000;
  const sql = new pg.Client({ connectionString: env.DATABASE_URL });
  await sql.connect();
  const persisted = Number(
    (
      await sql.query<{ n: string }>(
        "select count(*) as n from messages where content like 'concurrent %' or content = 'concurrent answer'",
      )
    ).rows[0]?.n,
  );
  await sql.end();
  const completed = outcomes.filter((o) => o === 'complete').length;

  console.log(
    table('chat, fake provider answering at once (ms)', [
      { measure: 'chat.send turn, in the server (Server-Timing app)', ...sendServer },
      { measure: '  of which not waiting on the provider (app - llm)', ...sendOwn },
      { measure: 'chat.send turn, end to end (typed client)', ...send },
      { measure: `  cold: the first ${COLD} turns after a start (app)`, ...summarize(coldServerSide) },
      { measure: 'floor: agents.get, in the server (app)', ...floor },
      { measure: 'chat.stream relay delay per content chunk', ...relaySummary },
    ]),
  );
  console.log(`\nAPI process CPU per chat.send turn: ${cpuPerTurn} ms`);
  console.log(
    table(`${CONCURRENT} concurrent chat.stream sessions`, [
      {
        completed: `${completed}/${CONCURRENT}`,
        'messages persisted': `${persisted}/${CONCURRENT * 2}`,
        seconds: Math.round(concurrentSeconds * 100) / 100,
      },
    ]),
  );
  writeFileSync(
    join('bench', 'results', 'chat.json'),
    `${JSON.stringify({ date: new Date().toISOString(), turns: TURNS, warmup: WARMUP, send, sendServer, sendOwn, cold: summarize(coldServerSide), floor, cpuPerTurn, relay: relaySummary, concurrent: { completed, persisted, seconds: concurrentSeconds } }, null, 2)}\n`,
  );
  console.log('\nwrote bench/results/chat.json');
  if (completed !== CONCURRENT || persisted !== CONCURRENT * 2) process.exitCode = 1;
} finally {
  await api.stop();
  await fake.close();
  // The run's queues and events: each run has a prefix of its own.
  const redis = new Redis(REDIS_URL);
  for await (const keys of redis.scanStream({ match: `${env.QUEUE_PREFIX}:*`, count: 500 }))
    if ((keys as string[]).length) await redis.del(...(keys as string[]));
  await redis.quit();
  if (!process.env.BENCH_KEEP_DB) await db.drop();
}
