import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNative } from '../../server/db/native.js';
import { hashedEmbedding } from '../../server/modules/embeddings/hashed.js';
import { loadEmbeddable, writeVectors } from '../../server/modules/memory/memory.queries.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

/*
 * How the embed worker writes an episode's search context, driven step by step (no worker runs):
 * each episode's context is written with its vector, and an indexed neighbour is refreshed when an
 * episode beside it is indexed, while one still waiting for its vector is left for its own write.
 */

let server: TestServer;
let em: EntityManager;
let client: Awaited<ReturnType<typeof signUp>>['client'];

beforeAll(async () => {
  server = await startTestServer();
  em = server.orm.em.fork();
  client = (await signUp(server, 'context-writer')).client;
});
afterAll(async () => {
  await server?.close();
});

const turn = (text: string, occurredAt: Date) => ({
  occurredAt,
  eventType: 'conversation',
  actor: 'Maya',
  summary: `Maya: ${text}`,
  details: text,
});

/** What the embed worker does for these items: load their texts, embed, write. */
async function index(ids: string[]) {
  const pending = await loadEmbeddable(em, ids);
  const rows = pending.map((p) => ({ id: p.id, version: p.version, vector: hashedEmbedding(p.text, 768) }));
  return writeVectors(em, 'mirix-hashed-v1', rows);
}

/** Each episode's row version (xmin changes with every write) and the lexemes of its context. */
async function rows(ids: string[]) {
  const found = await runNative<{ id: string; xmin: string; context: string[] | null }>(
    em,
    `select id, xmin::text as xmin, tsvector_to_array(context_tsv) as context from memories where id = any($1::uuid[])`,
    [ids],
  );
  return new Map(found.map((r) => [r.id, r]));
}

describe('episode context written by the embed worker', () => {
  it('leaves a neighbour waiting for its vector unwritten, gives it its whole context with its vector, and refreshes indexed neighbours', async () => {
    const agentId = (await client.agents.create.mutate({ name: 'context writes' })).id;
    const at = new Date('2025-04-02T09:00:00Z');
    const { ids } = await client.memory.episodic.createMany.mutate({
      agentId,
      items: [turn('We planted tulips.', at), turn('The greenhouse leaks.', new Date(at.getTime() + 60_000))],
    });
    const [first, second] = ids as [string, string];
    const before = await rows(ids);

    expect(await index([first])).toEqual([first]);
    const afterFirst = await rows(ids);
    expect(afterFirst.get(first)!.context).toEqual(expect.arrayContaining(['greenhous', 'leak']));
    // The second episode still waits for its vector: its row was not written.
    expect(afterFirst.get(second)!.xmin).toBe(before.get(second)!.xmin);
    expect(afterFirst.get(second)!.context).toBeNull();

    expect(await index([second])).toEqual([second]);
    const afterSecond = await rows(ids);
    expect(afterSecond.get(second)!.context).toEqual(expect.arrayContaining(['tulip', 'plant']));
    // The first one's context already named the second; it is not written again.
    expect(afterSecond.get(first)!.xmin).toBe(afterFirst.get(first)!.xmin);

    // A later episode beside the indexed first one: once it is indexed, the first one's context names it.
    const third = (
      await client.memory.episodic.create.mutate({
        agentId,
        ...turn('Bees everywhere!', new Date(at.getTime() - 60_000)),
      })
    ).id;
    await index([third]);
    const afterThird = await rows([first, third]);
    expect(afterThird.get(first)!.context).toEqual(expect.arrayContaining(['bee', 'greenhous']));
    expect(afterThird.get(third)!.context).toEqual(expect.arrayContaining(['tulip']));
  });
});
