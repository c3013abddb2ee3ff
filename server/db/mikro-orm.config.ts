// Entry point for the MikroORM CLI (`npm run db:migrate`, `db:seed`, `db:migration:create`):
// package.json's "mikro-orm.configPaths" points here.
import { loadEnvOrExit } from '../env.js';
import { createOrmConfig } from './orm-config.js';

export default createOrmConfig(loadEnvOrExit().env);
