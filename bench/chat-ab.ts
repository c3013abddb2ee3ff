// `npm run bench:chat-ab -- <dirA> <dirB>`: compares the chat turn of two checkouts of this repo
// (say a `git worktree` of main and your branch), turn by turn. Speed on a shared VM drifts by
// ±30% within minutes, so two runs of bench:chat taken a minute apart do not compare; here both
// API servers run at once against the same fake provider and database, and turns alternate
// between them (ABBA), so a slow stretch hits both alike. Prints the Server-Timing `app`
// percentiles of 1000 turns each after 1000 warm-up turns (AB_TURNS, AB_WARMUP), the API's CPU per
// turn, and agents.get as the floor. A checkout needs node_modules (a symlink to this one's will do).
// The same checkout twice with AB_NODE_FLAGS_A / AB_NODE_FLAGS_B compares Node or V8 settings.
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createMirixClient, type MirixClient } from '../client/index.js';
import { startFakeOpenAI } from '../tests/support/fake-openai.js';
import { chatBenchEnv, createBenchDatabase, processTreeCpuMs, summarize, table } from './lib.js';

const dirs = process.argv.slice(2).map((d) => resolve(d));
const { DATABASE_URL, REDIS_URL } = process.env;
if (dirs.length !== 2 || !DATABASE_URL || !REDIS_URL) {
  console.error('usage: npm run bench:chat-ab -- <checkout A> <checkout B>');
  process.exit(1);
}
const redisUrl: string = REDIS_URL;
const TURNS = Number(process.env.AB_TURNS ?? 1000);
const WARMUP = Number(process.env.AB_WARMUP ?? 1000);

const fake = await startFakeOpenAI({ dim: 8 });
const db = await createBenchDatabase(DATABASE_URL, 'mirix_bench_chat_ab');
db.migrate(chatBenchEnv(db.url, REDIS_URL, fake.url, 'bench-ab'));
const prefixes: string[] = [];

interface Side {
  dir: string;
  pid: number;
  stop: () => void;
  client: MirixClient;
  agentId: string;
  lastAppMs: number;
  turns: number[];
  floor: number[];
}

async function startSide(dir: string, k: number): Promise<Side> {
  const prefix = `bench-ab-${k}-${Date.now()}`;
  prefixes.push(prefix);
  // AB_NODE_FLAGS_A / AB_NODE_FLAGS_B: Node/V8 flags for one side only (say a GC setting).
  const flags = process.env[`AB_NODE_FLAGS_${'AB'[k]}`]?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', 'server/main.ts'], {
    cwd: dir,
    env: { ...process.env, ...chatBenchEnv(db.url, redisUrl, fake.url, prefix) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer) => {
    if (log.length < 100_000) log += d.toString();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const deadline = Date.now() + 60_000;
  while (!/"port":\d+/.test(log)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${dir} did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = `http://127.0.0.1:${/"port":(\d+)/.exec(log)![1]}`;
  const anon = createMirixClient({ url });
  const username = `ab${k}`;
  await anon.auth.register.mutate({ username, email: `${username}@bench.local`, password: 'bench-password' });
  const { accessToken } = await anon.auth.login.mutate({ username, password: 'bench-password' });
  const side: Side = {
    dir,
    pid: child.pid!,
    stop: () => child.kill('SIGTERM'),
    client: undefined as unknown as MirixClient,
    agentId: '',
    lastAppMs: NaN,
    turns: [],
    floor: [],
  };
  side.client = createMirixClient({
    url,
    token: accessToken,
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      side.lastAppMs = Number(/app;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1]);
      return res;
    },
  });
  const agent = await side.client.agents.create.mutate({
    name: 'bench',
    modelConfig: { provider: 'openai', model: 'fake', parameters: {} },
  });
  side.agentId = agent.id;
  await side.client.memory.semantic.createMany.mutate({
    agentId: agent.id,
    items: Array.from({ length: 200 }, (_, i) => ({
      name: `fact ${i}`,
      summary: `remembered detail number ${i}`,
    })),
  });
  return side;
}

const sides = [await startSide(dirs[0]!, 0), await startSide(dirs[1]!, 1)];
try {
  const turn = async (side: Side, i: number, record: boolean) => {
    fake.replies.push({ text: 'A short answer.' });
    fake.chatRequests.length = 0;
    await side.client.chat.send.mutate({ agentId: side.agentId, message: `question ${i} about detail` });
    if (record) side.turns.push(side.lastAppMs);
  };
  for (let i = 0; i < WARMUP; i++) for (const side of sides) await turn(side, i, false);
  const cpuBefore = sides.map((s) => processTreeCpuMs(s.pid));
  for (let i = 0; i < TURNS; i++)
    for (const side of i % 2 ? sides : [...sides].reverse()) await turn(side, i, true);
  const cpu = sides.map(
    (s, k) => Math.round(((processTreeCpuMs(s.pid) - cpuBefore[k]!) / TURNS) * 100) / 100,
  );
  for (let i = 0; i < 500; i++)
    for (const side of sides) {
      await side.client.agents.get.query({ id: side.agentId });
      side.floor.push(side.lastAppMs);
    }
  console.log(
    table(
      'chat.send turn and agents.get, in the server (Server-Timing app, ms), interleaved',
      sides.flatMap((s, k) => [
        { checkout: s.dir, measure: 'chat.send', ...summarize(s.turns), 'CPU/turn': cpu[k] ?? '' },
        { checkout: s.dir, measure: 'agents.get', ...summarize(s.floor), 'CPU/turn': '' },
      ]),
    ),
  );
} finally {
  for (const side of sides) side.stop();
  await fake.close();
  await new Promise((r) => setTimeout(r, 500));
  await db.drop();
  // The runs' queues and events.
  const redis = new Redis(redisUrl);
  for (const prefix of prefixes)
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 }))
      if ((keys as string[]).length) await redis.del(...(keys as string[]));
  await redis.quit();
}
