import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { databaseUrl } from './services.js';

const run = promisify(execFile);

interface Services {
  databaseUrl: string;
  redisUrl: string;
  stop: () => Promise<void>;
}

/** DATABASE_URL/REDIS_URL when set; otherwise containers, when a container runtime answers. */
async function resolveServices(): Promise<Services> {
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (DATABASE_URL && REDIS_URL) {
    return { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, stop: async () => {} };
  }
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const { RedisContainer } = await import('@testcontainers/redis');
    const [postgres, redis] = await Promise.all([
      new PostgreSqlContainer('pgvector/pgvector:pg16').start(),
      new RedisContainer('redis:7').start(),
    ]);
    return {
      databaseUrl: postgres.getConnectionUri(),
      redisUrl: redis.getConnectionUrl(),
      stop: async () => {
        await Promise.all([postgres.stop(), redis.stop()]);
      },
    };
  } catch (err) {
    throw new Error(
      [
        'Integration tests need PostgreSQL (with pgvector) and Redis, and found neither:',
        '  - DATABASE_URL and REDIS_URL are not both set, and',
        `  - testcontainers could not start containers (${err instanceof Error ? err.message : String(err)}).`,
        'Run the suite with `npm test` (it starts the services), or run `eval "$(bash scripts/services.sh)"` first,',
        'or point DATABASE_URL/REDIS_URL at running services.',
      ].join('\n'),
      { cause: err },
    );
  }
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Once per run: find the services, create a template database and migrate it with the real CLI
 * (`npm run db:migrate`), so each test file gets a migrated database by cloning it.
 */
export default async function setup(project: TestProject) {
  const services = await resolveServices();
  const prefix = `mirix_t_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const template = `${prefix}_template`;

  try {
    await withAdmin(services.databaseUrl, async (admin) => {
      await admin.query(`create database "${template}"`);
    });
  } catch (err) {
    await services.stop();
    throw new Error(
      `Could not create a test database on ${new URL(services.databaseUrl).host}: the DATABASE_URL role needs CREATEDB. (${String(err)})`,
      { cause: err },
    );
  }
  await run('npm', ['run', '--silent', 'db:migrate'], {
    env: { ...process.env, DATABASE_URL: databaseUrl(services.databaseUrl, template), NODE_ENV: 'test' },
  });

  project.provide('databaseAdminUrl', services.databaseUrl);
  project.provide('templateDatabase', template);
  project.provide('databasePrefix', prefix);
  project.provide('redisUrl', services.redisUrl);

  return async () => {
    await withAdmin(services.databaseUrl, async (admin) => {
      const { rows } = await admin.query<{ datname: string }>(
        'select datname from pg_database where datname like $1',
        [`${prefix}%`],
      );
      for (const { datname } of rows) await admin.query(`drop database if exists "${datname}" with (force)`);
    });
    await services.stop();
  };
}
