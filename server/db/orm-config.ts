import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Env } from '../env.js';
import { entities } from './entities.js';

/**
 * Per-connection settings for memory search (search.service.ts): every prepared statement is
 * planned for its own parameters (a plan cached for one agent is never reused for another), and
 * HNSW scans keep 200 candidates (docs/decisions/0002-exact-vectors.md). No parallel query workers:
 * starting them costs more than the short statements they would split (docs/benchmarks.md,
 * "Search latency"); concurrency comes from the pool instead.
 */
export const SESSION_SETTINGS =
  "set plan_cache_mode = force_custom_plan; set max_parallel_workers_per_gather = 0; set hnsw.ef_search = 200; set hnsw.iterative_scan = 'relaxed_order'; set pg_trgm.word_similarity_threshold = 0.5";

interface PgConnection {
  query: (sql: string, cb: (err: Error | null) => void) => void;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

export type OrmEnv = Pick<Env, 'DATABASE_URL' | 'DB_POOL_MAX' | 'DB_CONNECT_TIMEOUT_MS' | 'NODE_ENV'>;

/**
 * The MikroORM configuration for a given environment (used by the server, workers, CLI and tests).
 * With a logger, the driver's own warnings (dropped connections, ...) go to it as structured lines
 * instead of to stdout.
 */
export function createOrmConfig(env: OrmEnv, overrides: Partial<Options> = {}, logger?: Logger) {
  const log = logger?.child({ component: 'db' });
  return defineConfig({
    clientUrl: env.DATABASE_URL,
    entities,
    extensions: [Migrator],
    // Identity maps are per request / per job: a forgotten fork must fail loudly, not leak state.
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: {
      min: 0,
      max: env.DB_POOL_MAX,
      acquireTimeoutMillis: env.DB_CONNECT_TIMEOUT_MS,
      // Search settings, once per connection instead of once per query: HNSW keeps scanning
      // until filtered results fill the LIMIT, and the trigram operator's threshold.
      afterCreate: (conn: PgConnection, done: (err: Error | null, conn: PgConnection) => void) => {
        conn.query(SESSION_SETTINGS, (err) => done(err, conn));
      },
    },
    driverOptions: {
      connection: { connectionTimeoutMillis: env.DB_CONNECT_TIMEOUT_MS },
      ...(log && {
        log: {
          warn: (message: unknown) => log.warn({ detail: String(message) }, 'database driver warning'),
          error: (message: unknown) => log.error({ detail: String(message) }, 'database driver error'),
          deprecate: (message: unknown) =>
            log.debug({ detail: String(message) }, 'database driver deprecation'),
          debug: (message: unknown) => log.debug({ detail: String(message) }, 'database driver debug'),
        },
      }),
    },
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
    // Never create a database because DATABASE_URL names one that does not exist (a typo would get
    // an empty database): only `npm run db:create` (and the quick start, through it) creates one.
    ensureDatabase: false,
    debug: false,
    ...overrides,
  });
}
