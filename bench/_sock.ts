import pg from 'pg';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function run(name: string, gap: number) {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL }); await c.connect();
  for (let i = 0; i < 200; i++) await c.query({ name: 's1', text: 'select $1::int as x', values: [i] });
  const n = 1000; let busy = 0; const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    if (gap) await sleep(gap);
    const t = performance.now();
    await c.query({ name: 's1', text: 'select $1::int as x', values: [i] });
    busy += performance.now() - t;
  }
  const u = process.cpuUsage(c0);
  console.log(name, 'wall/q', (busy / n).toFixed(3), 'cpu/q', ((u.user + u.system) / 1000 / n).toFixed(3), 'sys/q', (u.system / 1000 / n).toFixed(3));
  await c.end();
}
await run('tight', 0); await run('gap1ms', 1); await run('tight', 0); await run('gap1ms', 1);
