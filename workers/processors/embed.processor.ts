import type { MikroORM } from '@mikro-orm/postgresql';
import { type Job, UnrecoverableError } from 'bullmq';
import { ZEmbedJob } from '../../shared/jobs/index.js';
import { type EmbedBatcher, loadEmbeddable } from '../../server/modules/embeddings/embed.service.js';

export interface EmbedResult {
  requested: number;
  embedded: number;
}

/**
 * One embed job: re-validate the payload (a malformed one can never succeed, so it is not
 * retried), load what still needs a vector, and hand it to the shared batcher.
 */
export function createEmbedProcessor(orm: MikroORM, batcher: EmbedBatcher) {
  return async (job: Job): Promise<EmbedResult> => {
    const parsed = ZEmbedJob.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(
        `invalid embed payload: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      );
    }
    const items = await loadEmbeddable(orm.em.fork(), parsed.data.itemIds);
    const embedded = await batcher.submit(items);
    return { requested: parsed.data.itemIds.length, embedded };
  };
}
