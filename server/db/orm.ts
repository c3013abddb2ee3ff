import { MikroORM, type Options } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { createOrmConfig, type OrmEnv } from './orm-config.js';

/** Starts MikroORM for a long-running process (API or worker). */
export async function initOrm(env: OrmEnv, logger?: Logger, overrides: Partial<Options> = {}) {
  return MikroORM.init(createOrmConfig(env, overrides, logger));
}

/** Where DATABASE_URL points, without its password. */
function target(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port || '5432',
    database: u.pathname.slice(1),
    user: decodeURIComponent(u.username),
  };
}

/**
 * One line that says what is wrong with the database a process was pointed at, and what to do,
 * for the failures people meet at start-up; null for anything else.
 */
export function describeDatabaseError(err: unknown, url: string): string | null {
  const t = target(url);
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  if (code === '3D000')
    return `database "${t.database}" (DATABASE_URL) does not exist on ${t.host}:${t.port}: check its name, or create it with \`npm run db:create\``;
  if (code === '28P01' || code === '28000')
    return `PostgreSQL at ${t.host}:${t.port} refused user "${t.user}" (DATABASE_URL): check the user name and password`;
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || /timeout/i.test(message))
    return `PostgreSQL is not answering at ${t.host}:${t.port} (DATABASE_URL): is it running? (\`bash scripts/services.sh\` starts one)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `the host "${t.host}" in DATABASE_URL does not resolve`;
  return null;
}

/**
 * Opens the database for the API or a worker, and checks that it is one they can run on: reachable,
 * with pgvector, and migrated. Any of these failing ends the process with one line naming the
 * problem and its fix (not a stack trace), before anything else starts.
 */
export async function openDatabaseOrExit(env: OrmEnv, logger: Logger): Promise<MikroORM> {
  const orm = await initOrm(env, logger);
  const fail = async (message: string): Promise<never> => {
    logger.fatal(message);
    await orm.close().catch(() => {});
    process.exit(1);
  };
  let row: { vector: boolean; migrated: boolean } | undefined;
  try {
    [row] = await orm.em.fork().execute<{ vector: boolean; migrated: boolean }[]>(
      `select exists (select 1 from pg_extension where extname = 'vector') as vector,
           to_regclass('public.memories') is not null as migrated`,
    );
  } catch (err) {
    const described = describeDatabaseError(err, env.DATABASE_URL);
    if (!described) throw err;
    return fail(described);
  }
  const { database } = target(env.DATABASE_URL);
  if (!row?.migrated)
    return fail(`database "${database}" has no MIRIX-TS schema yet: run \`npm run db:migrate\``);
  if (!row.vector)
    return fail(
      `the pgvector extension is missing in database "${database}": install pgvector (\`bash scripts/services.sh\` builds it on Debian), then run \`npm run db:migrate\``,
    );
  return orm;
}
