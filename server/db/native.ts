import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Runs a statement with native `$n` parameters on a pooled connection: each parameter (the
 * 8 KB vector literal among them) is sent once, and the query-builder layers are skipped.
 */
export async function runNative<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const client = em.getKnex().client as {
    acquireConnection: () => Promise<{ query: (sql: string, params: unknown[]) => Promise<{ rows: T[] }> }>;
    releaseConnection: (conn: unknown) => Promise<void>;
  };
  const conn = await client.acquireConnection();
  try {
    return (await conn.query(sql, params)).rows;
  } finally {
    await client.releaseConnection(conn);
  }
}
