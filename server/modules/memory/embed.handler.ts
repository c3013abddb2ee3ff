import { type Job, UnrecoverableError } from 'bullmq';
import { ZEmbedJob } from '../../../shared/jobs/index.js';
import type { EmbedBatcher } from './embed.service.js';

export interface EmbedResult {
  requested: number;
  embedded: number;
}

/**
 * One embed job: re-validate the payload (a malformed one can never succeed, so it is not
 * retried) and hand its ids to the shared batcher, which loads, embeds and writes in bulk.
 */
export function createEmbedProcessor(batcher: EmbedBatcher) {
  return async (job: Job): Promise<EmbedResult> => {
    const parsed = ZEmbedJob.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(
        `invalid embed payload: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      );
    }
    const embedded = await batcher.submit(parsed.data.itemIds);
    return { requested: parsed.data.itemIds.length, embedded };
  };
}
