import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import createClient from 'openapi-fetch';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, generateRestArtifacts } from '../../scripts/openapi-artifacts.js';
import type { paths } from '../../client/rest/schema.js';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import type { TestServer } from '../support/server.js';

let harness: ChatHarness;
let server: TestServer;
beforeAll(async () => {
  harness = await startChatHarness();
  server = harness.server;
});
afterAll(async () => {
  await harness?.close();
});

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
  components: { securitySchemes: Record<string, unknown> };
}

describe('the OpenAPI document', () => {
  let doc: Doc;
  beforeAll(async () => {
    const res = await fetch(`${server.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  });

  it('is valid OpenAPI 3.1 by a third-party validator', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as unknown as Parameters<typeof validate>[0]);
    expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid');
  });

  it('declares bearer auth, and requires it everywhere but sign-up and sign-in', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const open: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!op.security?.length) open.push(`${method.toUpperCase()} ${path}`);
        else expect(op.responses).toHaveProperty('401');
        expect(op.responses).toHaveProperty('429');
      }
    }
    expect(open.sort()).toEqual(['POST /auth/login', 'POST /auth/register']);
  });

  it('has the design document’s routes, in snake_case, with their statuses', () => {
    const route = (method: string, path: string) => doc.paths[path]?.[method];
    expect(route('post', '/auth/register')?.responses).toHaveProperty('201');
    expect(route('post', '/auth/login')?.responses).toHaveProperty('200');
    expect(route('post', '/agents')?.responses).toHaveProperty('201');
    for (const m of ['get', 'put']) expect(route(m, '/agents/{id}')?.responses).toHaveProperty('200');
    expect(route('delete', '/agents/{id}')?.responses).toHaveProperty('204');
    expect(route('post', '/agents/{agent_id}/chat')).toBeDefined();
    expect(route('get', '/agents/{agent_id}/messages')).toBeDefined();
    expect(route('post', '/agents/{agent_id}/stream-chat')?.responses).toHaveProperty('200');
    expect(route('get', '/agents/{agent_id}/memories/events')?.responses).toHaveProperty('200');
    expect(route('post', '/agents/{agent_id}/memories/ingest')?.responses).toHaveProperty('202');
    for (const type of ['episodic', 'semantic', 'procedural', 'resource', 'vault']) {
      expect(route('post', `/agents/{agent_id}/memories/${type}`)?.responses).toHaveProperty('201');
      expect(route('get', `/agents/{agent_id}/memories/${type}/{id}`)).toBeDefined();
      expect(route('patch', `/agents/{agent_id}/memories/${type}/{id}`)).toBeDefined();
      expect(route('delete', `/agents/{agent_id}/memories/${type}/{id}`)?.responses).toHaveProperty('204');
    }
    const text = JSON.stringify(doc.paths);
    expect(text).toContain('"system_prompt"');
    expect(text).toContain('"access_token"');
    expect(text).not.toMatch(/"(systemPrompt|accessToken|agentId|createdAt)"/);
  });

  it('is the committed client/rest/openapi.json, and the committed types are generated from it', async () => {
    const { json, types } = await generateRestArtifacts();
    expect(JSON.parse(json)).toEqual(doc);
    // Out of date? Run `npm run openapi` and commit the result.
    expect(readFileSync(ARTIFACTS.json, 'utf8')).toBe(json);
    expect(readFileSync(ARTIFACTS.types, 'utf8')).toBe(types);
  });

  it('has interactive docs at /docs', async () => {
    const page = await fetch(`${server.url}/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const init = await fetch(`${server.url}/docs/swagger-ui-init.js`);
    expect(init.status).toBe(200);
    expect(await init.text()).toContain('/api/openapi.json');
    expect((await fetch(`${server.url}/docs/swagger-ui-bundle.js`)).status).toBe(200);
  });
});

describe('a client generated from the document (openapi-typescript + openapi-fetch)', () => {
  it('runs the integration flow with typed requests and responses', async () => {
    const anonymous = createClient<paths>({ baseUrl: `${server.url}/api/v1` });
    const username = `typed_${Date.now().toString(36)}`;
    const registered = await anonymous.POST('/auth/register', {
      body: { username, email: `${username}@example.com`, password: 'testpassword123' },
    });
    expect(registered.response.status).toBe(201);
    const login = await anonymous.POST('/auth/login', { body: { username, password: 'testpassword123' } });
    expect(login.data?.token_type).toBe('bearer');

    const api = createClient<paths>({
      baseUrl: `${server.url}/api/v1`,
      headers: { authorization: `Bearer ${login.data!.access_token}` },
    });
    const created = await api.POST('/agents', {
      body: { name: 'typed agent', agent_type: 'assistant', system_prompt: 'Be brief.' },
    });
    expect(created.response.status).toBe(201);
    const id = created.data!.id;
    const got = await api.GET('/agents/{id}', { params: { path: { id } } });
    expect(got.data?.system_prompt).toBe('Be brief.');
    const updated = await api.PUT('/agents/{id}', {
      params: { path: { id } },
      body: { description: 'typed' },
    });
    expect(updated.data?.description).toBe('typed');

    // The stream's events are what the document says they are (issue 16: it said `type`, the wire `event`).
    harness.openai.replies.push({ text: 'Streamed.' });
    const streamed = await fetch(`${server.url}/api/v1/agents/${id}/stream-chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.data!.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'stream it' }),
    });
    const events = (await streamed.text())
      .split('\n')
      .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
      .map((l) => JSON.parse(l.slice(6)) as { event: string });
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
      paths: Record<
        string,
        { post: { responses: { 200: { content: Record<string, { schema: object }> } } } }
      >;
    };
    const schema =
      doc.paths['/agents/{agent_id}/stream-chat']!.post.responses[200].content['text/event-stream']!.schema;
    const check = new Ajv2020({ strict: false }).compile(schema);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['start', 'content', 'complete']));
    for (const e of events)
      expect(check(e) ? 'valid' : JSON.stringify(check.errors), JSON.stringify(e)).toBe('valid');

    harness.openai.replies.push({ text: 'Hi from the fake.' });
    const chat = await api.POST('/agents/{agent_id}/chat', {
      params: { path: { agent_id: id } },
      body: { message: 'hello' },
    });
    expect(chat.data?.response).toBe('Hi from the fake.');
    const messages = await api.GET('/agents/{agent_id}/messages', { params: { path: { agent_id: id } } });
    expect(messages.data?.items.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);

    const fact = await api.POST('/agents/{agent_id}/memories/semantic', {
      params: { path: { agent_id: id } },
      body: { name: 'Typed', summary: 'Typed clients work' },
    });
    expect(fact.response.status).toBe(201);
    const found = await api.POST('/agents/{agent_id}/memories/search', {
      params: { path: { agent_id: id } },
      body: { query: 'typed clients' },
    });
    expect(found.data?.items[0]?.item.id).toBe(fact.data!.id);

    const deleted = await api.DELETE('/agents/{id}', { params: { path: { id } } });
    expect(deleted.response.status).toBe(204);
    const gone = await api.GET('/agents/{id}', { params: { path: { id } } });
    expect(gone.response.status).toBe(404);
    expect(gone.error?.error.code).toBe('NOT_FOUND');
  });
});
