import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../server/modules/agents/agent.entity.js';
import { Message } from '../../server/modules/messages/message.entity.js';
import { User } from '../../server/modules/users/user.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCommand } from '../support/run.js';
import { testOrmConfig } from '../support/server.js';

const npm = (script: string, db: TestDatabase) =>
  runCommand('npm', ['run', '--silent', script], { DATABASE_URL: db.url, NODE_ENV: 'development' });

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('apply to an empty database with `npm run db:migrate`, enabling pgvector, and agree with the entities', async () => {
    const migrated = await npm('db:migrate', db);
    expect(migrated.stderr + migrated.stdout).toMatch(/Successfully migrated/);
    expect(migrated.code).toBe(0);

    const orm = await MikroORM.init(testOrmConfig(db.url));
    try {
      const conn = orm.em.getConnection();
      const tables = await conn.execute<{ table_name: string }[]>(
        "select table_name from information_schema.tables where table_schema = 'public' order by 1",
      );
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining(['agents', 'api_keys', 'messages', 'mikro_orm_migrations', 'users']),
      );
      const [ext] = await conn.execute<{ extversion: string }[]>(
        "select extversion from pg_extension where extname = 'vector'",
      );
      expect(ext?.extversion).toMatch(/^0\.\d+\.\d+$/);
      await conn.execute("select '[1,2,3]'::vector(3) <=> '[3,2,1]'::vector(3) as d");

      // Nothing in the entities is missing from the committed migrations.
      expect(await orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe('');
    } finally {
      await orm.close(true);
    }

    const again = await npm('db:migrate', db);
    expect(again.code).toBe(0);
  });
});

describe('development seeds', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function snapshot() {
    const orm = await MikroORM.init(testOrmConfig(db.url));
    try {
      const em = orm.em.fork();
      const rows = (entity: typeof User | typeof Agent | typeof Message) =>
        em
          .getConnection()
          .execute<unknown[]>(`select * from ${em.getMetadata(entity).tableName} order by id`);
      return { users: await rows(User), agents: await rows(Agent), messages: await rows(Message) };
    } finally {
      await orm.close(true);
    }
  }

  it('create the design document’s users, agents and messages, print the logins, and change nothing when run again', async () => {
    const first = await npm('db:seed', db);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/3 user\(s\), 3 agent\(s\), 4 message\(s\) created/);
    for (const login of ['admin', 'developer', 'tester']) expect(first.stdout).toContain(login);

    const after1 = await snapshot();
    expect(after1.users).toHaveLength(3);
    expect(after1.agents).toHaveLength(3);
    expect(after1.messages).toHaveLength(4);

    const orm = await MikroORM.init(testOrmConfig(db.url));
    try {
      const em = orm.em.fork();
      const admin = await em.findOneOrFail(User, { username: 'admin' });
      expect(admin.isSuperuser).toBe(true);
      const developer = await em.findOneOrFail(User, { username: 'developer' });
      expect(developer.isSuperuser).toBe(false);
      const agents = await em.find(Agent, {}, { populate: ['owner'], orderBy: { name: 'asc' } });
      expect(agents.map((a) => [a.name, a.agentType, a.owner.getEntity().username])).toEqual(
        expect.arrayContaining([
          ['助手智能体', 'assistant', 'admin'],
          ['代码智能体', 'code_assistant', 'developer'],
          ['分析智能体', 'analyst', 'developer'],
        ]),
      );
      const assistant = agents.find((a) => a.name === '助手智能体')!;
      const msgs = await em.find(Message, { agent: assistant }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      expect(msgs.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(msgs[0]?.content).toBe('你好，请介绍一下MIRIX系统');
    } finally {
      await orm.close(true);
    }

    const second = await npm('db:seed', db);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/0 user\(s\), 0 agent\(s\), 0 message\(s\) created/);
    expect(await snapshot()).toEqual(after1);
  });

  it('refuse to run in production', async () => {
    const res = await runCommand('npm', ['run', '--silent', 'db:seed'], {
      DATABASE_URL: db.url,
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      VAULT_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/Refusing to seed/);
  });
});
