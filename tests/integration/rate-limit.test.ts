import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectTRPCError, signUp, startTestServer, type TestServer } from '../support/server.js';

const listAgents = (server: TestServer, credential: string) =>
  fetch(`${server.url}/trpc/agents.list?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`, {
    headers: { authorization: `Bearer ${credential}` },
  });

describe('per-user and per-API-key budgets', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_PER_USER: 5 } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers 429 with Retry-After past the budget, while other users and the API key keep theirs', async () => {
    const alice = await signUp(server, 'alice');
    const { key } = await alice.client.apiKeys.create.mutate({ name: 'script' }); // call 1
    for (let i = 0; i < 4; i++) expect((await listAgents(server, alice.token)).status).toBe(200); // 2-5

    const limited = await listAgents(server, alice.token);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await limited.text()).toContain('TOO_MANY_REQUESTS');
    await expectTRPCError(alice.client.agents.list.query({}), 'TOO_MANY_REQUESTS', 429);

    const bob = await signUp(server, 'bob');
    expect((await listAgents(server, bob.token)).status).toBe(200);
    expect((await listAgents(server, key)).status).toBe(200);
  });
});

describe('sign-in and sign-up budget per address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_AUTH_PER_ADDRESS: 4 } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('is much smaller, and counts attempts whatever their outcome', async () => {
    const carol = await signUp(server, 'carol'); // register + login: 2 attempts
    const anonymous = server.client();
    await expectTRPCError(
      anonymous.auth.login.mutate({ username: carol.username, password: 'wrong-password' }),
      'UNAUTHORIZED',
    );
    await expectTRPCError(
      anonymous.auth.login.mutate({ username: carol.username, password: 'wrong-password' }),
      'UNAUTHORIZED',
    );
    const err = await expectTRPCError(
      anonymous.auth.login.mutate({ username: carol.username, password: carol.password }),
      'TOO_MANY_REQUESTS',
      429,
    );
    expect(err.message).toMatch(/try again in \d+ s/);
    // Authenticated calls are not sign-in attempts: carol's token still works.
    expect((await listAgents(server, carol.token)).status).toBe(200);
  });
});
