import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { createWriteStream, existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export function summarize(samplesMs: number[]): LatencySummary {
  const s = [...samplesMs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    n: s.length,
    p50: r(percentile(s, 0.5)),
    p95: r(percentile(s, 0.95)),
    p99: r(percentile(s, 0.99)),
    mean: r(mean),
  };
}

/** Runs `fn` sequentially `n` times and returns each call's latency in ms. */
export async function timeSequential(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

/** Runs `total` calls with `concurrency` in flight; returns calls per second. */
export async function throughput(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await fn(next++);
    }),
  );
  return total / ((performance.now() - t) / 1000);
}

/** A deterministic PRNG (mulberry32), so every run benchmarks the same corpus and queries. */
export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts a project process with its output in a log file; resolves once `ready` appears in it. */
export async function startService(
  args: string[],
  env: Record<string, string>,
  logFile: string,
  ready: RegExp,
): Promise<{ child: ChildProcess; log: () => string; stop: () => Promise<void> }> {
  if (existsSync(logFile)) unlinkSync(logFile);
  const out = createWriteStream(logFile);
  await new Promise((resolve) => out.once('open', resolve));
  // node --import tsx rather than the tsx CLI, whose child process a kill would leave behind.
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each service there when it exits.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // BENCH_NODE_FLAGS adds V8/Node flags to each service (say --perf-basic-prof, for `perf record`).
  const flags = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...profile, ...flags, '--import', 'tsx', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const deadline = Date.now() + 60_000;
  while (!ready.test(log())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    log,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export function table(title: string, rows: Record<string, string | number>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  return [
    `\n${title}`,
    line(cols),
    `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => line(cols.map((c) => String(r[c])))),
  ].join('\n');
}

/**
 * A fresh database named `name` on `adminUrl`'s server (dropped first if a run left it behind);
 * `migrate` applies the committed migrations with the given environment, `drop` removes it.
 */
export async function createBenchDatabase(adminUrl: string, name: string) {
  const run = async (sql: string) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await run(`drop database if exists ${name} with (force)`);
  await run(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    migrate: (env: Record<string, string>) =>
      execFileSync('npm', ['run', '--silent', 'db:migrate'], {
        env: { ...process.env, ...env },
        stdio: 'ignore',
      }),
    drop: () => run(`drop database if exists ${name} with (force)`),
  };
}

/**
 * The API's environment for the chat benchmarks: a loopback fake OpenAI provider at `providerUrl`,
 * any free port, and one user calling as fast as it can (no request budget).
 */
export function chatBenchEnv(
  databaseUrl: string,
  redisUrl: string,
  providerUrl: string,
  queuePrefix: string,
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    NODE_ENV: 'development',
    JWT_SECRET: 'c'.repeat(40),
    OPENAI_BASE_URL: providerUrl,
    OPENAI_API_KEY: 'bench',
    RATE_LIMIT_PER_USER: '100000000',
    QUEUE_PREFIX: queuePrefix,
    PORT: '0',
    HOST: '127.0.0.1',
  };
}

/** CPU time (user + system, ms) used so far by a process and its descendants (Linux /proc). */
export function processTreeCpuMs(pid: number): number {
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  let total = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
      for (const tid of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        for (const c of children ? children.split(' ') : []) visit(Number(c));
      }
    } catch {
      // the process is gone
    }
  };
  visit(pid);
  return total;
}
