import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../server/modules/users/user.entity.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('/admin/queues (bull-board)', () => {
  it('is for superusers only: 401 without credentials, 403 for other users', async () => {
    expect((await fetch(`${server.url}/admin/queues`)).status).toBe(401);
    expect(
      (await fetch(`${server.url}/admin/queues`, { headers: { authorization: 'Bearer not-a-token' } }))
        .status,
    ).toBe(401);
    const user = await signUp(server, 'plain');
    const res = await fetch(`${server.url}/admin/queues/api/queues`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(res.status).toBe(403);
    // The same error shape as the REST API's.
    expect(await res.json()).toEqual({
      error: {
        code: 'FORBIDDEN',
        message: 'Superuser only',
        details: { request_id: res.headers.get('x-request-id') },
      },
    });
  });

  it('shows the embed and consolidate queues to a superuser, by header or by cookie', async () => {
    const admin = await signUp(server, 'root');
    await server.orm.em.fork().nativeUpdate(User, { id: admin.user.id }, { isSuperuser: true });
    const agent = await admin.client.agents.create.mutate({ name: 'queued' });
    await admin.client.memory.ingest.mutate({ agentId: agent.id, text: 'something to remember' });

    const page = await fetch(`${server.url}/admin/queues`, {
      headers: { cookie: `mirix_token=${admin.token}` },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');

    const api = await fetch(`${server.url}/admin/queues/api/queues`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string; counts: Record<string, number> }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['consolidate', 'embed']);
    expect(body.queues.find((q) => q.name === 'consolidate')?.counts.waiting).toBe(1);
  });
});
