import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCommand, startProcess } from '../support/run.js';

/**
 * The production artifact, as the Dockerfile builds and runs it: `npm run build` to JavaScript,
 * then plain `node` (no tsx) for the migration step, the API and the worker, on an empty database.
 */
describe('the JavaScript build', () => {
  const root = resolve(import.meta.dirname, '../..');
  let out: string;
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mirix-build-'));
    out = join(dir, 'dist');
    // The image has node_modules beside dist/; so does this directory.
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const built = await runCommand('bash', [join(root, 'scripts/build.sh'), out], {});
    expect(built.stderr + built.stdout).toContain(`built ${out}`);
    expect(built.code).toBe(0);
    db = await createTestDatabase({ empty: true });
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(32).toString('base64url'),
      VAULT_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      QUEUE_PREFIX: `build-${randomBytes(4).toString('hex')}`,
      LOG_LEVEL: 'info',
    };
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
    if (out) rmSync(resolve(out, '..'), { recursive: true, force: true });
  });

  it('contains the entry points and the files they read at run time', () => {
    for (const file of [
      'server/main.js',
      'server/db/migrate.js',
      'workers/main.js',
      'server/modules/consolidation/prompts/purposes.json',
      'package.json',
      'web/dist/index.html',
    ]) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
  });

  it('migrates an empty database, then the API serves REST and the worker starts, both stopping cleanly', async () => {
    const migrated = await runCommand('node', [join(out, 'server/db/migrate.js')], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('migrations applied');
    const again = await runCommand('node', [join(out, 'server/db/migrate.js')], env);
    expect(again.stdout).toContain('schema up to date');

    const api = startProcess('node', [join(out, 'server/main.js')], { ...env, PORT: '0', HOST: '127.0.0.1' });
    const worker = startProcess('node', [join(out, 'workers/main.js')], { ...env, WORKER_METRICS_PORT: '0' });
    try {
      await expect
        .poll(() => /"port":(\d+)/.exec(api.output.stdout)?.[1], { timeout: 30_000, interval: 100 })
        .toBeDefined();
      const base = `http://127.0.0.1:${/"port":(\d+)/.exec(api.output.stdout)![1]}`;
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect((await fetch(`${base}/ready`)).status).toBe(200);
      // The web app, from the same process and port; its client-side routes survive a reload.
      for (const page of ['/', '/agents/some-id/chat']) {
        const res = await fetch(`${base}${page}`, { headers: { accept: 'text/html' } });
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('<div id="root">');
      }
      expect((await fetch(`${base}/api/v1/nope`, { headers: { accept: 'text/html' } })).status).toBe(404);
      // API clients asking for anything (*/*) still get the JSON 404 on unknown paths.
      expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
      const unknown = await fetch(`${base}/no/such/page`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
      const registered = await fetch(`${base}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'built', email: 'built@example.com', password: 'password123' }),
      });
      expect(registered.status).toBe(201);
      const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { info: { version: string } };
      expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
      await expect.poll(() => worker.output.stdout, { timeout: 30_000 }).toContain('worker started');
    } finally {
      api.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
    }
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);
    expect(api.output.stderr).toBe('');
  });
});
