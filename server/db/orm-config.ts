import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { fileURLToPath } from 'node:url';
import type { Env } from '../env.js';
import { entities } from './entities.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export type OrmEnv = Pick<Env, 'DATABASE_URL' | 'DB_POOL_MAX' | 'DB_CONNECT_TIMEOUT_MS' | 'NODE_ENV'>;

/** The MikroORM configuration for a given environment (used by the server, workers, CLI and tests). */
export function createOrmConfig(env: OrmEnv, overrides: Partial<Options> = {}) {
  return defineConfig({
    clientUrl: env.DATABASE_URL,
    entities,
    extensions: [Migrator],
    // Identity maps are per request / per job: a forgotten fork must fail loudly, not leak state.
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: env.DB_POOL_MAX, acquireTimeoutMillis: env.DB_CONNECT_TIMEOUT_MS },
    driverOptions: { connection: { connectionTimeoutMillis: env.DB_CONNECT_TIMEOUT_MS } },
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: `${root}migrations`,
      pathTs: `${root}migrations`,
      glob: '!(*.d).{js,ts}',
      emit: 'ts',
      snapshot: true,
      snapshotName: '.snapshot-mirix',
      allOrNothing: true,
      transactional: true,
      disableForeignKeys: false,
    },
    debug: false,
    ...overrides,
  });
}
