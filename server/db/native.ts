import { createHash } from 'node:crypto';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';

/**
 * The one other way to reach the database besides the unit of work and `em.execute`: a statement
 * with native `$n` parameters, for the hot paths whose parameters `em.execute` cannot carry as one
 * value each (knex's `?` bindings expand arrays; the 8 KB vector literal is sent once), prepared once
 * per connection (docs/decisions/0003-native-statements.md). Inside `em.transactional` it runs on the
 * transaction's connection (knex's transaction client hands out that one), else on a pooled one;
 * it is logged like the ORM's own queries (the `query` debug namespace).
 */
export async function runNative<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const client = (em.getTransactionContext<Knex.Transaction>() ?? em.getKnex()).client as {
    acquireConnection: () => Promise<{
      query: (q: { name: string; text: string; values: unknown[] }) => Promise<{ rows: T[] }>;
    }>;
    releaseConnection: (conn: unknown) => Promise<void>;
  };
  const started = performance.now();
  const conn = await client.acquireConnection();
  try {
    const { rows } = await conn.query({ name: statementName(sql), text: sql, values: params });
    em.config.getLogger().logQuery({
      query: sql,
      took: Math.round(performance.now() - started),
      results: rows.length,
      level: 'info',
    });
    return rows;
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
