// `npm run db:migrate:prod` (`node dist/server/db/migrate.js`): applies pending migrations and
// exits (the compose `migrate` service and the Kubernetes migration Job run this). Migrations run
// in one transaction (allOrNothing), so a failure leaves the schema as it was.
import { loadEnvOrExit } from '../env.js';
import { createLogger } from '../logger.js';
import { initOrm } from './orm.js';

const { env } = loadEnvOrExit();
const logger = createLogger(env);
const orm = await initOrm(env, logger);
try {
  const applied = await orm.getMigrator().up();
  logger.info(
    { applied: applied.map((m) => m.name) },
    applied.length ? 'migrations applied' : 'schema up to date',
  );
} catch (err) {
  logger.fatal({ err }, 'migration failed');
  process.exitCode = 1;
} finally {
  await orm.close();
}
