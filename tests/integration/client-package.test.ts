import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.js';
import { runCommand } from '../support/run.js';
import { fillPlaceholders, readmeBlocks } from '../support/readme.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

const root = resolve(import.meta.dirname, '../..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};

/** A program a user writes in their own project, against the installed package. */
const consumerSource = (opts: { url: string; apiKey: string; llmUrl: string }) => `
import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';
import { createMirixClient, type RouterOutputs } from '@mirix-ts/client';
import { mirixMemoryTools, withMirixMemory, type MirixCallMetadata } from '@mirix-ts/client/ai-sdk';
import type { paths } from '@mirix-ts/client/rest';

const client = createMirixClient({ url: ${JSON.stringify(opts.url)}, apiKey: ${JSON.stringify(opts.apiKey)} });
const agent: RouterOutputs['agents']['create'] = await client.agents.create.mutate({ name: 'from the package' });
await client.memory.semantic.create.mutate({ agentId: agent.id, name: 'Pet', summary: 'The user has a cat called Miso' });
if (agent.id.length === 0) {
  // @ts-expect-error the router's input types reach this project: a misspelt field does not compile
  await client.agents.create.mutate({ nam: 'typo' });
}
type SearchBody = paths['/agents/{agent_id}/memories/search']['post']['requestBody'];
const body: NonNullable<SearchBody>['content']['application/json'] = { query: 'cat' };

const openai = createOpenAI({ baseURL: ${JSON.stringify(opts.llmUrl)}, apiKey: 'test' });
const result = await generateText({
  model: withMirixMemory(openai.chat('gpt-fake'), { client, agentId: agent.id }),
  prompt: "What is my cat's name?",
});
const meta = result.providerMetadata?.mirix as unknown as MirixCallMetadata;
const tools = Object.keys(mirixMemoryTools({ client, agentId: agent.id }));
const found = await client.memory.search.query({ agentId: agent.id, query: body.query ?? '' });
console.log(JSON.stringify({ agentId: agent.id, text: result.text, jobId: meta.jobId, memories: meta.memories.length, tools, hits: found.items.length }));
`;

describe('the client package (npm pack, installed outside the repository)', () => {
  let server: TestServer;
  let fake: FakeOpenAI;
  let work: string;
  let project: string;

  beforeAll(async () => {
    server = await startTestServer();
    fake = await startFakeOpenAI({ dim: 8 });
    work = mkdtempSync(join(tmpdir(), 'mirix-client-pkg-'));
    project = join(work, 'consumer');
  });
  afterAll(async () => {
    await fake?.close();
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('builds, packs, installs with only client dependencies, type-checks and runs against the server', async () => {
    const built = await runCommand('npm', ['run', '--silent', 'build:client'], {});
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    const packed = await runCommand(
      'npm',
      ['pack', '--pack-destination', work, '--json'],
      {},
      { cwd: join(root, 'client') },
    );
    expect(packed.code).toBe(0);
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const tarball = join(work, filename);

    const pin = (name: string) => `${name}@${rootPkg.devDependencies[name]}`;
    await runCommand('mkdir', ['-p', project], {});
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const installed = await runCommand(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        tarball,
        pin('ai'),
        pin('@ai-sdk/provider'),
        pin('@ai-sdk/openai'),
        pin('@types/node'),
      ],
      {},
      { cwd: project },
    );
    expect(installed.code, installed.stderr).toBe(0);
    // The package brings what a client needs, not the server's ORM, queue, database or logger.
    const modules = readdirSync(join(project, 'node_modules'));
    for (const serverOnly of ['@mikro-orm', 'bullmq', 'pg', 'ioredis', 'pino', 'argon2', 'pgvector']) {
      expect(modules).not.toContain(serverOnly);
    }
    expect(existsSync(join(project, 'node_modules/.bin/mirix-mcp'))).toBe(true);

    const user = await signUp(server, 'pkg');
    const { key } = await user.client.apiKeys.create.mutate({ name: 'package test' });
    writeFileSync(
      join(project, 'consumer.ts'),
      consumerSource({ url: server.url, apiKey: key, llmUrl: fake.url }),
    );
    // The README's typed-client and AI SDK snippets, as written there.
    const [readmeClient, readmeAiSdk] = readmeBlocks('Use it from your agent').filter((b) => b.lang === 'ts');
    const fill = (code: string) => fillPlaceholders(code, { url: server.url, apiKey: key });
    writeFileSync(join(project, 'readme-client.ts'), fill(readmeClient!.code));
    writeFileSync(join(project, 'readme-ai-sdk.ts'), fill(readmeAiSdk!.code));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          types: ['node'],
          outDir: 'out',
          // As `tsc --init` sets it: third-party declarations (the AI SDK's, tRPC's) are not
          // checked. The @ts-expect-error in consumer.ts fails the build if ours were any.
          skipLibCheck: true,
        },
        files: ['consumer.ts', 'readme-client.ts', 'readme-ai-sdk.ts'],
      }),
    );
    const compiled = await runCommand(join(root, 'node_modules/.bin/tsc'), ['-p', project], {});
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);

    fake.replies.push({ text: 'Your cat is called Miso.' });
    const ran = await runCommand('node', [join(project, 'out/consumer.js')], {});
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const output = JSON.parse(ran.stdout) as {
      agentId: string;
      text: string;
      jobId: string;
      memories: number;
      tools: string[];
      hits: number;
    };
    expect(output).toMatchObject({
      text: 'Your cat is called Miso.',
      tools: ['searchMemory', 'addMemory'],
      hits: 1,
    });
    expect(output.memories).toBeGreaterThan(0);
    const job = await user.client.memory.job.query({ agentId: output.agentId, jobId: output.jobId });
    expect(job.jobId).toBe(output.jobId);
    const system = (fake.chatRequests.at(-1)!.messages as { role: string; content: string }[])[0]!;
    expect(system.content).toContain('- Pet: The user has a cat called Miso');

    const env = { MIRIX_API_KEY: key, OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test' };
    const client = await runCommand('node', [join(project, 'out/readme-client.js')], env);
    expect(client.stderr).toBe('');
    expect(client.stdout.trim()).toBe('The user lives in Porto');
    fake.replies.push({ text: 'You live in Porto.' });
    const aiSdk = await runCommand('node', [join(project, 'out/readme-ai-sdk.js')], env);
    expect(aiSdk.stderr).toBe('');
    expect(aiSdk.stdout).toMatch(/^You live in Porto\./);
    expect(aiSdk.stdout).toMatch(/jobId: '[0-9a-f-]{36}'/);
    const request = fake.chatRequests.at(-1)!.messages as { role: string; content: string }[];
    expect(request[0]!.content).toContain('- Home: The user lives in Porto');

    // The MCP bridge's command is installed and explains itself.
    const bin = await runCommand(join(project, 'node_modules/.bin/mirix-mcp'), [], {});
    expect(bin.code).toBe(2);
    expect(bin.stderr).toContain('usage: mirix-mcp --url');
  }, 300_000); // a build, a pack, an install and a compile, on a busy 2-core machine
});
