import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCommand, startEntry } from '../support/run.js';

const TSX = 'node_modules/.bin/tsx';

describe('configuration', () => {
  it('refuses to start with a readable list of every missing or invalid variable', async () => {
    const res = await runCommand(TSX, ['server/main.ts'], {
      DATABASE_URL: '',
      REDIS_URL: 'http://not-redis',
      PORT: 'eighty',
      NODE_ENV: 'development',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Invalid environment');
    expect(res.stderr).toMatch(/DATABASE_URL: /);
    expect(res.stderr).toMatch(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(res.stderr).toMatch(/PORT: /);
    expect(res.stderr).not.toMatch(/\n\s+at /); // a list, not a stack trace
  });

  it('requires JWT_SECRET in production', async () => {
    const res = await runCommand(TSX, ['server/main.ts'], {
      DATABASE_URL: 'postgresql://u:p@127.0.0.1:1/db',
      REDIS_URL: 'redis://127.0.0.1:1',
      NODE_ENV: 'production',
      JWT_SECRET: '',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/JWT_SECRET: required in production/);
  });
});

describe('start-up against a database it cannot run on', () => {
  const base = (url: string) => ({
    DATABASE_URL: url,
    REDIS_URL: inject('redisUrl'),
    NODE_ENV: 'development',
    DB_CONNECT_TIMEOUT_MS: '2000',
  });
  /** The process's output as lines, and that it exited 1 with one fatal line and no stack trace. */
  async function refused(script: string, url: string) {
    const res = await runCommand(TSX, [script], base(url));
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const out = `${res.stdout}${res.stderr}`;
    expect(out).not.toMatch(/\n\s+at /);
    const fatal = out.split('\n').filter((l) => l.includes('"level":60'));
    expect(fatal, out).toHaveLength(1);
    return (JSON.parse(fatal[0]!) as { msg: string }).msg;
  }

  it('names a mistyped database, and creates nothing', async () => {
    const good = new URL(inject('databaseAdminUrl'));
    const typo = `mirix_typo_${Date.now().toString(36)}`;
    good.pathname = `/${typo}`;
    for (const script of ['server/main.ts', 'workers/main.ts']) {
      expect(await refused(script, good.toString())).toMatch(
        new RegExp(`database "${typo}" .* does not exist.*npm run db:create`),
      );
    }
    const admin = new pg.Client({ connectionString: inject('databaseAdminUrl') });
    await admin.connect();
    const found = await admin.query('select 1 from pg_database where datname = $1', [typo]);
    await admin.end();
    expect(found.rowCount).toBe(0);
  });

  it('says a password was refused, a server is not answering, and a database is not migrated', async () => {
    const wrong = new URL(inject('databaseAdminUrl'));
    wrong.password = 'not-the-password';
    expect(await refused('server/main.ts', wrong.toString())).toMatch(
      /refused user ".*".*check the user name and password/,
    );
    const closed = new URL(inject('databaseAdminUrl'));
    closed.port = '1';
    expect(await refused('server/main.ts', closed.toString())).toMatch(/not answering at 127\.0\.0\.1:1/);
    const empty = await createTestDatabase({ empty: true });
    try {
      expect(await refused('server/main.ts', empty.url)).toMatch(
        /no MIRIX-TS schema yet: run `npm run db:migrate`/,
      );
    } finally {
      await empty.drop();
    }
  });
});

describe('workers/main.ts', () => {
  it('stops on SIGTERM within SHUTDOWN_TIMEOUT_MS while Redis is down', async () => {
    const db = await createTestDatabase();
    // `node --import tsx` runs the worker itself, so the signal reaches it (no wrapper process).
    const proc = startEntry('workers/main.ts', {
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:1/0',
      NODE_ENV: 'development',
      WORKER_METRICS_PORT: '0',
      SHUTDOWN_TIMEOUT_MS: '1000',
      VAULT_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}`,
    });
    try {
      await expect
        .poll(() => proc.output.stdout, { timeout: 30_000, interval: 100 })
        .toContain('worker started');
      proc.child.kill('SIGTERM');
      // Before the bound it would wait for Redis for 70 s and more: this poll's timeout would fail.
      let code: number | null | undefined;
      void proc.exited.then((c) => (code = c));
      await expect.poll(() => code, { timeout: 15_000, interval: 100 }).toBe(0);
      expect(proc.output.stdout).toContain('worker shutdown complete');
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      await db.drop();
    }
  });
});

describe('scripts/services.sh', () => {
  it('names a set URL that does not answer and stops, instead of swapping in the development services', async () => {
    const db = await runCommand('bash', ['scripts/services.sh'], {
      DATABASE_URL: 'postgresql://someone:s3cret@127.0.0.1:1/theirs',
      REDIS_URL: inject('redisUrl'),
    });
    expect(db.code).toBe(1);
    expect(db.stderr).toContain('DATABASE_URL (postgresql://someone:***@127.0.0.1:1/theirs) does not answer');
    expect(db.stderr).not.toContain('s3cret');
    expect(db.stdout).not.toContain('export');
    const redis = await runCommand('bash', ['scripts/services.sh'], {
      DATABASE_URL: inject('databaseAdminUrl'),
      REDIS_URL: 'redis://127.0.0.1:1/0',
    });
    expect(redis.code).toBe(1);
    expect(redis.stderr).toContain('REDIS_URL (redis://127.0.0.1:1/0) does not answer');
  });
});

/**
 * This machine with stand-ins for its cluster tools: the PostgreSQL 15/main cluster is `down` or
 * `online` as given (down until `pg_ctlcluster start` has run), `psql` answers while it runs (over
 * a URL only if the development role exists), and every call to these tools is logged.
 * The packages themselves are real: the set-up script runs after `npm run setup` has installed them.
 */
function machineWithPostgres(status: 'down' | 'online', opts: { roleExists: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'mirix-services-'));
  const log = join(dir, 'calls.log');
  const started = `{ [[ ${status} == online ]] || grep -q "pg_ctlcluster .*start" "${log}"; }`;
  const tool = (name: string, body: string) =>
    writeFileSync(join(dir, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${log}"\n${body}\n`, {
      mode: 0o755,
    });
  tool(
    'psql',
    [
      // Over a URL: as the development role.
      `case "$*" in *postgresql://*) ${opts.roleExists ? started : 'false'}; exit ;; esac`,
      `${started} || exit 2`,
      // The set-up's statements come on stdin.
      `[[ "$*" != *ON_ERROR_STOP* ]] || cat >/dev/null`,
      // The development database does not exist yet either.
      `[[ "$*" == *pg_database* ]] || echo 1`,
    ].join('\n'),
  );
  tool('runuser', 'while [[ $1 != -- ]]; do shift; done; shift; "$@"');
  tool('createdb', 'exit 0');
  tool('pg_createcluster', 'exit 0');
  tool(
    'pg_lsclusters',
    `if ${started}; then s=online; else s=down; fi; echo "15 main 5432 $s postgres /var/lib/postgresql/15/main"`,
  );
  tool('pg_ctlcluster', 'exit 0');
  tool('docker', 'exit 1');
  tool('apt-get', 'exit 1');
  const ownedConf = join(dir, 'mirix-dev.conf');
  const run = (script: 'services' | 'setup', owned: boolean) => {
    if (owned)
      writeFileSync(ownedConf, '# Written by MIRIX-TS scripts/setup.sh, which set up this cluster.\n');
    return runCommand('bash', [`scripts/${script}.sh`], {
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      DATABASE_URL: '',
      REDIS_URL: '',
      MIRIX_PG_OWNED_CONF: ownedConf,
    });
  };
  const calls = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const settings = () => (existsSync(ownedConf) ? readFileSync(ownedConf, 'utf8') : undefined);
  return { run, calls, settings, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('scripts/services.sh on a stopped PostgreSQL', () => {
  it('leaves a PostgreSQL that scripts/setup.sh did not set up alone, and says to run the set-up', async () => {
    const machine = machineWithPostgres('down', { roleExists: true });
    try {
      const res = await machine.run('services', false);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('npm run setup');
      expect(machine.calls()).not.toMatch(/pg_ctlcluster|apt-get/);
    } finally {
      machine.cleanup();
    }
  });

  it('starts the cluster scripts/setup.sh set up, without reconfiguring or restarting it', async () => {
    const machine = machineWithPostgres('down', { roleExists: true });
    try {
      const res = await machine.run('services', true);
      expect(res.stderr).toContain('starting PostgreSQL 15/main');
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('export DATABASE_URL=');
      const calls = machine.calls();
      expect(calls).toContain('pg_ctlcluster 15 main start');
      expect(calls).not.toMatch(/restart|apt-get|alter system/i);
    } finally {
      machine.cleanup();
    }
  });
});

describe('scripts/setup.sh with PostgreSQL already on the machine', () => {
  it('sets up the stopped cluster that came with the machine: its settings in one file, started once', async () => {
    const machine = machineWithPostgres('down', { roleExists: false });
    try {
      const res = await machine.run('setup', false);
      expect(res.stderr).toContain('setting up the stopped PostgreSQL 15/main');
      expect(res.code).toBe(0);
      expect(machine.settings()).toMatch(/^shared_buffers = '\d+MB'$/m);
      expect(machine.settings()).toContain('jit = off');
      const calls = machine.calls();
      expect(calls.match(/pg_ctlcluster 15 main start/g)).toHaveLength(1);
      expect(calls).not.toMatch(/restart|apt-get/);
      expect(calls).toContain('psql -p 5432 -v ON_ERROR_STOP=1');
      expect(calls).toContain('createdb -p 5432 -O mirix mirix_dev');
    } finally {
      machine.cleanup();
    }
  });

  it('gives a running cluster it did not set up a role and a database, but no settings and no restart', async () => {
    const machine = machineWithPostgres('online', { roleExists: false });
    try {
      const res = await machine.run('setup', false);
      expect(res.stderr).toContain('using it without tuning or a restart');
      expect(res.code).toBe(0);
      expect(machine.settings()).toBeUndefined();
      const calls = machine.calls();
      expect(calls).not.toMatch(/pg_ctlcluster|apt-get/);
      expect(calls).toContain('createdb -p 5432 -O mirix mirix_dev');
    } finally {
      machine.cleanup();
    }
  });
});

describe('server/main.ts', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('serves, then on SIGTERM stops accepting, finishes the in-flight request, and exits 0', async () => {
    const proc = startEntry('server/main.ts', {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      JWT_SECRET: 'a'.repeat(40),
    });
    try {
      await expect
        .poll(() => /"port":(\d+)/.exec(proc.output.stdout)?.[1], { timeout: 30_000, interval: 100 })
        .toBeDefined();
      const port = Number(/"port":(\d+)/.exec(proc.output.stdout)![1]);
      const base = `http://127.0.0.1:${port}`;
      await expect.poll(async () => (await fetch(`${base}/ready`)).status, { timeout: 10_000 }).toBe(200);

      // An in-flight request: headers sent, body still coming.
      const body = JSON.stringify({
        json: { username: 'inflight', email: 'inflight@example.com', password: 'password123' },
      });
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(
          `${base}/trpc/auth.register`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 10));
        void expect
          .poll(() => proc.output.stdout.includes('shutting down'), { timeout: 10_000, interval: 20 })
          .toBe(true)
          .then(async () => {
            // New connections are refused while the old one finishes.
            await expect(fetch(`${base}/health`)).rejects.toThrow();
            req.end(body.slice(10));
          });
      });
      await new Promise((r) => setTimeout(r, 100));
      proc.child.kill('SIGTERM');

      const res = await response;
      expect(res.status).toBe(200);
      expect(res.text).toContain('inflight');
      expect(await proc.exited).toBe(0);
      expect(proc.output.stdout).toContain('shutdown complete');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});
