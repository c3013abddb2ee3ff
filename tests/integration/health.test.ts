import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import {
  expectTRPCError,
  signUp,
  startTestServer,
  testOrmConfig,
  type TestServer,
} from '../support/server.js';
import { TcpProxy } from '../support/tcp-proxy.js';

async function getJson(url: string) {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('/health and /ready with every service up', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers /health with 200', async () => {
    const res = await getJson(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers /ready with 200 when PostgreSQL and Redis answer', async () => {
    const res = await getJson(`${server.url}/ready`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ready: true,
      checks: { database: { ok: true }, redis: { ok: true } },
    });
  });

  it('echoes a caller-supplied request id, or makes one up, and logs requests with it', async () => {
    const given = await fetch(`${server.url}/ready`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const line = server.logs
      .map((l) => JSON.parse(l) as { req?: { id?: string; path?: string } })
      .find((l) => l.req?.id === 'trace-123');
    expect(line?.req?.path).toBe('/ready');
    const spoofed = await fetch(`${server.url}/health`, {
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(spoofed.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const made = await fetch(`${server.url}/health`);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a JSON 404 in the one error shape, naming the request', async () => {
    const res = await getJson(`${server.url}/nope`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: 'No such route',
        details: { request_id: res.headers.get('x-request-id') },
      },
    });
  });

  it('answers a wrong method on a fixed route with 405 and Allow, not 404', async () => {
    for (const path of ['/health', '/ready', '/api/openapi.json']) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST' });
      expect(res.status, path).toBe(405);
      expect(res.headers.get('allow'), path).toBe('GET');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_SUPPORTED');
    }
  });

  it('answers a malformed tRPC body with 400 and no stack trace', async () => {
    const res = await fetch(`${server.url}/trpc/auth.register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"json": {',
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toMatch(/stack|node_modules|\.ts:\d+/);
  });
});

describe('/ready when a backing service is down', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let orm: MikroORM;
  let server: TestServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    orm = await MikroORM.init(testOrmConfig(proxy.rewrite(db.url)));
    server = await startTestServer({ orm });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.stop();
    await orm?.close(true);
    await db?.drop();
  });

  it('answers 503 naming the database while PostgreSQL is unreachable, and 200 once it is back', async () => {
    const { client, token } = await signUp(server, 'outage');
    expect((await getJson(`${server.url}/ready`)).status).toBe(200);

    await proxy.stop();
    const down = await getJson(`${server.url}/ready`);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      status: 'unavailable',
      ready: false,
      checks: { database: { ok: false }, redis: { ok: true } },
    });
    expect(JSON.stringify(down.body)).not.toMatch(/password|mirix_dev_password/);

    // Requests that need the database fail with 503, not 500.
    await expectTRPCError(client.agents.list.query({}), 'SERVICE_UNAVAILABLE', 503);
    // So do the routes outside tRPC that read it (the queue dashboard's sign-in check).
    const dashboard = await fetch(`${server.url}/admin/queues`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(dashboard.status).toBe(503);
    expect(((await dashboard.json()) as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE');

    await proxy.start();
    await expect
      .poll(async () => (await getJson(`${server.url}/ready`)).status, { timeout: 10_000 })
      .toBe(200);
    expect((await client.agents.list.query({})).items).toEqual([]);
  });

  it('answers 503 naming Redis when Redis is unreachable', async () => {
    const closedPort = new TcpProxy('127.0.0.1', 1);
    await closedPort.start();
    const port = closedPort.port;
    await closedPort.stop();
    const noRedis = await startTestServer({ orm, redisUrl: `redis://127.0.0.1:${port}/0` });
    try {
      const res = await getJson(`${noRedis.url}/ready`);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ checks: { database: { ok: true }, redis: { ok: false } } });
    } finally {
      await noRedis.close();
    }
  });
});
