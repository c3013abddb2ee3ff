// `npm run bench:load [-- --connections 16 --duration 20 --memories 2000]`
// A bounded load mix over REST with autocannon against the API and the worker as their own
// processes: per connection, in turn, get an agent, search its memories, list one type, create a
// memory and read the job-free stats. It prints requests/s, latency percentiles, errors and the
// API's resident memory (RSS) sampled every second, first and last five seconds side by side.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createBenchDatabase, startService, table } from './lib.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const CONNECTIONS = Number(arg('connections', '16'));
const DURATION = Number(arg('duration', '20'));
const MEMORIES = Number(arg('memories', '2000'));
const { DATABASE_URL, REDIS_URL } = process.env;
if (!DATABASE_URL || !REDIS_URL) {
  console.error('Set DATABASE_URL and REDIS_URL (npm run bench:load does, via scripts/services.sh).');
  process.exit(1);
}

const rssKb = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
};

async function main() {
  const db = await createBenchDatabase(DATABASE_URL!, 'mirix_bench_load');
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: REDIS_URL!,
    NODE_ENV: 'development',
    JWT_SECRET: 'l'.repeat(40),
    VAULT_KEYS: `k1:${Buffer.alloc(32, 5).toString('base64')}`,
    // One user calling as fast as it can: no request budget.
    RATE_LIMIT_PER_USER: '100000000',
    QUEUE_PREFIX: `bench-load-${Date.now()}`,
    LOG_LEVEL: 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
  };
  db.migrate(env);
  const api = await startService(
    ['server/main.ts'],
    { ...env, LOG_LEVEL: 'info' },
    join(tmpdir(), 'mirix-bench-load-api.log'),
    /"port":\d+/,
  );
  const worker = await startService(
    ['workers/main.ts'],
    { ...env, LOG_LEVEL: 'info' },
    join(tmpdir(), 'mirix-bench-load-worker.log'),
    /worker started/,
  );
  try {
    const base = `http://127.0.0.1:${/"port":(\d+)/.exec(api.log())![1]}/api/v1`;
    const post = async (path: string, body: unknown, token?: string) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    await post('/auth/register', { username: 'load', email: 'load@bench.local', password: 'load-password' });
    const token = (await post('/auth/login', { username: 'load', password: 'load-password' }))
      .access_token as string;
    const agentId = (await post('/agents', { name: 'load agent' }, token)).id as string;
    const words = 'tea coffee garden project deadline kubernetes trip paris music piano running budget'.split(
      ' ',
    );
    for (let i = 0; i < MEMORIES; i += 500) {
      const items = Array.from({ length: Math.min(500, MEMORIES - i) }, (_, j) => ({
        name: `fact ${i + j}`,
        summary: `${words[(i + j) % words.length]} and ${words[(i + j * 7) % words.length]} note ${i + j}`,
      }));
      await post(`/agents/${agentId}/memories/semantic/batch`, { items }, token);
    }
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const requests = [
      { method: 'GET' as const, path: `/api/v1/agents/${agentId}`, headers },
      {
        method: 'POST' as const,
        path: `/api/v1/agents/${agentId}/memories/search`,
        headers,
        body: JSON.stringify({ query: 'coffee in the garden', limit: 10 }),
      },
      { method: 'GET' as const, path: `/api/v1/agents/${agentId}/memories/semantic?limit=20`, headers },
      {
        method: 'POST' as const,
        path: `/api/v1/agents/${agentId}/memories/semantic`,
        headers,
        body: JSON.stringify({ name: 'load', summary: 'written under load' }),
      },
      { method: 'GET' as const, path: `/api/v1/agents/${agentId}/memories/stats`, headers },
    ];
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(rssKb(api.child.pid!)), 1000);
    const result = await autocannon({
      url: base.replace('/api/v1', ''),
      connections: CONNECTIONS,
      duration: DURATION,
      requests,
    });
    clearInterval(sampler);
    const mb = (kb: number) => Math.round(kb / 1024);
    const first = rss.slice(0, 5);
    const last = rss.slice(-5);
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const row = {
      connections: CONNECTIONS,
      seconds: DURATION,
      'requests/s': Math.round(result.requests.average),
      requests: result.requests.total,
      'p50 ms': result.latency.p50,
      'p90 ms': result.latency.p90,
      'p97.5 ms': result.latency.p97_5,
      'p99 ms': result.latency.p99,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      'RSS MB first 5 s': mb(avg(first)),
      'RSS MB last 5 s': mb(avg(last)),
      'RSS MB max': mb(Math.max(...rss)),
    };
    console.log(table('bench:load: REST mix (agent, search, list, create, stats), autocannon', [row]));
    console.log(
      table(
        'API RSS over time (MB, every 5 s)',
        rss.filter((_, i) => i % 5 === 0).map((kb, i) => ({ second: i * 5, 'RSS MB': mb(kb) })),
      ),
    );
    writeFileSync(
      join('bench', 'results', 'load.json'),
      JSON.stringify({ at: new Date().toISOString(), ...row, rssKb: rss }, null, 2) + '\n',
    );
    console.log('wrote bench/results/load.json');
  } finally {
    await worker.stop();
    await api.stop();
    await db.drop();
  }
}

await main();
