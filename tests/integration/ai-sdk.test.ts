import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MirixCallMetadata, mirixMemoryTools, withMirixMemory } from '../../client/ai-sdk.js';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.js';
import { signUp, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let fake: FakeOpenAI;
let user: Awaited<ReturnType<typeof signUp>>;
let agentId: string;
let catId: string;

/** A real @ai-sdk/openai provider, pointed at the loopback fake (Chat Completions API). */
const model = () => createOpenAI({ baseURL: fake.url, apiKey: 'test-key' }).chat('gpt-fake');

type WireMessage = { role: string; content: unknown };
const messagesOf = (request: Record<string, unknown> | undefined) =>
  (request?.messages ?? []) as WireMessage[];
const systemTexts = (request: Record<string, unknown> | undefined) =>
  messagesOf(request)
    .filter((m) => m.role === 'system')
    .map((m) => String(m.content));

beforeAll(async () => {
  server = await startTestServer();
  fake = await startFakeOpenAI({ dim: 8 });
  user = await signUp(server, 'aisdk');
  const agent = await user.client.agents.create.mutate({ name: 'assistant' });
  agentId = agent.id;
  await user.client.memory.core.append.mutate({ agentId, label: 'human', text: 'Name: Alice.' });
  const cat = await user.client.memory.semantic.create.mutate({
    agentId,
    name: 'Pet',
    summary: 'Alice has a grey cat called Miso',
  });
  catId = cat.id;
});
afterAll(async () => {
  await fake?.close();
  await server?.close();
});

describe('withMirixMemory (AI SDK middleware)', () => {
  it('gives generateText core memory and the relevant memories, then queues the exchange as a job', async () => {
    fake.replies.push({ text: 'Your cat is called Miso.' });
    const before = fake.chatRequests.length;
    const result = await generateText({
      model: withMirixMemory(model(), { client: user.client, agentId }),
      system: 'You are a friendly assistant.',
      prompt: "What is my cat's name?",
    });
    expect(result.text).toBe('Your cat is called Miso.');

    const [own, memory] = systemTexts(fake.chatRequests[before]);
    expect(own).toBe('You are a friendly assistant.');
    expect(memory).toContain('<core_memory>');
    expect(memory).toContain('Name: Alice.');
    expect(memory).toMatch(/<semantic_memory>\n- Pet: Alice has a grey cat called Miso\n/);
    expect(messagesOf(fake.chatRequests[before]).at(-1)).toEqual({
      role: 'user',
      content: "What is my cat's name?",
    });

    const meta = result.providerMetadata?.mirix as unknown as MirixCallMetadata;
    expect(meta.agentId).toBe(agentId);
    expect(meta.memories).toContainEqual({ id: catId, type: 'semantic' });
    expect(meta.jobId).toMatch(/^[0-9a-f-]{36}$/);
    const job = await user.client.memory.job.query({ agentId, jobId: meta.jobId! });
    expect(job.jobId).toBe(meta.jobId);
  });

  it('streams the answer as it comes, and reports the memories and the job at the finish', async () => {
    fake.replies.push({ text: 'Miso is a grey cat, as you told me.', chunkSize: 5 });
    const before = fake.chatRequests.length;
    const result = streamText({
      model: withMirixMemory(model(), { client: user.client, agentId }),
      prompt: 'Tell me about my cat',
    });
    const pieces: string[] = [];
    for await (const piece of result.textStream) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join('')).toBe('Miso is a grey cat, as you told me.');
    expect(fake.chatRequests[before]!.stream).toBe(true);
    expect(systemTexts(fake.chatRequests[before])[0]).toContain('Alice has a grey cat called Miso');

    const meta = (await result.providerMetadata)?.mirix as unknown as MirixCallMetadata;
    expect(meta.memories).toContainEqual({ id: catId, type: 'semantic' });
    const jobs = await user.client.memory.jobs.query({ agentId });
    expect(jobs.items.map((j) => j.jobId)).toContain(meta.jobId);
  });

  it('still answers when memory is unreachable, and says why through onError', async () => {
    fake.replies.push({ text: 'Hello!' });
    const other = await signUp(server, 'stranger');
    const failures: string[] = [];
    const result = await generateText({
      // Another user's client: the agent is not theirs, so retrieval and the write are refused.
      model: withMirixMemory(model(), {
        client: other.client,
        agentId,
        onError: (err, phase) => failures.push(`${phase}: ${(err as Error).message}`),
      }),
      prompt: 'Hi',
    });
    expect(result.text).toBe('Hello!');
    expect(failures).toEqual(['retrieve: Agent not found', 'remember: Agent not found']);
    expect((result.providerMetadata?.mirix as unknown as MirixCallMetadata).jobId).toBeNull();
  });

  it('does not remember a step that only calls tools', async () => {
    fake.replies.push({ toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"weather"}' }] });
    const jobsBefore = (await user.client.memory.jobs.query({ agentId })).items.length;
    const result = await generateText({
      model: withMirixMemory(model(), { client: user.client, agentId }),
      prompt: 'What is the weather?',
      tools: {},
    });
    expect(result.finishReason).toBe('tool-calls');
    expect((result.providerMetadata?.mirix as unknown as MirixCallMetadata).jobId).toBeNull();
    expect((await user.client.memory.jobs.query({ agentId })).items).toHaveLength(jobsBefore);
  });
});

describe('mirixMemoryTools', () => {
  it('lets the model search memory and add to it through tool calls', async () => {
    fake.replies.push(
      {
        toolCalls: [
          { id: 'call_s', name: 'searchMemory', arguments: '{"query":"cat name","types":["semantic"]}' },
          { id: 'call_a', name: 'addMemory', arguments: '{"content":"Alice asked about Miso again"}' },
        ],
      },
      { text: 'Your cat is Miso.' },
    );
    const before = fake.chatRequests.length;
    const result = await generateText({
      model: model(),
      tools: mirixMemoryTools({ client: user.client, agentId }),
      stopWhen: stepCountIs(3),
      prompt: "What is my cat's name?",
    });
    expect(result.text).toBe('Your cat is Miso.');
    const tools = (fake.chatRequests[before]!.tools as { function: { name: string } }[]).map(
      (t) => t.function.name,
    );
    expect(tools.sort()).toEqual(['addMemory', 'searchMemory']);
    const toolMessages = messagesOf(fake.chatRequests[before + 1]).filter((m) => m.role === 'tool');
    expect(String(toolMessages[0]!.content)).toContain('Alice has a grey cat called Miso');
    const added = JSON.parse(String(toolMessages[1]!.content)) as { jobId: string };
    const job = await user.client.memory.job.query({ agentId, jobId: added.jobId });
    expect(job.source).toBeDefined();
  });
});
