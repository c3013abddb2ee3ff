import { MikroORM, type Options } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { createOrmConfig, type OrmEnv } from './orm-config.js';

/** Starts MikroORM for a long-running process (API or worker). */
export async function initOrm(env: OrmEnv, logger?: Logger, overrides: Partial<Options> = {}) {
  return MikroORM.init(createOrmConfig(env, overrides, logger));
}
