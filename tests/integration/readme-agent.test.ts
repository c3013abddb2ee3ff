import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillPlaceholders, readmeBlocks } from '../support/readme.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

interface McpConfig {
  mcpServers: Record<
    string,
    {
      url?: string;
      headers?: Record<string, string>;
      command?: string;
      args?: string[];
      env?: Record<string, string>;
    }
  >;
}

describe('README "Use it from your agent": the MCP configurations', () => {
  let server: TestServer;
  let configs: McpConfig['mcpServers'][string][];
  let apiKey: string;
  let agentId: string;

  beforeAll(async () => {
    server = await startTestServer();
    const user = await signUp(server, 'readme');
    apiKey = (await user.client.apiKeys.create.mutate({ name: 'readme' })).key;
    const agent = await user.client.agents.create.mutate({ name: 'readme agent' });
    agentId = agent.id;
    await user.client.memory.semantic.create.mutate({
      agentId,
      name: 'Home',
      summary: 'The user lives in Porto',
    });
    configs = readmeBlocks('Use it from your agent')
      .filter((b) => b.lang === 'json')
      .map(
        (b) =>
          (JSON.parse(fillPlaceholders(b.code, { url: server.url, apiKey })) as McpConfig).mcpServers.mirix!,
      );
  });
  afterAll(async () => {
    await server?.close();
  });

  async function searchThrough(client: Client) {
    const result = (await client.callTool({
      name: 'search_memories',
      arguments: { agentId, query: 'where does the user live?' },
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    return (result.structuredContent as { items: { item: { summary: string } }[] }).items[0]!.item.summary;
  }

  it('the Streamable HTTP configuration (Cursor) connects and searches', async () => {
    const config = configs.find((c) => c.url)!;
    const client = new Client({ name: 'cursor-like', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(config.url!), { requestInit: { headers: config.headers } }),
    );
    expect(await searchThrough(client)).toBe('The user lives in Porto');
    await client.close();
  });

  it('the stdio configuration (Claude Desktop) launches the bridge, which connects and searches', async () => {
    const config = configs.find((c) => c.command)!;
    const client = new Client({ name: 'claude-desktop-like', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: config.command!,
        args: config.args,
        env: { PATH: process.env.PATH ?? '', ...config.env },
        stderr: 'pipe',
      }),
    );
    expect(await searchThrough(client)).toBe('The user lives in Porto');
    await client.close();
  });
});
