import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { embeddingColumnDim } from '../../server/modules/embeddings/embedding-column.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCommand, startEntry } from '../support/run.js';
import { testOrmConfig } from '../support/server.js';

const TSX = 'node_modules/.bin/tsx';

describe('embedding model and dimension', () => {
  let db: TestDatabase;
  let baseEnv: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    baseEnv = {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      NODE_ENV: 'development',
      JWT_SECRET: 'j'.repeat(40),
      VAULT_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}`,
      QUEUE_PREFIX: `reembed-${db.name}`,
      PORT: '0',
      HOST: '127.0.0.1',
    };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('the server and the worker refuse to start when EMBEDDING_DIM does not match the column', async () => {
    for (const entry of ['server/main.ts', 'workers/main.ts']) {
      const res = await runCommand(TSX, [entry], { ...baseEnv, EMBEDDING_DIM: '1024' });
      expect(res.code).toBe(1);
      expect(res.stdout + res.stderr).toMatch(/memories\.embedding is vector\(768\) but EMBEDDING_DIM=1024/);
      expect(res.stdout + res.stderr).toMatch(/npm run memory:reembed/);
    }
  });

  it('`npm run memory:reembed` converts the column to a new dimension and re-embeds every item', async () => {
    const orm = await MikroORM.init(testOrmConfig(db.url));
    try {
      const conn = orm.em.getConnection();
      const [user] = await conn.execute<{ id: string }[]>(
        `insert into users (id, created_at, updated_at, username, email, password_hash)
         values (gen_random_uuid(), now(), now(), 're', 're@example.com', 'x') returning id`,
      );
      const [agent] = await conn.execute<{ id: string }[]>(
        `insert into agents (id, created_at, updated_at, owner_id, name, agent_type, model_config)
         values (gen_random_uuid(), now(), now(), ?, 'a', 'assistant', '{}') returning id`,
        [user!.id],
      );
      for (let i = 0; i < 3; i++) {
        await conn.execute(
          `insert into memories (id, created_at, updated_at, agent_id, user_id, memory_type, last_modified, name, summary)
           values (gen_random_uuid(), now(), now(), ?, ?, 'semantic', '{}', ?, 'some summary')`,
          [agent!.id, user!.id, `fact ${i}`],
        );
      }

      const res = await runCommand('npm', ['run', '--silent', 'memory:reembed'], {
        ...baseEnv,
        EMBEDDING_DIM: '64',
      });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/converting memories\.embedding from vector\(768\) to vector\(64\)/);
      expect(res.stdout).toMatch(/done: 3 item\(s\) embedded with mirix-hashed-v1/);
      expect(await embeddingColumnDim(orm.em.fork())).toBe(64);
      const [counts] = await conn.execute<{ ready: string }[]>(
        `select count(*) filter (where embedding is not null and vector_dims(embedding) = 64) as ready from memories`,
      );
      expect(Number(counts?.ready)).toBe(3);

      // With the new dimension the server starts.
      const proc = startEntry('server/main.ts', { ...baseEnv, EMBEDDING_DIM: '64' });
      try {
        await expect.poll(() => proc.output.stdout.includes('API listening'), { timeout: 30_000 }).toBe(true);
      } finally {
        proc.child.kill('SIGTERM');
        expect(await proc.exited).toBe(0);
      }
    } finally {
      await orm.close(true);
    }
  });

  it('the worker process starts, and exits cleanly on SIGTERM', async () => {
    const db2 = await createTestDatabase();
    const proc = startEntry('workers/main.ts', { ...baseEnv, DATABASE_URL: db2.url });
    try {
      await expect.poll(() => proc.output.stdout.includes('worker started'), { timeout: 30_000 }).toBe(true);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.output.stdout).toContain('worker shutdown complete');
    } finally {
      proc.child.kill('SIGKILL');
      await db2.drop();
    }
  });
});
