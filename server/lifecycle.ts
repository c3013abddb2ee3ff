import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { assertEmbeddingColumn, EmbeddingDimensionMismatch } from './modules/embeddings/index.js';

/** For process entry points: a database whose vectors do not fit the configuration stops the process. */
export async function exitOnEmbeddingMismatch(orm: MikroORM, dim: number, logger: Logger): Promise<void> {
  try {
    await assertEmbeddingColumn(orm.em.fork(), dim);
  } catch (err) {
    if (!(err instanceof EmbeddingDimensionMismatch)) throw err;
    logger.fatal(err.message);
    await orm.close();
    process.exit(1);
  }
}

/** Runs `shutdown` once on the first SIGTERM or SIGINT, then exits 0 (1 if it failed). */
export function onShutdownSignal(logger: Logger, shutdown: (signal: string) => Promise<void>): void {
  let started = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (started) return;
      started = true;
      shutdown(signal).then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
    });
  }
}
