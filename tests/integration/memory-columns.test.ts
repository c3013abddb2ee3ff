import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryItem } from '../../server/modules/memory/memory.entity.js';
import { FIELD_COLUMNS, RECORD_COLUMNS, recordFromRow } from '../../server/modules/memory/memory.registry.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { testOrmConfig } from '../support/server.js';

let db: TestDatabase;
let orm: MikroORM;
beforeAll(async () => {
  db = await createTestDatabase();
  orm = await MikroORM.init(testOrmConfig(db.url));
});
afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

describe("the memory fields' one column table", () => {
  it("names each field's column as the entity's metadata does", () => {
    const properties = orm.getMetadata().get(MemoryItem.name).properties as Record<
      string,
      { fieldNames: string[] }
    >;
    for (const [prop, column] of Object.entries(FIELD_COLUMNS)) {
      expect(properties[prop]?.fieldNames, prop).toEqual([column]);
    }
  });

  it('selects columns that exist, and maps them back to the record', async () => {
    const em = orm.em.fork();
    // No rows needed: an unknown column fails the statement itself.
    await expect(em.execute(`select ${RECORD_COLUMNS.join(', ')} from memories limit 0`)).resolves.toEqual(
      [],
    );
    const row = Object.fromEntries(RECORD_COLUMNS.map((c) => [c, null]));
    const record = recordFromRow({
      ...row,
      id: 'i',
      agent_id: 'a',
      summary: 's',
      occurred_at: '2026-01-02T03:04:05Z',
    });
    expect(record).toMatchObject({ id: 'i', agent: { id: 'a' }, summary: 's', content: null });
    expect(record.occurredAt).toEqual(new Date('2026-01-02T03:04:05Z'));
  });
});
