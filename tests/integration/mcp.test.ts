import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

const TOOLS = [
  'add_memory',
  'append_core_memory',
  'delete_memory',
  'get_core_memory',
  'get_job',
  'get_memory',
  'list_agents',
  'list_memories',
  'replace_core_memory',
  'search_memories',
  'update_memory',
];

async function connect(server: TestServer, opts: { apiKey?: string; path?: string } = {}) {
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}${opts.path ?? '/mcp'}`), {
    requestInit: { headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {} },
  });
  await client.connect(transport);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The tool's structured result, failing the test with the tool's own error text if it failed. */
async function ok<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown>) {
  const result = await call(client, name, args);
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

function errorText(result: CallToolResult): string {
  expect(result.isError).toBe(true);
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

async function userWithKey(server: TestServer, name: string) {
  const user = await signUp(server, name);
  const { key } = await user.client.apiKeys.create.mutate({ name: 'mcp' });
  const agent = await user.client.agents.create.mutate({ name: `${name}'s agent` });
  return { ...user, key, agent };
}

/** Calls every tool once, successfully, as `owner`'s MCP client; returns the names called. */
async function exerciseEveryTool(client: Client, owner: Awaited<ReturnType<typeof userWithKey>>) {
  const agentId = owner.agent.id;
  const called: string[] = [];
  const run = async <T = Record<string, unknown>>(name: string, args: Record<string, unknown>) => {
    called.push(name);
    return ok<T>(client, name, args);
  };
  const agents = await run<{ items: { id: string }[] }>('list_agents', {});
  expect(agents.items.map((a) => a.id)).toContain(agentId);
  const { ids } = await owner.client.memory.procedural.createMany.mutate({
    agentId,
    items: [{ entryType: 'workflow', summary: 'How to water the ferns', steps: ['fill the can', 'water'] }],
  });
  const id = ids[0]!;
  const found = await run<{ items: { item: { id: string } }[] }>('search_memories', {
    agentId,
    query: 'how do I water the ferns?',
  });
  expect(found.items.map((i) => i.item.id)).toContain(id);
  const listed = await run<{ items: { id: string }[] }>('list_memories', { agentId, type: 'procedural' });
  expect(listed.items.map((i) => i.id)).toContain(id);
  expect(await run('get_memory', { agentId, type: 'procedural', id })).toMatchObject({
    id,
    type: 'procedural',
  });
  expect(
    await run('update_memory', {
      agentId,
      type: 'procedural',
      id,
      changes: { summary: 'Watering the ferns' },
    }),
  ).toMatchObject({ summary: 'Watering the ferns' });
  expect(await run('delete_memory', { agentId, type: 'procedural', id })).toEqual({ id, deleted: true });
  const { jobId } = await run<{ jobId: string }>('add_memory', {
    agentId,
    text: 'The ferns need water weekly',
  });
  expect(await run('get_job', { agentId, jobId })).toMatchObject({ jobId });
  await run('append_core_memory', { agentId, label: 'persona', text: ' I like ferns.' });
  await run('replace_core_memory', { agentId, label: 'persona', old: 'I like ferns.', new: 'I love ferns.' });
  const core = await run<{ blocks: { label: string; value: string }[] }>('get_core_memory', { agentId });
  expect(core.blocks.find((b) => b.label === 'persona')!.value).toContain('I love ferns.');
  return called.sort();
}

describe('MCP server at /mcp', () => {
  let server: TestServer;
  let alice: Awaited<ReturnType<typeof userWithKey>>;
  let bob: Awaited<ReturnType<typeof userWithKey>>;
  let mcp: Client;

  beforeAll(async () => {
    server = await startTestServer();
    alice = await userWithKey(server, 'alice');
    bob = await userWithKey(server, 'bob');
    mcp = await connect(server, { apiKey: alice.key });
  });
  afterAll(async () => {
    await mcp?.close();
    await server?.close();
  });

  it('lists every tool, with input schemas from the procedures and ISO dates as strings', async () => {
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    const search = tools.find((t) => t.name === 'search_memories')!;
    expect(search.description).toMatch(/question/);
    expect(search.inputSchema.required).toEqual(['agentId']);
    const props = search.inputSchema.properties as Record<string, { type?: string; maximum?: number }>;
    expect(props.limit).toMatchObject({ type: 'integer', maximum: 50 });
    const range = props.timeRange as unknown as { properties: Record<string, { format?: string }> };
    expect(range.properties.from).toMatchObject({ type: 'string', format: 'date-time' });
    expect(tools.find((t) => t.name === 'get_memory')!.annotations?.readOnlyHint).toBe(true);
    expect(tools.find((t) => t.name === 'delete_memory')!.annotations?.destructiveHint).toBe(true);
  });

  it('calls every tool over HTTP', async () => {
    expect(await exerciseEveryTool(mcp, alice)).toEqual(TOOLS);
  });

  it('lists agents, and searches, gets, updates and deletes a memory', async () => {
    const agents = await ok<{ items: { id: string }[] }>(mcp, 'list_agents', {});
    expect(agents.items.map((a) => a.id)).toEqual([alice.agent.id]);

    const { ids } = await alice.client.memory.semantic.createMany.mutate({
      agentId: alice.agent.id,
      items: [
        { name: 'Coffee', summary: 'Alice drinks her coffee black, without sugar' },
        { name: 'Garden', summary: 'Alice grows tomatoes in her garden' },
      ],
    });
    const agentId = alice.agent.id;
    const found = await ok<{ items: { item: { id: string; type: string }; score: number }[] }>(
      mcp,
      'search_memories',
      { agentId, query: 'how does Alice take her coffee?', types: ['semantic'] },
    );
    expect(found.items[0]!.item).toMatchObject({ id: ids[0], type: 'semantic' });

    const got = await ok<{ summary: string; createdAt: string }>(mcp, 'get_memory', {
      agentId,
      type: 'semantic',
      id: ids[0],
    });
    expect(got.summary).toBe('Alice drinks her coffee black, without sugar');
    expect(got.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    const updated = await ok<{ summary: string; name: string }>(mcp, 'update_memory', {
      agentId,
      type: 'semantic',
      id: ids[0],
      changes: { summary: 'Alice drinks her coffee with oat milk' },
    });
    expect(updated).toMatchObject({ name: 'Coffee', summary: 'Alice drinks her coffee with oat milk' });

    const listed = await ok<{ items: { id: string }[] }>(mcp, 'list_memories', { agentId, type: 'semantic' });
    expect(listed.items.map((i) => i.id).sort()).toEqual([...ids].sort());

    await ok(mcp, 'delete_memory', { agentId, type: 'semantic', id: ids[1] });
    const after = await alice.client.memory.semantic.list.query({ agentId });
    expect(after.items.map((i) => i.id)).toEqual([ids[0]]);
  });

  it('queues content for the memory managers and reports the job', async () => {
    const agentId = alice.agent.id;
    const queued = await ok<{ jobId: string; status: string }>(mcp, 'add_memory', {
      agentId,
      messages: [{ role: 'user', content: 'I moved to Porto last spring' }],
    });
    expect(queued.status).toBe('queued');
    const job = await ok<{ jobId: string; agentId: string }>(mcp, 'get_job', {
      agentId,
      jobId: queued.jobId,
    });
    expect(job).toMatchObject({ jobId: queued.jobId, agentId });
    const jobs = await alice.client.memory.jobs.query({ agentId });
    expect(jobs.items.map((j) => j.jobId)).toContain(queued.jobId);
  });

  it('reads and edits core memory', async () => {
    const agentId = alice.agent.id;
    await ok(mcp, 'append_core_memory', { agentId, label: 'human', text: 'Name: Alice.' });
    await ok(mcp, 'replace_core_memory', { agentId, label: 'human', old: 'Alice', new: 'Alice Smith' });
    const core = await ok<{ blocks: { label: string; value: string }[] }>(mcp, 'get_core_memory', {
      agentId,
    });
    expect(core.blocks.find((b) => b.label === 'human')!.value).toContain('Name: Alice Smith.');
    const missing = await call(mcp, 'replace_core_memory', { agentId, label: 'human', old: 'Bob', new: 'x' });
    expect(errorText(missing)).toMatch(/^BAD_REQUEST: /);
  });

  it('never returns a vault secret', async () => {
    const agentId = alice.agent.id;
    const secret = 'sk-live-4f9a8b7c6d5e';
    const item = await alice.client.memory.vault.create.mutate({
      agentId,
      entryType: 'api_key',
      caption: 'Stripe key for the shop',
      secretValue: secret,
    });
    const results = [
      await call(mcp, 'get_memory', { agentId, type: 'knowledge_vault', id: item.id }),
      await call(mcp, 'list_memories', { agentId, type: 'knowledge_vault' }),
      await call(mcp, 'search_memories', { agentId, query: 'Stripe key', types: ['knowledge_vault'] }),
    ];
    for (const result of results) {
      expect(result.isError).toBeFalsy();
      expect(JSON.stringify(result)).toContain('Stripe key for the shop');
      expect(JSON.stringify(result)).not.toContain(secret);
    }
  });

  it("answers another user's agent as not found, through tools and through the URL", async () => {
    const bobs = await connect(server, { apiKey: bob.key });
    const result = await call(bobs, 'search_memories', { agentId: alice.agent.id, query: 'coffee' });
    expect(errorText(result)).toBe('NOT_FOUND: Agent not found');
    const agents = await ok<{ items: { id: string }[] }>(bobs, 'list_agents', {});
    expect(agents.items.map((a) => a.id)).toEqual([bob.agent.id]);
    await bobs.close();

    await expect(connect(server, { apiKey: bob.key, path: `/mcp/agents/${alice.agent.id}` })).rejects.toThrow(
      /404|Agent not found/,
    );
  });

  it('reports invalid arguments as a tool error with the field, not a crash', async () => {
    const result = await call(mcp, 'search_memories', { agentId: alice.agent.id, query: 'x', limit: 0 });
    expect(errorText(result)).toMatch(/^BAD_REQUEST: Invalid input: limit: /);
    const badType = await call(mcp, 'get_memory', {
      agentId: alice.agent.id,
      type: 'dreams',
      id: alice.agent.id,
    });
    expect(errorText(badType)).toMatch(/^BAD_REQUEST: Invalid input: type: /);
  });

  it('refuses a request without a valid credential with 401', async () => {
    await expect(connect(server)).rejects.toThrow(/Authentication required/);
    await expect(connect(server, { apiKey: 'mrx_not-a-key' })).rejects.toThrow(/UNAUTHORIZED/);
    const res = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers malformed and oversized bodies with 400 and 413, not a crash', async () => {
    const post = (body: string) =>
      fetch(`${server.url}/mcp`, {
        method: 'POST',
        body,
        headers: {
          authorization: `Bearer ${alice.key}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
      });
    const malformed = await post('{"jsonrpc": "2.0", "method":');
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).not.toMatch(/at \w+ \(/);
    const huge = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { x: 'y'.repeat(2_000_000) } }),
    );
    expect(huge.status).toBe(413);
  });

  it('answers GET with 405, as a stateless endpoint', async () => {
    const res = await fetch(`${server.url}/mcp`, { headers: { authorization: `Bearer ${alice.key}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('fixes the agent by the URL: the tools then take no agentId', async () => {
    const fixed = await connect(server, { apiKey: alice.key, path: `/mcp/agents/${alice.agent.id}` });
    const { tools } = await fixed.listTools();
    expect(tools.map((t) => t.name)).not.toContain('list_agents');
    for (const tool of tools) expect(Object.keys(tool.inputSchema.properties ?? {})).not.toContain('agentId');
    await alice.client.memory.episodic.create.mutate({
      agentId: alice.agent.id,
      eventType: 'trip',
      summary: 'Alice flew to Lisbon for a conference',
    });
    const found = await ok<{ items: { item: { summary: string } }[] }>(fixed, 'search_memories', {
      query: 'when did Alice go to Lisbon?',
      types: ['episodic'],
    });
    expect(found.items[0]!.item.summary).toBe('Alice flew to Lisbon for a conference');
    // An agentId in the arguments cannot escape the URL's agent.
    const escaped = await ok<{ items: unknown[] }>(fixed, 'list_memories', {
      agentId: bob.agent.id,
      type: 'episodic',
    });
    expect(escaped.items).toHaveLength(1);
    await fixed.close();
  });
});

describe('MCP request budget', () => {
  let server: TestServer;
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a tool call over the budget with a tool error naming the wait, one unit per call', async () => {
    server = await startTestServer({ env: { RATE_LIMIT_PER_USER: 8 } });
    // An API key has a budget of its own: initialize and its `initialized` notice spend 2 of 8.
    const carol = await userWithKey(server, 'carol');
    const mcp = await connect(server, { apiKey: carol.key });
    const results: CallToolResult[] = [];
    for (let i = 0; i < 8; i++) results.push(await call(mcp, 'list_agents', {}));
    expect(results.map((r) => Boolean(r.isError))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
    ]);
    expect(errorText(results[6]!)).toMatch(/^TOO_MANY_REQUESTS: .*\(retry after \d+ s\)$/);
    await mcp.close();
  });
});

describe('MCP stdio bridge (npm run mcp:stdio)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** The documented command, launched as an MCP client launches a local server. */
  function bridge(args: string[], env: Record<string, string> = {}, silent = true) {
    return new StdioClientTransport({
      command: 'npm',
      // Without --silent, npm's banner comes first on stdout: MCP clients skip the non-JSON lines.
      args: ['run', ...(silent ? ['--silent'] : []), 'mcp:stdio', '--', ...args],
      env: { PATH: process.env.PATH ?? '', ...env },
      stderr: 'pipe',
    });
  }

  it("lists and calls every tool through the bridge, scoped to the key's user", async () => {
    const dave = await userWithKey(server, 'dave');
    const erin = await userWithKey(server, 'erin');
    await dave.client.memory.semantic.create.mutate({
      agentId: dave.agent.id,
      name: 'Pet',
      summary: 'Dave has a grey cat called Miso',
    });
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(bridge(['--url', server.url, '--api-key', dave.key]));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    expect(await exerciseEveryTool(client, dave)).toEqual(TOOLS);
    const found = await ok<{ items: { item: { summary: string } }[] }>(client, 'search_memories', {
      agentId: dave.agent.id,
      query: "what is the name of Dave's cat?",
    });
    expect(found.items[0]!.item.summary).toBe('Dave has a grey cat called Miso');
    const other = await call(client, 'get_core_memory', { agentId: erin.agent.id });
    expect(errorText(other)).toBe('NOT_FOUND: Agent not found');
    await client.close();
  });

  it('takes the key from MIRIX_API_KEY and the agent from --agent, run as plain `npm run mcp:stdio`', async () => {
    const frank = await userWithKey(server, 'frank');
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(
      bridge(['--url', server.url, '--agent', frank.agent.id], { MIRIX_API_KEY: frank.key }, false),
    );
    const core = await ok<{ blocks: { label: string }[] }>(client, 'get_core_memory', {});
    expect(core.blocks.map((b) => b.label)).toContain('human');
    await client.close();
  });

  it('answers with a clear error when the server refuses the key', async () => {
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await expect(client.connect(bridge(['--url', server.url, '--api-key', 'mrx_wrong']))).rejects.toThrow(
      /MIRIX-TS server at http:\/\/127\.0\.0\.1:\d+: .*UNAUTHORIZED/,
    );
    await client.close();
  });
});
