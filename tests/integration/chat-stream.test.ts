import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStreamEvent } from '../../shared/chat-events.js';
import { Message } from '../../server/modules/messages/message.entity.js';
import { type ChatHarness, startChatHarness } from '../support/chat-harness.js';
import type { FakeAnthropic } from '../support/fake-anthropic.js';
import type { FakeOpenAI } from '../support/fake-openai.js';
import { signUp, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

let harness: ChatHarness;
let server: TestServer;
let openaiFake: FakeOpenAI;
let anthropicFake: FakeAnthropic;
beforeAll(async () => {
  harness = await startChatHarness();
  ({ server, openai: openaiFake, anthropic: anthropicFake } = harness);
});
afterAll(async () => {
  await harness?.close();
});

type Client = Awaited<ReturnType<typeof signUp>>['client'];

/** Subscribes over SSE (the typed client's httpSubscriptionLink) and collects events until the end. */
function collect(
  client: Client,
  input: { agentId: string; message: string },
  stopAfter?: (e: ChatStreamEvent) => boolean,
) {
  return new Promise<ChatStreamEvent[]>((resolve, reject) => {
    const events: ChatStreamEvent[] = [];
    const sub = client.chat.stream.subscribe(input, {
      onData: (e) => {
        events.push(e);
        if (e.type === 'complete' || e.type === 'error' || stopAfter?.(e)) {
          sub.unsubscribe();
          resolve(events);
        }
      },
      onError: reject,
    });
  });
}

describe.each(['openai', 'anthropic'] as const)('chat.stream with %s', (provider) => {
  const replies = () => (provider === 'openai' ? openaiFake.replies : anthropicFake.replies);

  async function setup() {
    const owner = await signUp(server, `stream${provider}`);
    const agent = await owner.client.agents.create.mutate({
      name: 'streamer',
      modelConfig: { provider, model: `${provider}-test`, parameters: {} },
    });
    return { ...owner, agent };
  }

  it('yields start, thinking, memories, content deltas and complete, in order, and persists the turn', async () => {
    const { client, agent } = await setup();
    const fact = await client.memory.semantic.create.mutate({
      agentId: agent.id,
      name: 'Tea',
      summary: 'Grace drinks green tea',
    });
    replies().push({ text: 'Green tea, of course.', chunkSize: 5, usage: { prompt: 50, completion: 6 } });

    const events = await collect(client, { agentId: agent.id, message: 'What does Grace drink? tea' });
    const types = events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['start', 'thinking', 'memories']);
    expect(types.at(-1)).toBe('complete');
    expect(types.filter((t) => t === 'content').length).toBeGreaterThan(2);
    expect(types.slice(3, -1).every((t) => t === 'content')).toBe(true);

    const start = events[0] as Extract<ChatStreamEvent, { type: 'start' }>;
    expect(start.agentId).toBe(agent.id);
    expect(start.timestamp).toBeInstanceOf(Date);
    const memories = events[2] as Extract<ChatStreamEvent, { type: 'memories' }>;
    expect(memories.items.map((i) => i.id)).toContain(fact.id);
    const text = events.flatMap((e) => (e.type === 'content' ? [e.delta] : [])).join('');
    expect(text).toBe('Green tea, of course.');
    const complete = events.at(-1) as Extract<ChatStreamEvent, { type: 'complete' }>;
    expect(complete).toMatchObject({
      message: text,
      usage: { promptTokens: 50, completionTokens: 6, totalTokens: 56 },
    });

    const page = await client.messages.list.query({ agentId: agent.id });
    expect(page.items.map((m) => [m.id, m.role, m.content])).toEqual([
      [start.userMessageId, 'user', 'What does Grace drink? tea'],
      [complete.assistantMessageId, 'assistant', text],
    ]);
  });

  it('ends with an error event, and keeps the user message, when the provider fails', async () => {
    const { client, agent } = await setup();
    replies().push({ status: 503 });
    const events = await collect(client, { agentId: agent.id, message: 'hello?' });
    expect(events.map((e) => e.type)).toEqual(['start', 'thinking', 'memories', 'error']);
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE' });
    const rows = await server.orm.em.fork().find(Message, { agent: agent.id });
    expect(rows.map((r) => [r.role, r.metadata?.status])).toEqual([['user', 'failed']]);
  });
});

describe.each(['openai', 'anthropic'] as const)('chat.stream failures with %s', (provider) => {
  const fake = () => (provider === 'openai' ? openaiFake : anthropicFake);
  async function setup() {
    const owner = await signUp(server, 'interrupt');
    const agent = await owner.client.agents.create.mutate({
      name: 'slow',
      modelConfig: { provider, model: provider === 'openai' ? 'gpt-test' : 'claude-test', parameters: {} },
    });
    return { ...owner, agent };
  }

  it('an abort mid-stream cancels the upstream request and saves the partial answer as interrupted', async () => {
    const { client, agent } = await setup();
    const full = 'one two three four five six seven eight nine ten';
    const cancelledBefore = fake().streamsCancelled;
    // The provider goes quiet after one chunk: only the abort signal can end its request.
    fake().replies.push({ text: full, chunkSize: 4, stallAfterChunks: 1 });
    const events = await collect(
      client,
      { agentId: agent.id, message: 'count slowly' },
      (e) => e.type === 'content',
    );
    expect(events.at(-1)?.type).toBe('content');
    await waitFor(
      async () => (await server.orm.em.fork().count(Message, { agent: agent.id, role: 'assistant' })) > 0,
      true,
      10_000,
    );
    const assistant = await server.orm.em
      .fork()
      .findOneOrFail(Message, { agent: agent.id, role: 'assistant' });
    expect(assistant.metadata?.status).toBe('interrupted');
    expect(assistant.content.length).toBeGreaterThan(0);
    expect(assistant.content.length).toBeLessThan(full.length);
    expect(full.startsWith(assistant.content)).toBe(true);
    // The provider saw its request cancelled, not read to the end.
    await waitFor(() => Promise.resolve(fake().streamsCancelled), cancelledBefore + 1, 10_000);
  });

  it('a provider failing mid-stream ends the stream with an error event after the content so far', async () => {
    const { client, agent } = await setup();
    fake().replies.push({
      text: 'partial answer that breaks',
      chunkSize: 5,
      delayMs: 30,
      failAfterChunks: 2,
    });
    const events = await collect(client, { agentId: agent.id, message: 'go' });
    const types = events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['start', 'thinking', 'memories']);
    expect(types).toContain('content');
    expect(types.at(-1)).toBe('error');
  });

  it("gives NOT_FOUND for another user's agent, before any event, and saves nothing", async () => {
    const { agent } = await setup();
    const mallory = await signUp(server, 'mallory');
    await expect(collect(mallory.client, { agentId: agent.id, message: 'hi' })).rejects.toMatchObject({
      data: { code: 'NOT_FOUND', httpStatus: 404 },
    });
    // On the wire, tRPC's SSE protocol: the stream's only event is the error, and it closes.
    for (const [path, input] of [
      ['chat.stream', { agentId: agent.id, message: 'hi' }],
      ['memory.events', { agentId: agent.id }],
    ] as const) {
      const res = await fetch(
        `${server.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`,
        { headers: { authorization: `Bearer ${mallory.token}` } },
      );
      const body = await res.text();
      expect(body, path).toContain('"code":"NOT_FOUND"');
      // tRPC opens every stream with `connected`; then the error, and nothing else.
      expect(body.match(/^event: .*$/gm), path).toEqual(['event: connected', 'event: serialized-error']);
    }
    expect(await server.orm.em.fork().count(Message, { agent: agent.id })).toBe(0);
  });
});
