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

describe('client addresses behind a proxy', () => {
  let server: TestServer;
  beforeAll(async () => {
    // TRUST_PROXY defaults to loopback, and the test client is on loopback: it is the proxy.
    server = await startTestServer({ env: { RATE_LIMIT_AUTH_PER_ADDRESS: 2 } });
  });
  afterAll(async () => {
    await server.close();
  });

  const login = (forwardedFor: string) =>
    fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ json: { username: 'nobody', password: 'wrong-password' } }),
    });

  it('gives each forwarded client address its own sign-in budget', async () => {
    expect((await login('203.0.113.1')).status).toBe(401);
    expect((await login('203.0.113.1')).status).toBe(401);
    expect((await login('203.0.113.1')).status).toBe(429);
    // Another client behind the same proxy still has its budget.
    expect((await login('203.0.113.2')).status).toBe(401);
  });
});
