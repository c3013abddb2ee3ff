// `npm run memory:reembed [-- --all]`: after a change of embedding model or dimension, recompute
// every memory's vector with the configured provider. With a new EMBEDDING_DIM it first converts
// memories.embedding to vector(EMBEDDING_DIM) (dropping the old vectors and rebuilding the index).
import { initOrm } from '../server/db/orm.js';
import { loadEnvOrExit } from '../server/env.js';
import { createLogger } from '../server/logger.js';
import { createEmbeddingProvider, embeddingColumnDim } from '../server/modules/embeddings/index.js';
import { loadEmbeddable, writeVectors, HNSW_INDEX_SQL } from '../server/modules/memory/index.js';

const { env } = loadEnvOrExit();
const logger = createLogger({ LOG_LEVEL: 'warn' });
const orm = await initOrm(env, logger);
const provider = createEmbeddingProvider(env);
const all = process.argv.includes('--all');

try {
  const em = orm.em.fork();
  const conn = em.getConnection();
  const dim = await embeddingColumnDim(em);
  if (dim === null) throw new Error('memories.embedding does not exist: run `npm run db:migrate` first');
  if (dim !== env.EMBEDDING_DIM) {
    console.log(`converting memories.embedding from vector(${dim}) to vector(${env.EMBEDDING_DIM})`);
    await em.transactional(async (tx) => {
      const c = tx.getConnection();
      await c.execute('drop index if exists memories_embedding_hnsw_idx');
      await c.execute(
        `alter table memories alter column embedding type vector(${env.EMBEDDING_DIM}) using null, alter column embedding_model type varchar(200) using null`,
      );
      await c.execute(HNSW_INDEX_SQL);
    });
  } else {
    const cleared = await conn.execute<{ id: string }[]>(
      `update memories set embedding = null, embedding_model = null
       where embedding is not null ${all ? '' : 'and embedding_model is distinct from ?'} returning id`,
      all ? [] : [provider.model],
    );
    console.log(`cleared ${cleared.length} vector(s) ${all ? '' : `not made by ${provider.model}`}`);
  }

  let done = 0;
  const started = Date.now();
  for (;;) {
    const ids = await conn.execute<{ id: string }[]>(
      `select id from memories where embedding is null and deleted_at is null and memory_type <> 'knowledge_vault'
       order by id limit ?`,
      [env.EMBEDDING_BATCH_SIZE * 4],
    );
    if (ids.length === 0) break;
    const pending = await loadEmbeddable(
      orm.em.fork(),
      ids.map((r) => r.id),
    );
    const before = done;
    for (let i = 0; i < pending.length; i += env.EMBEDDING_BATCH_SIZE) {
      const chunk = pending.slice(i, i + env.EMBEDDING_BATCH_SIZE);
      const vectors = await provider.embed(chunk.map((p) => p.text));
      done += (
        await writeVectors(
          orm.em.fork(),
          provider.model,
          chunk.map((p, j) => ({ ...p, vector: vectors[j]! })),
        )
      ).length;
    }
    process.stdout.write(`\rre-embedded ${done} item(s)`);
    if (done === before) {
      // Every row in this pass changed under us (or failed to write): stop rather than spin.
      console.log('\nno progress in the last pass; run again once writes settle');
      break;
    }
  }
  console.log(
    `\ndone: ${done} item(s) embedded with ${provider.model} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
} finally {
  await orm.close();
}
