// Property-based fuzzing of every REST route (fields from the served OpenAPI document) and every tRPC query
// and mutation (from the router): hostile strings, numbers, dates, cursors and nesting in every
// field. The invariant: never a 5xx, never a stack trace or SQL text in a body. FUZZ_RUNS (default
// 6) sets the runs per route and per procedure.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../../server/trpc/routers/_app.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 6);
let server: TestServer;
let token: string;
let agentId: string;
let itemId: string;

beforeAll(async () => {
  server = await startTestServer();
  const owner = await signUp(server, 'fuzz');
  token = owner.token;
  agentId = (await owner.client.agents.create.mutate({ name: 'fuzzed' })).id;
  itemId = (await owner.client.memory.semantic.create.mutate({ agentId, name: 'n', summary: 's' })).id;
});
afterAll(async () => {
  await server?.close();
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const deep = (n: number): unknown => {
  let v: unknown = 'x';
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
};
const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom(
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '🙂',
    '',
    ' ',
    "'; drop table users; --",
    `'&|!():*<->\\`,
    '-'.repeat(36),
    '0000-01-01',
    '-271821-04-20',
    '+275760-09-13T00:00:00.000Z',
    '99999-01-01',
    'NaN',
    '1e309',
    b64(['2024-01-01', '-'.repeat(36)]),
    b64(['+275760-09-13T00:00:00.000Z', '0190a6f0-0000-7000-8000-000000000001']),
    '中文的记忆',
    'x'.repeat(5000),
  ),
);
const hostileLeaf = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e300, true, false, null),
);
const hostileValue = fc.oneof(
  { weight: 4, arbitrary: hostileLeaf },
  { weight: 1, arbitrary: fc.array(hostileLeaf, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), hostileLeaf, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(deep(40), deep(3000)) },
);
/** Values that answered 500 before (issue 16): NUL, lone surrogates, unstorable dates, deep nesting. */
const KNOWN_BAD: unknown[] = ['a\u0000b', '\ud800', '-271821-04-20', '+275760-09-13T00:00:00.000Z', deep(40)];

/** An id: the real ones (so the handlers get past the lookup), another's, or garbage. */
const idValue = () =>
  fc.oneof(fc.constantFrom(agentId, itemId, '0190a6f0-0000-7000-8000-000000000001'), hostileString);

/** Plausible values per field name, so that most of an input passes its schema and reaches the code behind it. */
const valid = (): Record<string, unknown> => ({
  agentId,
  id: itemId,
  itemId,
  jobId: '0190a6f0-0000-7000-8000-000000000001',
  label: 'human',
  query: 'green tea',
  name: 'Tea',
  summary: 'Green tea in the morning',
  details: 'every day',
  items: [{ name: 'A', summary: 'b' }],
  limit: 10,
  occurredAt: '2024-01-01T00:00:00.000Z',
  timeRange: { from: '2024-01-01T00:00:00.000Z' },
  contains: 'tea',
  text: 'I like tea',
  messages: [{ role: 'user', content: 'hi' }],
  message: 'hello',
  value: 'The user likes tea',
  types: ['semantic'],
  methods: ['fulltext'],
  username: 'someone',
  password: 'some-password',
  email: 'someone@example.com',
  eventType: 'conversation',
  actor: 'user',
  entryType: 'workflow',
  steps: ['one', 'two'],
  title: 'A note',
  resourceType: 'document',
  content: 'some text',
  source: 'chat',
  old: 'tea',
  new: 'coffee',
  order: 'newest',
});
const FIELDS = Object.keys(valid());

/**
 * An input that is valid but for one or two fields (hostile values there, or inside `items[0]`),
 * or a wholly hostile value.
 */
const hostileInput = (fields: string[] = FIELDS) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          fc.subarray(FIELDS, { minLength: Math.min(3, FIELDS.length) }),
          fc.array(fc.tuple(fc.constantFrom(...fields, 'items.0.summary', 'items.0.name'), hostileValue), {
            minLength: 1,
            maxLength: 2,
          }),
        )
        .map(([keep, breaks]) => {
          const all = valid();
          // Every field the procedure reads is valid, but for the broken ones.
          const input: Record<string, unknown> = Object.fromEntries(
            [...new Set([...keep, ...fields])].filter((k) => k in all).map((k) => [k, all[k]]),
          );
          for (const [field, value] of breaks) {
            if (field.startsWith('items.0.'))
              input.items = [{ name: 'A', summary: 'b', [field.slice(8)]: value }];
            else input[field] = value;
          }
          return input;
        }),
    },
    { weight: 1, arbitrary: hostileValue },
  );

function assertNoLeak(status: number, text: string, what: string) {
  expect(status, `${what} -> ${status} ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(text, what).not.toMatch(/\n\s+at |node_modules|\bselect .* from\b|Maximum call stack/i);
}

/** A path segment; a lone surrogate cannot be encoded, so it goes as the invalid UTF-8 a raw client could send. */
const pathSegment = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};

const toCamel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const toSnake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const snakeKeys = (v: unknown): unknown =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).map(([k, x]) => [toSnake(k), x]))
    : v;

describe('fuzz', () => {
  it('never answers 5xx or leaks internals on any REST route', async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            responses: Record<string, { content?: Record<string, unknown> }>;
            parameters?: { name: string; in: string }[];
            requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
          }
        >
      >;
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        // Event streams stay open by design; their inputs are the same procedures' (fuzzed below).
        if (Object.values(op.responses).some((r) => r.content?.['text/event-stream'])) continue;
        // The route's own fields (from the schemas of its body and query string, which the served
        // document generates from the procedure's zod input), so the hostile values land where it reads.
        const own = [
          ...Object.keys(op.requestBody?.content?.['application/json']?.schema?.properties ?? {}),
          ...(op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name),
        ].map(toCamel);
        const all = valid();
        const base = Object.fromEntries(own.filter((k) => k in all).map((k) => [k, all[k]]));
        await fc.assert(
          fc.asyncProperty(
            fc.array(idValue(), { minLength: 3, maxLength: 3 }),
            hostileInput(own.length ? own : FIELDS),
            async (ids, input) => {
              let i = 0;
              const url = `${server.url}/api/v1${path.replace(/\{\w+\}/g, () => pathSegment(String(ids[i++ % 3])))}`;
              const body =
                method === 'get' || method === 'delete' ? undefined : JSON.stringify(snakeKeys(input));
              const query =
                method === 'get' && input && typeof input === 'object' && !Array.isArray(input)
                  ? `?${new URLSearchParams(Object.entries(snakeKeys(input) as object).map(([k, v]) => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')]))}`
                  : '';
              const res = await fetch(url + query, {
                method: method.toUpperCase(),
                headers: {
                  authorization: `Bearer ${token}`,
                  ...(body ? { 'content-type': 'application/json' } : {}),
                },
                body,
              });
              assertNoLeak(res.status, await res.text(), `${method.toUpperCase()} ${path}`);
            },
          ),
          {
            numRuns: RUNS,
            // Besides the random runs: each of the route's fields, in turn, with each known-bad value.
            examples: own.flatMap((field) =>
              KNOWN_BAD.map((bad): [unknown[], unknown] => [
                [agentId, itemId, agentId],
                { ...base, [field]: bad },
              ]),
            ),
          },
        );
      }
    }
  });

  it('never answers 5xx or leaks internals on any tRPC query or mutation', async () => {
    const procedures = appRouter._def.procedures as unknown as Record<
      string,
      { _def: { type: string; inputs: { shape?: Record<string, unknown> }[] } }
    >;
    for (const [path, procedure] of Object.entries(procedures)) {
      const { type, inputs } = procedure._def;
      if (type === 'subscription') continue;
      // The procedure's own fields (from its zod input), so the hostile values land where it reads.
      const own = Object.keys(inputs[0]?.shape ?? {});
      await fc.assert(
        fc.asyncProperty(hostileInput(own.length ? own : FIELDS), async (input) => {
          const json = JSON.stringify({ json: input });
          const res =
            type === 'query'
              ? await fetch(`${server.url}/trpc/${path}?input=${encodeURIComponent(json)}`, {
                  headers: { authorization: `Bearer ${token}` },
                })
              : await fetch(`${server.url}/trpc/${path}`, {
                  method: 'POST',
                  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
                  body: json,
                });
          assertNoLeak(res.status, await res.text(), path);
        }),
        {
          numRuns: RUNS,
          // Besides the random runs: each field the procedure reads, in turn, with each known-bad value.
          examples: own.flatMap((field) =>
            KNOWN_BAD.map((bad): [unknown] => {
              const all = valid();
              const input = Object.fromEntries(own.filter((k) => k in all).map((k) => [k, all[k]]));
              return [{ ...input, [field]: bad }];
            }),
          ),
        },
      );
    }
  });
});
