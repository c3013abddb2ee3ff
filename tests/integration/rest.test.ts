import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Plain HTTP, as a non-TypeScript client would speak it: fetch and JSON, no tRPC client. */
function restClient(server: TestServer, token?: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : null };
  };
  return {
    authorization: token ? `Bearer ${token}` : '',
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown = {}, headers?: Record<string, string>) =>
      call('POST', path, body, headers),
    put: (path: string, body: unknown) => call('PUT', path, body),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    delete: (path: string) => call('DELETE', path),
  };
}

let counter = 0;
async function restUser(server: TestServer, name: string) {
  const anonymous = restClient(server);
  const username = `${name}${++counter}_${Date.now().toString(36)}`;
  const password = 'testpassword123';
  const registered = await anonymous.post('/auth/register', {
    username,
    email: `${username}@example.com`,
    password,
    full_name: 'Test User',
  });
  expect(registered.status).toBe(201);
  const login = await anonymous.post('/auth/login', { username, password });
  expect(login.status).toBe(200);
  return { registered: registered.json, login: login.json, api: restClient(server, login.json.access_token) };
}

function expectRestError(res: { status: number; json: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({
    error: {
      code,
      message: expect.any(String),
      details: expect.objectContaining({ request_id: expect.any(String) }),
    },
  });
  expect(res.json.error.message).not.toMatch(/\n\s+at /); // never a stack trace
}

let harness: ChatHarness;
let server: TestServer;
beforeAll(async () => {
  harness = await startChatHarness();
  server = harness.server;
});
afterAll(async () => {
  await harness?.close();
});

describe('the design document’s integration flow over REST', () => {
  it('register -> login -> create -> get -> update -> chat -> messages -> delete (204) -> get (404)', async () => {
    const { registered, login, api } = await restUser(server, 'flow');
    expect(registered).toMatchObject({
      username: expect.any(String),
      full_name: 'Test User',
      is_active: true,
    });
    expect(registered).not.toHaveProperty('password_hash');
    expect(login).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 3600 });

    const created = await api.post('/agents/', {
      name: '集成测试智能体',
      agent_type: 'assistant',
      description: '用于集成测试',
      system_prompt: '你是一个测试助手',
      model_config: { provider: 'openai', model: 'gpt-test', parameters: { max_tokens: 64, topP: 0.9 } },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      name: '集成测试智能体',
      agent_type: 'assistant',
      system_prompt: '你是一个测试助手',
      // Declared fields are renamed; the keys of free-form parameters reach the model as sent.
      model_config: { provider: 'openai', model: 'gpt-test', parameters: { max_tokens: 64, topP: 0.9 } },
      is_active: true,
    });
    const agentId = created.json.id as string;

    const got = await api.get(`/agents/${agentId}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id: agentId, name: '集成测试智能体', created_at: expect.any(String) });
    expect(new Date(got.json.created_at).toISOString()).toBe(got.json.created_at);

    const updated = await api.put(`/agents/${agentId}`, { description: '更新后的描述' });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ description: '更新后的描述', system_prompt: '你是一个测试助手' });

    harness.openai.replies.push({ text: '你好，我是测试助手。', usage: { prompt: 12, completion: 6 } });
    const chat = await api.post(`/agents/${agentId}/chat`, { message: '你好，请介绍一下自己' });
    expect(chat.status).toBe(200);
    expect(chat.json).toMatchObject({
      response: '你好，我是测试助手。',
      user_message_id: expect.any(String),
      assistant_message_id: expect.any(String),
      memories_used: [],
      usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
    });
    // The request's parameters reached the provider under their own names.
    expect(harness.openai.chatRequests.at(-1)).toMatchObject({ model: 'gpt-test', max_tokens: 64 });

    const messages = await api.get(`/agents/${agentId}/messages`);
    expect(messages.status).toBe(200);
    expect(messages.json.items.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
      ['user', '你好，请介绍一下自己'],
      ['assistant', '你好，我是测试助手。'],
    ]);
    expect(messages.json).toHaveProperty('next_cursor', null);

    const deleted = await api.delete(`/agents/${agentId}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectRestError(await api.get(`/agents/${agentId}`), 404, 'NOT_FOUND');
  });

  it('lists agents with query parameters in snake_case', async () => {
    const { api } = await restUser(server, 'lister');
    await api.post('/agents', { name: 'a', agent_type: 'assistant' });
    await api.post('/agents', { name: 'b', agent_type: 'researcher' });
    const page = await api.get('/agents?agent_type=researcher&limit=5');
    expect(page.status).toBe(200);
    expect(page.json).toMatchObject({ total: 1, skip: 0, limit: 5 });
    expect(page.json.items.map((a: { name: string }) => a.name)).toEqual(['b']);
  });
});

async function readSse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));
}

describe('stream-chat over SSE', () => {
  it('writes start, thinking, memories, content..., complete, then [DONE], and saves the turn', async () => {
    const { api, login } = await restUser(server, 'streamer');
    const agentId = (await api.post('/agents', { name: '流式测试智能体', agent_type: 'assistant' })).json.id;
    await api.post(`/agents/${agentId}/memories/semantic`, {
      name: 'Spring',
      summary: 'The user loves spring poems',
    });
    harness.openai.replies.push({
      text: '春眠不觉晓，处处闻啼鸟。',
      chunkSize: 3,
      usage: { prompt: 20, completion: 9 },
    });

    const res = await fetch(`${server.url}/api/v1/agents/${agentId}/stream-chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${login.access_token}` },
      body: JSON.stringify({ message: 'Which spring poems?' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const lines = await readSse(res);
    expect(lines.at(-1)).toBe('[DONE]');
    const events = lines.slice(0, -1).map((l) => JSON.parse(l) as { event: string } & Record<string, any>);
    expect(
      events.map((e) => e.event).filter((e, i, all) => e !== 'content' || all[i - 1] !== 'content'),
    ).toEqual(['start', 'thinking', 'memories', 'content', 'complete']);
    expect(events[0]).toMatchObject({
      agent_id: agentId,
      user_message_id: expect.any(String),
      timestamp: expect.any(String),
    });
    expect(events[2]!.items).toEqual([expect.objectContaining({ type: 'semantic', title: 'Spring' })]);
    const content = events.filter((e) => e.event === 'content');
    expect(content.length).toBeGreaterThan(1);
    expect(content.map((e) => e.delta).join('')).toBe('春眠不觉晓，处处闻啼鸟。');
    const complete = events.at(-1)!;
    expect(complete).toMatchObject({
      message: '春眠不觉晓，处处闻啼鸟。',
      assistant_message_id: expect.any(String),
      usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 },
    });

    const messages = await api.get(`/agents/${agentId}/messages`);
    expect(messages.json.items.map((m: { id: string }) => m.id)).toEqual([
      events[0]!.user_message_id,
      complete.assistant_message_id,
    ]);
  });

  it('a client closing the connection cancels the upstream request and keeps the partial answer', async () => {
    const { api, login } = await restUser(server, 'streamabort');
    const agentId = (await api.post('/agents', { name: 'slow' })).json.id;
    const full = 'one two three four five six seven eight nine ten';
    const cancelledBefore = harness.openai.streamsCancelled;
    // The provider goes quiet after one chunk: only the client's leaving can end its request.
    harness.openai.replies.push({ text: full, chunkSize: 4, stallAfterChunks: 1 });
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/v1/agents/${agentId}/stream-chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${login.access_token}` },
      body: JSON.stringify({ message: 'count slowly' }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('"event":"content"')) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();

    await expect
      .poll(async () => (await api.get(`/agents/${agentId}/messages`)).json.items.length, { timeout: 10_000 })
      .toBe(2);
    const [, assistant] = (await api.get(`/agents/${agentId}/messages`)).json.items;
    expect(assistant).toMatchObject({ role: 'assistant', status: 'interrupted', error: null });
    expect(full.startsWith(assistant.content)).toBe(true);
    expect(assistant.content.length).toBeLessThan(full.length);
    await expect.poll(() => harness.openai.streamsCancelled, { timeout: 10_000 }).toBe(cancelledBefore + 1);
  });

  it('ends with an error event and [DONE] when the provider fails', async () => {
    const { api, login } = await restUser(server, 'streamfail');
    const agentId = (await api.post('/agents', { name: 'x' })).json.id;
    harness.openai.replies.push({ status: 401 });
    const res = await fetch(`${server.url}/api/v1/agents/${agentId}/stream-chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${login.access_token}` },
      body: JSON.stringify({ message: 'hello' }),
    });
    const lines = await readSse(res);
    expect(lines.at(-1)).toBe('[DONE]');
    expect(JSON.parse(lines.at(-2)!)).toMatchObject({ event: 'error', code: 'PRECONDITION_FAILED' });
  });

  it('answers plain JSON errors before the stream opens: 401, 404 for another user’s agent, 400', async () => {
    const alice = await restUser(server, 'sse-alice');
    const mallory = await restUser(server, 'sse-mallory');
    const agentId = (await alice.api.post('/agents', { name: 'private' })).json.id;
    expectRestError(
      await restClient(server).post(`/agents/${agentId}/stream-chat`, { message: 'hi' }),
      401,
      'UNAUTHORIZED',
    );
    expectRestError(
      await mallory.api.post(`/agents/${agentId}/stream-chat`, { message: 'hi' }),
      404,
      'NOT_FOUND',
    );
    const bad = await alice.api.post(`/agents/${agentId}/stream-chat`, { message: '' });
    expectRestError(bad, 400, 'BAD_REQUEST');
    expect(bad.json.error.details.field_errors).toHaveProperty('message');
    expect((await alice.api.get(`/agents/${agentId}/messages`)).json.items).toEqual([]);
  });
});

describe('memory events over SSE', () => {
  it('streams the agent’s job events in snake_case, after checking who asks', async () => {
    const { api, login } = await restUser(server, 'events');
    const agentId = (await api.post('/agents', { name: 'watched' })).json.id;
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/v1/agents/${agentId}/memories/events`, {
      headers: { authorization: `Bearer ${login.access_token}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const queued = await api.post(`/agents/${agentId}/memories/ingest`, { text: 'I moved to Lisbon.' });
    let text = '';
    while (!text.includes('"event":"queued"')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const event = JSON.parse(/data: (\{.*"event":"queued".*\})/.exec(text)![1]!);
    expect(event).toEqual({
      event: 'queued',
      job_id: queued.json.job_id,
      agent_id: agentId,
      at: expect.any(String),
    });

    const mallory = await restUser(server, 'events-mallory');
    expectRestError(await mallory.api.get(`/agents/${agentId}/memories/events`), 404, 'NOT_FOUND');
    expectRestError(await restClient(server).get(`/agents/${agentId}/memories/events`), 401, 'UNAUTHORIZED');
  });
});

describe('memories over REST', () => {
  it('creates, gets, lists, updates, searches and deletes, in snake_case', async () => {
    const { api } = await restUser(server, 'memories');
    const agentId = (await api.post('/agents', { name: 'mem' })).json.id;
    const base = `/agents/${agentId}/memories`;

    const event = await api.post(`${base}/episodic`, {
      occurred_at: '2026-03-01T10:00:00.000Z',
      event_type: 'meeting',
      actor: 'user',
      summary: 'Planned the launch with Alice',
    });
    expect(event.status).toBe(201);
    expect(event.json).toMatchObject({
      type: 'episodic',
      agent_id: agentId,
      occurred_at: '2026-03-01T10:00:00.000Z',
      event_type: 'meeting',
      embedding_status: 'pending',
      last_modified: { operation: 'created', by: 'user' },
    });

    const batch = await api.post(`${base}/semantic/batch`, {
      items: [
        { name: 'Launch date', summary: 'The launch is on March 15' },
        { name: 'Coffee', summary: 'The user drinks espresso' },
      ],
    });
    expect(batch.status).toBe(201);
    expect(batch.json.ids).toHaveLength(2);
    const [launchId] = batch.json.ids as string[];

    const fact = await api.get(`${base}/semantic/${launchId}`);
    expect(fact.status).toBe(200);
    expect(fact.json).toMatchObject({ id: launchId, name: 'Launch date', agent_id: agentId });

    const patched = await api.patch(`${base}/semantic/${launchId}`, {
      summary: 'The launch moved to March 22',
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      summary: 'The launch moved to March 22',
      last_modified: { operation: 'updated' },
    });

    const list = await api.get(`${base}/semantic?limit=10`);
    expect(list.status).toBe(200);
    expect(list.json.items).toHaveLength(2);
    expect(list.json).toHaveProperty('next_cursor');

    const search = await api.post(`${base}/search`, { query: 'launch March', explain: true, limit: 5 });
    expect(search.status).toBe(200);
    expect(search.json.items[0]).toMatchObject({
      item: { id: launchId, type: 'semantic' },
      score: expect.any(Number),
    });
    expect(search.json.items[0].explain).toBeDefined();
    expect(search.json.methods).toEqual(expect.arrayContaining(['fulltext']));

    const history = await api.get(`${base}/history/${launchId}`);
    expect(history.status).toBe(200);
    expect(history.json.map((h: { operation: string }) => h.operation)).toEqual(['updated']);
    expect(history.json[0]).toMatchObject({ memory_type: 'semantic', item_id: launchId, actor: 'user' });

    const core = await api.put(`${base}/core/human`, { value: 'Name: Grace.' });
    expect(core.status).toBe(200);
    const appended = await api.post(`${base}/core/human/append`, { text: 'Likes tea.' });
    expect(appended.json.value).toContain('Likes tea.');
    const blocks = await api.get(`${base}/core`);
    expect(blocks.json.find((b: { label: string }) => b.label === 'human')).toMatchObject({
      limit: 5000,
      remaining: 5000 - appended.json.value.length,
      updated_at: expect.any(String),
    });

    expect((await api.delete(`${base}/semantic/${launchId}`)).status).toBe(204);
    expectRestError(await api.get(`${base}/semantic/${launchId}`), 404, 'NOT_FOUND');
    const stats = await api.get(`${base}/stats`);
    expect(stats.json.counts).toMatchObject({ episodic: 1, semantic: 1 });
  });

  it('keeps vault values out of every read but reveal', async () => {
    const { api } = await restUser(server, 'vault');
    const agentId = (await api.post('/agents', { name: 'v' })).json.id;
    const base = `/agents/${agentId}/memories/vault`;
    const created = await api.post(base, {
      entry_type: 'password',
      caption: 'Wi-Fi',
      sensitivity: 'high',
      secret_value: 'correct horse battery staple',
    });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain('correct horse');
    expect((await api.get(`${base}/${created.json.id}`)).text).not.toContain('correct horse');
    expect((await api.get(base)).text).not.toContain('correct horse');
    const revealed = await api.post(`${base}/${created.json.id}/reveal`);
    expect(revealed.status).toBe(200);
    expect(revealed.json).toEqual({ id: created.json.id, secret_value: 'correct horse battery staple' });
  });

  it('queues an ingest (202) whose job is readable', async () => {
    const { api } = await restUser(server, 'ingest');
    const agentId = (await api.post('/agents', { name: 'i' })).json.id;
    const queued = await api.post(`/agents/${agentId}/memories/ingest`, {
      text: 'I moved to Lisbon.',
      source: 'note',
    });
    expect(queued.status).toBe(202);
    expect(queued.json).toMatchObject({ job_id: expect.any(String), status: 'queued' });
    const job = await api.get(`/agents/${agentId}/memories/jobs/${queued.json.job_id}`);
    expect(job.status).toBe(200);
    expect(job.json).toMatchObject({
      job_id: queued.json.job_id,
      agent_id: agentId,
      status: 'queued',
      attempts: 0,
    });
    const jobs = await api.get(`/agents/${agentId}/memories/jobs`);
    expect(jobs.json.items.map((j: { job_id: string }) => j.job_id)).toEqual([queued.json.job_id]);
  });
});

describe('errors over REST', () => {
  it('401 without a token, or with a bad one', async () => {
    expectRestError(await restClient(server).get('/agents'), 401, 'UNAUTHORIZED');
    expectRestError(await restClient(server, 'not-a-token').get('/agents'), 401, 'UNAUTHORIZED');
  });

  it('404 for another user’s agent and its memories, and nothing changes', async () => {
    const alice = await restUser(server, 'alice');
    const mallory = await restUser(server, 'mallory');
    const agentId = (await alice.api.post('/agents', { name: 'secret agent' })).json.id;
    const fact = (await alice.api.post(`/agents/${agentId}/memories/semantic`, { name: 'n', summary: 's' }))
      .json;
    for (const res of [
      await mallory.api.get(`/agents/${agentId}`),
      await mallory.api.put(`/agents/${agentId}`, { name: 'pwned' }),
      await mallory.api.delete(`/agents/${agentId}`),
      await mallory.api.post(`/agents/${agentId}/chat`, { message: 'hi' }),
      await mallory.api.get(`/agents/${agentId}/messages`),
      await mallory.api.get(`/agents/${agentId}/memories/semantic/${fact.id}`),
      await mallory.api.delete(`/agents/${agentId}/memories/semantic/${fact.id}`),
      await mallory.api.post(`/agents/${agentId}/memories/search`, { query: 's' }),
    ]) {
      expectRestError(res, 404, 'NOT_FOUND');
    }
    expect((await alice.api.get(`/agents/${agentId}`)).json.name).toBe('secret agent');
  });

  it('400 with field errors in REST names for bad bodies, and for unreadable JSON', async () => {
    const { api } = await restUser(server, 'badinput');
    const bad = await api.post('/agents', { name: '', model_config: { provider: 'nope', model: 'm' } });
    expectRestError(bad, 400, 'BAD_REQUEST');
    expect(Object.keys(bad.json.error.details.field_errors).sort()).toEqual([
      'model_config.provider',
      'name',
    ]);
    expect(bad.json.error.message).toContain('model_config.provider');
    expect((await api.get('/agents')).json.total).toBe(0); // nothing half-written

    const agentId = (await api.post('/agents', { name: 'ok' })).json.id;
    const badItem = await api.post(`/agents/${agentId}/memories/episodic/batch`, {
      items: [
        { event_type: 'e', summary: 's' },
        { event_type: 'e', summary: 's', occurred_at: 'yesterday' },
      ],
    });
    expectRestError(badItem, 400, 'BAD_REQUEST');
    expect(Object.keys(badItem.json.error.details.field_errors)).toEqual(['items.1.occurred_at']);
    expect((await api.get(`/agents/${agentId}/memories/episodic`)).json.items).toEqual([]);

    // Booleans stay strict: "false" is not read as true (over REST, nor for tRPC callers after it).
    const flag = await api.put(`/agents/${agentId}`, { is_active: 'false' });
    expectRestError(flag, 400, 'BAD_REQUEST');
    expect(Object.keys(flag.json.error.details.field_errors)).toEqual(['is_active']);
    const viaTrpc = await fetch(`${server.url}/trpc/agents.update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: api.authorization },
      body: JSON.stringify({ json: { id: agentId, isActive: 'false' } }),
    });
    expect(viaTrpc.status).toBe(400);
    expect((await api.get(`/agents/${agentId}`)).json.is_active).toBe(true);
    expectRestError(
      await api.post(`/agents/${agentId}/memories/search`, { query: 'x', explain: 'no' }),
      400,
      'BAD_REQUEST',
    );

    expectRestError(await api.post('/agents', '{"name": '), 400, 'PARSE_ERROR');
    expectRestError(await api.get('/agents/not-a-uuid'), 400, 'BAD_REQUEST');
    expectRestError(await api.get('/no/such/route'), 404, 'NOT_FOUND');
  });

  it('405 with Allow for a route that exists with other methods, the streams included', async () => {
    const { login } = await restUser(server, 'methods');
    const token = login.access_token as string;
    const call = (method: string, path: string) =>
      fetch(`${server.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const id = '0190a6f0-0000-7000-8000-000000000001';
    for (const [method, path, allow] of [
      ['PATCH', '/agents', 'GET, POST'],
      ['POST', `/agents/${id}`, 'GET, PUT, DELETE'],
      ['DELETE', '/auth/login', 'POST'],
      ['GET', `/agents/${id}/stream-chat`, 'POST'],
      ['POST', `/agents/${id}/memories/events`, 'GET'],
    ] as const) {
      const res = await call(method, path);
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe('METHOD_NOT_SUPPORTED');
    }
    // A path that exists with no method at all stays a 404.
    expect((await call('GET', '/agents/x/y/z')).status).toBe(404);
  });

  it('409 for a taken username', async () => {
    const { registered } = await restUser(server, 'taken');
    const again = await restClient(server).post('/auth/register', {
      username: registered.username,
      email: `other-${registered.email}`,
      password: 'testpassword123',
    });
    expectRestError(again, 409, 'CONFLICT');
  });
});

describe('request budgets over REST', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({
      env: { RATE_LIMIT_PER_USER: 3, RATE_LIMIT_AUTH_PER_ADDRESS: 5, RATE_LIMIT_ANONYMOUS_PER_ADDRESS: 3 },
    });
  });
  afterAll(async () => {
    await limited.close();
  });

  it('429 with Retry-After past the per-user budget', async () => {
    const { api } = await restUser(limited, 'budget'); // register + login: auth budget
    for (let i = 0; i < 3; i++) expect((await api.get('/agents')).status).toBe(200);
    const over = await api.get('/agents');
    expectRestError(over, 429, 'TOO_MANY_REQUESTS');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(over.json.error.details.retry_after_seconds).toBe(Number(over.headers.get('retry-after')));
  });

  it('counts calls without valid credentials against the address: REST, docs and the queue dashboard', async () => {
    const anonymous = restClient(limited, 'garbage-token');
    const statuses: number[] = [];
    statuses.push((await anonymous.get('/agents')).status);
    statuses.push((await fetch(`${limited.url}/admin/queues`)).status);
    statuses.push((await fetch(`${limited.url}/api/openapi.json`)).status);
    const over = await anonymous.get('/agents');
    statuses.push(over.status);
    expect(statuses).toEqual([401, 401, 200, 429]);
    expectRestError(over, 429, 'TOO_MANY_REQUESTS');
    expect((await fetch(`${limited.url}/api/openapi.json`)).status).toBe(429);
    const dashboard = await fetch(`${limited.url}/admin/queues`);
    expect(dashboard.status).toBe(429);
    expect(Number(dashboard.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
