// `npm run db:create`: creates the database DATABASE_URL names, if it does not exist yet (the quick
// start runs it). Nothing else creates databases: a mistyped name fails at start-up instead.
import pg from 'pg';
import { loadEnvOrExit } from '../env.js';
import { createLogger } from '../logger.js';
import { describeDatabaseError } from './orm.js';

const { env } = loadEnvOrExit();
const logger = createLogger(env);
const url = new URL(env.DATABASE_URL);
const name = decodeURIComponent(url.pathname.slice(1));
// Connect to the server's maintenance database to create the one asked for.
url.pathname = '/postgres';
const client = new pg.Client({
  connectionString: url.toString(),
  connectionTimeoutMillis: env.DB_CONNECT_TIMEOUT_MS,
});
try {
  await client.connect();
  const exists = (await client.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  if (exists) {
    logger.info({ database: name }, 'database exists');
  } else {
    await client.query(`create database ${client.escapeIdentifier(name)}`);
    logger.info({ database: name }, 'database created');
  }
} catch (err) {
  logger.fatal(
    describeDatabaseError(err, env.DATABASE_URL) ?? `could not create database "${name}": ${String(err)}`,
  );
  process.exitCode = 1;
} finally {
  await client.end().catch(() => {});
}
