import type { EntityManager } from '@mikro-orm/postgresql';

/** The dimension of memories.embedding in the database, or null if the column is missing. */
export async function embeddingColumnDim(em: EntityManager): Promise<number | null> {
  const [row] = await em.execute<{ type: string }[]>(
    `select format_type(atttypid, atttypmod) as type from pg_attribute
     where attrelid = to_regclass('memories') and attname = 'embedding' and not attisdropped`,
  );
  const match = row ? /^vector\((\d+)\)$/.exec(row.type) : null;
  return match ? Number(match[1]) : null;
}

export class EmbeddingDimensionMismatch extends Error {}

/**
 * Refuses to run against a database whose vectors have another dimension than the configured
 * model produces: every search and every write of a vector would fail.
 */
export async function assertEmbeddingColumn(em: EntityManager, dim: number): Promise<void> {
  const actual = await embeddingColumnDim(em);
  if (actual === null) {
    throw new EmbeddingDimensionMismatch(
      'memories.embedding does not exist: run `npm run db:migrate` before starting the server or worker.',
    );
  }
  if (actual !== dim) {
    throw new EmbeddingDimensionMismatch(
      `memories.embedding is vector(${actual}) but EMBEDDING_DIM=${dim}. Either set EMBEDDING_DIM=${actual} ` +
        `(and the model that produced those vectors), or run \`npm run memory:reembed\` to convert the column ` +
        `to vector(${dim}) and re-embed every memory with the configured model.`,
    );
  }
}
