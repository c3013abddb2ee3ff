import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestServer, startTestWorker, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

/**
 * Full-text search asked the way chat and the memory managers ask: natural-language questions.
 * Runs on real PostgreSQL (tsvectors, triggers, the fused statement) through the typed client.
 */
let server: TestServer;
let worker: ReturnType<typeof startTestWorker>;
let client: Awaited<ReturnType<typeof signUp>>['client'];

beforeAll(async () => {
  server = await startTestServer();
  // The embed worker also writes each episode's context, as in a deployment.
  worker = startTestWorker(server);
  client = (await signUp(server, 'questioner')).client;
});
afterAll(async () => {
  await worker?.close();
  await server?.close();
});

/** Waits until the worker has indexed every memory of the agent (vector and context). */
const indexed = (agentId: string) =>
  waitFor(async () => (await client.memory.stats.query({ agentId })).pendingEmbeddings, 0);
const newAgent = async (name: string) => (await client.agents.create.mutate({ name })).id;
const fulltext = async (agentId: string, query: string, limit = 10) =>
  client.memory.search.query({ agentId, query, methods: ['fulltext'], limit, explain: true });
const ids = (res: { items: { item: { id: string } }[] }) => res.items.map((h) => h.item.id);
const semantic = async (agentId: string, name: string, summary: string) =>
  (await client.memory.semantic.create.mutate({ agentId, name, summary })).id;

describe('question-shaped full text', () => {
  it('ranks first a memory that holds only some of the question words', async () => {
    const agentId = await newAgent('partial words');
    const target = await semantic(agentId, 'Support group', 'Caroline went to an LGBTQ support group');
    await semantic(agentId, 'Greeting', 'Caroline said hello to everyone at the party');
    await semantic(agentId, 'Weather', 'It rained all day yesterday');
    const res = await fulltext(agentId, 'When did Caroline go to the LGBTQ support group?');
    expect(ids(res)[0]).toBe(target);
    expect(res.items.length).toBeGreaterThan(1);
  });

  it('counts rare words more than common ones, and does not favour long memories', async () => {
    const agentId = await newAgent('bm25');
    const filler = 'note about the weekly class and the weekly plans for everyone involved';
    const rare = await semantic(agentId, 'Pottery', 'Signed up for a pottery class');
    for (let i = 0; i < 6; i++) await semantic(agentId, `Class ${i}`, `${filler} ${i}`);
    const longOne = await semantic(
      agentId,
      'Long notes',
      `pottery ${'and then many other things happened that day, one after another, '.repeat(12)}`,
    );
    const res = await fulltext(agentId, 'pottery class');
    expect(ids(res)[0]).toBe(rare);
    expect(ids(res).indexOf(longOne)).toBeGreaterThan(0);
    // A common word alone still finds its memories: OR semantics, not AND.
    expect((await fulltext(agentId, 'weekly')).items.length).toBe(6);
  });

  it('puts quoted phrases and identifiers first, whatever else matches more', async () => {
    const agentId = await newAgent('exact');
    const phrase = await semantic(agentId, 'SLO', 'We spent the error budget');
    const spread = await semantic(
      agentId,
      'Review',
      'budget review found an error, then the budget had an error',
    );
    const code = await semantic(agentId, 'Outage', 'The connection failed with ERR_CONN_42 overnight');
    await semantic(agentId, 'Other outage', 'The connection failed overnight, connection connection');
    const quoted = ids(await fulltext(agentId, '"error budget" budget error'));
    expect(quoted[0]).toBe(phrase);
    expect(quoted).toContain(spread);
    // Without the identifier, the memory repeating "connection" ranks first; with it, the match.
    expect(ids(await fulltext(agentId, 'why did the connection fail overnight'))[0]).not.toBe(code);
    expect(ids(await fulltext(agentId, 'why did the connection fail overnight with ERR_CONN_42'))[0]).toBe(
      code,
    );
  });

  it('leaves out memories holding a -word', async () => {
    const agentId = await newAgent('exclude');
    const dog = await semantic(agentId, 'Dog', 'Our pet dog loves the park');
    const cat = await semantic(agentId, 'Cat', 'Our pet cat sleeps all day');
    const res = await client.memory.search.query({ agentId, query: 'pet -cat' });
    expect(ids(res)).toContain(dog);
    expect(ids(res)).not.toContain(cat);
  });

  it('never errors on stop words, punctuation or tsquery syntax, and says which signals searched', async () => {
    const agentId = await newAgent('hostile');
    const named = await semantic(agentId, 'What it is', 'Something about nothing');
    for (const query of ['a & b | !c', 'foo:* <-> bar', "it's (really) 'quoted'", 'x\\y', '"unclosed']) {
      const res = await client.memory.search.query({ agentId, query, explain: true });
      expect(res.methods, query).toContain('fulltext');
    }
    for (const query of ['what is it that you were', `'&|!():*<->\\`, '!!!', '"the"']) {
      const res = await client.memory.search.query({ agentId, query, explain: true });
      // Nothing to look up in the text index: trigram matching takes over instead of silence.
      expect(res.methods, query).not.toContain('fulltext');
      expect(res.methods, query).toContain('trigram');
    }
    // Stop words alone find a memory by its name through trigrams.
    const res = await client.memory.search.query({ agentId, query: 'what it is' });
    expect(ids(res)).toContain(named);
  });

  it('explains every search of an agent holding a memory with no words, and of a query with none (regression: NaN score, 500)', async () => {
    const agentId = await newAgent('no words');
    // Punctuation embeds to a vector of zeros: it has no cosine distance to anything.
    const blank = await semantic(agentId, '!!!', '???');
    const word = await semantic(agentId, 'Tea', 'Green tea in the morning');
    await indexed(agentId);
    const res = await client.memory.search.query({ agentId, query: 'green tea', explain: true });
    expect(ids(res)).toContain(word);
    expect(ids(res)).not.toContain(blank);
    for (const hit of res.items) {
      expect(Number.isFinite(hit.score)).toBe(true);
      for (const s of Object.values(hit.explain ?? {})) if (s) expect(Number.isFinite(s.score)).toBe(true);
    }
    for (const query of ['!', '-', '%', '&', '(', '*', "'", ';', '🙂']) {
      const r = await client.memory.search.query({ agentId, query, explain: true });
      expect(r.methods, query).not.toContain('vector');
    }
  });

  it('finds Chinese text by a word inside a sentence', async () => {
    const agentId = await newAgent('chinese');
    const coffee = await semantic(agentId, '周末', '我们周末去爬山，然后喝了咖啡');
    await semantic(agentId, '工作', '明天上午开会讨论预算');
    const res = await fulltext(agentId, '咖啡');
    expect(ids(res)).toEqual([coffee]);
    expect(ids(await fulltext(agentId, '我们什么时候喝咖啡？'))[0]).toBe(coffee);
  });
});

describe('context', () => {
  const turn = (actor: string, text: string, occurredAt: Date) => ({
    occurredAt,
    eventType: 'conversation',
    actor,
    summary: `${actor}: ${text}`,
    details: text,
  });

  it('finds an episode through the words of its neighbouring turns, and forgets a deleted neighbour', async () => {
    const agentId = await newAgent('context');
    const at = new Date('2023-05-08T13:56:00Z');
    const { ids: turns } = await client.memory.episodic.createMany.mutate({
      agentId,
      items: [
        turn('Melanie', 'What did you get up to at the weekend?', at),
        turn('Caroline', 'I went hiking in the hills with my dog.', at),
        turn('Melanie', 'That sounds lovely!', at),
      ],
    });
    const [question, answer] = turns as [string, string];
    await indexed(agentId);
    const res = await fulltext(agentId, 'What did Caroline do at the weekend?');
    expect(ids(res)).toContain(answer);
    // The answer holds no "weekend" of its own: it was found through its context.
    const found = res.items.find((h) => h.item.id === answer)?.item;
    expect(found && 'summary' in found ? found.summary : '').toMatch(/hiking/);
    expect(found && 'summary' in found ? found.summary : '').not.toMatch(/weekend/);

    await client.memory.episodic.delete.mutate({ agentId, id: question });
    expect(ids(await fulltext(agentId, 'weekend'))).toEqual([]);
  });

  it('keeps context current when a neighbour is added later or edited', async () => {
    const agentId = await newAgent('context updates');
    const at = new Date('2024-02-01T10:00:00Z');
    const first = await client.memory.episodic.create.mutate({
      agentId,
      ...turn('Jon', 'I lost my job.', at),
    });
    await indexed(agentId);
    expect(ids(await fulltext(agentId, 'dance studio'))).toEqual([]);
    const second = await client.memory.episodic.create.mutate({
      agentId,
      ...turn('Gina', 'Open a dance studio then!', new Date(at.getTime() + 60_000)),
    });
    await indexed(agentId);
    expect(ids(await fulltext(agentId, 'dance studio'))).toEqual([second.id, first.id]);
    await client.memory.episodic.update.mutate({
      agentId,
      id: second.id,
      summary: 'Gina: Sorry to hear that.',
    });
    await client.memory.episodic.update.mutate({ agentId, id: second.id, details: 'Sorry to hear that.' });
    await indexed(agentId);
    expect(ids(await fulltext(agentId, 'dance studio'))).toEqual([]);
  });

  it("takes concurrent batches of one agent's episodes without deadlocks, and links them all once indexed (regression: deadlock between neighbour updates)", async () => {
    const agentId = await newAgent('concurrent context');
    const at = new Date('2024-05-01T08:00:00Z');
    // Eight batches written at once whose turns interleave in time: each batch's neighbours are
    // the other batches' turns.
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 40 }, (_, i) =>
        turn('Ava', `batch${b} turn${i} word${b}x${i}`, new Date(at.getTime() + (i * 8 + b) * 1000)),
      ),
    );
    const results = await Promise.all(
      batches.map((items) => client.memory.episodic.createMany.mutate({ agentId, items })),
    );
    expect(results.flatMap((r) => r.ids)).toHaveLength(320);
    await indexed(agentId);
    // A turn is found through the words of the turns written just before and after it in time,
    // which came in other batches.
    const middle = results[3]!.ids[20]!;
    expect(ids(await fulltext(agentId, 'word2x20'))).toContain(middle);
    expect(ids(await fulltext(agentId, 'word4x20'))).toContain(middle);
  });

  it('does not join episodes more than half a day apart', async () => {
    const agentId = await newAgent('context window');
    await client.memory.episodic.createMany.mutate({
      agentId,
      items: [
        turn('Nate', 'We adopted a turtle.', new Date('2024-03-01T10:00:00Z')),
        turn('Nate', 'Busy week at work.', new Date('2024-03-09T10:00:00Z')),
      ],
    });
    await indexed(agentId);
    expect((await fulltext(agentId, 'turtle')).items).toHaveLength(1);
  });

  it('finds an episode by its date in words, and by its actor before those who only mention them', async () => {
    const agentId = await newAgent('actor and date');
    const { ids: made } = await client.memory.episodic.createMany.mutate({
      agentId,
      items: [
        turn('Joanna', 'Way to go, Nate! Congrats on the cooking show.', new Date('2023-10-13T09:00:00Z')),
        turn(
          'Nate',
          'Last Monday I taught vegan ice cream recipes on my own cooking show!',
          new Date('2023-10-14T09:00:00Z'),
        ),
      ],
    });
    const [mention, own] = made as [string, string];
    await indexed(agentId);
    const res = await fulltext(agentId, 'When did Nate host a cooking show?');
    expect(ids(res)).toEqual([own, mention]);
    expect(ids(await fulltext(agentId, 'What happened on 13 October 2023?'))[0]).toBe(mention);
  });
});
