import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNative } from '../../server/db/native.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { testOrmConfig } from '../support/server.js';

let db: TestDatabase;
let orm: MikroORM;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await MikroORM.init(testOrmConfig(db.url));
  await orm.em.fork().execute('create table native_probe (id int primary key)');
});
afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

const ids = async () =>
  (await runNative<{ id: number }>(orm.em.fork(), 'select id from native_probe order by id', [])).map(
    (r) => r.id,
  );

describe('runNative', () => {
  it('runs inside em.transactional on the transaction’s connection: seen there, not outside, rolled back with it', async () => {
    let inside: number[] = [];
    let outside: number[] = [];
    await expect(
      orm.em.fork().transactional(async (em) => {
        await runNative(em, 'insert into native_probe (id) values ($1)', [1]);
        // em.execute, the other way statements are written, honours the same transaction.
        inside = (await em.execute<{ id: number }[]>('select id from native_probe')).map((r) => r.id);
        outside = await ids();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(inside).toEqual([1]);
    expect(outside).toEqual([]);
    expect(await ids()).toEqual([]);
  });

  it("logs its statements like the ORM's own, when query logging is on", async () => {
    const logged: string[] = [];
    const logging = await MikroORM.init({
      ...testOrmConfig(db.url),
      debug: ['query'],
      logger: (message) => logged.push(message),
    });
    try {
      await runNative(logging.em.fork(), 'select id from native_probe where id = $1', [42]);
    } finally {
      await logging.close(true);
    }
    expect(logged.some((m) => m.includes('select id from native_probe where id = $1'))).toBe(true);
  });

  it('commits with the transaction, and outside one on its own', async () => {
    await orm.em.fork().transactional(async (em) => {
      await runNative(em, 'insert into native_probe (id) values ($1)', [2]);
    });
    await runNative(orm.em.fork(), 'insert into native_probe (id) values ($1)', [3]);
    expect(await ids()).toEqual([2, 3]);
  });
});
