import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { createOrmConfig, type OrmEnv } from './orm-config.js';

/** Starts MikroORM for a long-running process (API or worker). */
export async function initOrm(env: OrmEnv, overrides: Partial<Options> = {}) {
  return MikroORM.init(createOrmConfig(env, overrides));
}
