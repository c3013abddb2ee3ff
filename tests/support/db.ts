import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrl } from './services.js';

export interface TestDatabase {
  name: string;
  url: string;
  drop: () => Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('databaseAdminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database for one test file: a clone of the migrated template, or empty. */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `${inject('databasePrefix')}_${randomBytes(4).toString('hex')}`;
  await admin(async (client) => {
    // Cloning needs the template to be idle: serialize clones across parallel test files.
    await client.query('select pg_advisory_lock(7411)');
    try {
      await client.query(
        opts.empty
          ? `create database "${name}"`
          : `create database "${name}" template "${inject('templateDatabase')}"`,
      );
    } finally {
      await client.query('select pg_advisory_unlock(7411)');
    }
  });
  return {
    name,
    url: databaseUrl(inject('databaseAdminUrl'), name),
    drop: () =>
      admin(async (client) => void (await client.query(`drop database if exists "${name}" with (force)`))),
  };
}
