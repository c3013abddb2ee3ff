import { createHash } from 'node:crypto';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';

/**
 * Runs a statement with native `$n` parameters: each parameter (the 8 KB vector literal among
 * them) is sent once, and the query-builder layers are skipped. Inside `em.transactional` it runs
 * on the transaction's connection (knex's transaction client hands out that one), else on a
 * pooled one.
 */
export async function runNative<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const client = (em.getTransactionContext<Knex.Transaction>() ?? em.getKnex()).client as {
    acquireConnection: () => Promise<{
      query: (q: { name: string; text: string; values: unknown[] }) => Promise<{ rows: T[] }>;
    }>;
    releaseConnection: (conn: unknown) => Promise<void>;
  };
  const conn = await client.acquireConnection();
  try {
    return (await conn.query({ name: statementName(sql), text: sql, values: params })).rows;
  } finally {
    await client.releaseConnection(conn);
  }
}

const names = new Map<string, string>();

/**
 * A prepared-statement name per distinct SQL text: each pooled connection parses a statement once
 * and reuses it (PostgreSQL still chooses between custom and generic plans as usual).
 */
function statementName(sql: string): string {
  let name = names.get(sql);
  if (!name) {
    name = `mirix_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    names.set(sql, name);
  }
  return name;
}
