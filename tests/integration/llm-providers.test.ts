import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, AppErrorCode } from '../../server/errors.js';
import { createLlmProvider, type LlmProvider, type LlmStreamEvent } from '../../server/llm/index.js';
import { type FakeAnthropic, startFakeAnthropic } from '../support/fake-anthropic.js';
import { type FakeOpenAI, type ScriptedReply, startFakeOpenAI } from '../support/fake-openai.js';

let openaiFake: FakeOpenAI;
let anthropicFake: FakeAnthropic;
beforeAll(async () => {
  openaiFake = await startFakeOpenAI({ dim: 8 });
  anthropicFake = await startFakeAnthropic();
});
afterAll(async () => {
  await openaiFake?.close();
  await anthropicFake?.close();
});

const env = () => ({
  OPENAI_API_KEY: 'sk-test',
  OPENAI_BASE_URL: openaiFake.url,
  ANTHROPIC_API_KEY: 'ak-test',
  ANTHROPIC_BASE_URL: anthropicFake.url,
  LLM_TIMEOUT_MS: 5000,
  LLM_MAX_RETRIES: 2,
});

const cases: {
  name: 'openai' | 'anthropic';
  script: (...r: ScriptedReply[]) => void;
  lastRequest: () => Record<string, unknown>;
}[] = [
  {
    name: 'openai',
    script: (...r) => openaiFake.replies.push(...r),
    lastRequest: () => openaiFake.chatRequests.at(-1)!,
  },
  {
    name: 'anthropic',
    script: (...r) => anthropicFake.replies.push(...r),
    lastRequest: () => anthropicFake.requests.at(-1)!,
  },
];

const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

async function collect(stream: AsyncIterable<LlmStreamEvent>) {
  const events: LlmStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

describe.each(cases)('$name provider (real SDK against a loopback fake)', ({ name, script, lastRequest }) => {
  const provider = (): LlmProvider => createLlmProvider(name, env());
  const params = { model: name === 'openai' ? 'gpt-test' : 'claude-test', temperature: 0.2, maxTokens: 300 };

  it('completes a conversation and reports token usage', async () => {
    script({ text: 'Hello Ada!', usage: { prompt: 21, completion: 4 } });
    const res = await provider().complete(
      [
        { role: 'system', content: 'You are MIRIX.' },
        { role: 'user', content: 'Hi, I am Ada' },
      ],
      { params },
    );
    expect(res).toEqual({
      text: 'Hello Ada!',
      toolCalls: [],
      usage: { promptTokens: 21, completionTokens: 4, totalTokens: 25 },
    });
    const req = lastRequest();
    expect(req.model).toBe(params.model);
    if (name === 'anthropic') {
      // The system prompt is its own parameter, not a message.
      expect(req.system).toBe('You are MIRIX.');
      expect(req.messages).toEqual([{ role: 'user', content: 'Hi, I am Ada' }]);
      expect(req.max_tokens).toBe(300);
    } else {
      expect(req.messages).toEqual([
        { role: 'system', content: 'You are MIRIX.' },
        { role: 'user', content: 'Hi, I am Ada' },
      ]);
    }
  });

  it('returns tool calls, and sends tools and tool results in its wire format', async () => {
    script({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const res = await provider().complete([{ role: 'user', content: 'Weather in Paris?' }], {
      params,
      tools: [weather],
      toolChoice: 'required',
    });
    expect(res.toolCalls).toEqual([{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    const req = lastRequest();
    if (name === 'anthropic') {
      expect(req.tool_choice).toEqual({ type: 'any' });
      expect((req.tools as { name: string }[])[0]?.name).toBe('get_weather');
    } else {
      expect(req.tool_choice).toBe('required');
      expect((req.tools as { function: { name: string } }[])[0]?.function.name).toBe('get_weather');
    }

    script({ text: 'Sunny.' });
    await provider().complete(
      [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: '', toolCalls: res.toolCalls },
        { role: 'tool', content: 'sunny, 21C', toolCallId: 'call_1' },
      ],
      { params, tools: [weather] },
    );
    const followUp = JSON.stringify(lastRequest().messages);
    expect(followUp).toContain('call_1');
    expect(followUp).toContain('sunny, 21C');
  });

  it('streams text deltas in order, then the usage', async () => {
    script({ text: 'The quick brown fox', chunkSize: 3, usage: { prompt: 9, completion: 7 } });
    const events = await collect(provider().stream([{ role: 'user', content: 'go' }], { params }));
    const text = events.filter((e) => e.type === 'text');
    expect(text.length).toBeGreaterThan(3);
    expect(text.map((e) => (e.type === 'text' ? e.delta : '')).join('')).toBe('The quick brown fox');
    expect(events.at(-1)).toEqual({
      type: 'usage',
      usage: { promptTokens: 9, completionTokens: 7, totalTokens: 16 },
    });
  });

  it('streams tool-call deltas that reassemble into the arguments', async () => {
    script({ toolCalls: [{ id: 'call_9', name: 'get_weather', arguments: '{"city":"Reykjavik"}' }] });
    const events = await collect(
      provider().stream([{ role: 'user', content: 'go' }], { params, tools: [weather] }),
    );
    const calls = events.filter((e) => e.type === 'tool_call');
    expect(calls.find((c) => c.type === 'tool_call' && c.id)).toMatchObject({
      id: 'call_9',
      name: 'get_weather',
    });
    expect(calls.map((c) => (c.type === 'tool_call' ? c.argumentsDelta : '')).join('')).toBe(
      '{"city":"Reykjavik"}',
    );
  });

  it('retries a 5xx and then succeeds', async () => {
    script({ status: 500 }, { text: 'recovered' });
    const res = await provider().complete([{ role: 'user', content: 'x' }], { params });
    expect(res.text).toBe('recovered');
  });

  it('maps a rejected key to PRECONDITION_FAILED and persistent 429s to TOO_MANY_REQUESTS', async () => {
    script({ status: 401 });
    await expect(provider().complete([{ role: 'user', content: 'x' }], { params })).rejects.toMatchObject({
      code: AppErrorCode.PreconditionFailed,
    });
    script({ status: 429 }, { status: 429 }, { status: 429 });
    const err = await provider()
      .complete([{ role: 'user', content: 'x' }], { params })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(AppErrorCode.TooManyRequests);
  }, 20_000);

  it('cancels the upstream request when aborted', async () => {
    script({ text: 'x'.repeat(10) });
    const controller = new AbortController();
    controller.abort();
    await expect(
      provider().complete([{ role: 'user', content: 'x' }], { params, signal: controller.signal }),
    ).rejects.toThrow();
  });
});

describe('provider configuration', () => {
  it('answers PRECONDITION_FAILED naming the variables to set when no provider is configured', () => {
    const bare = { LLM_TIMEOUT_MS: 1000, LLM_MAX_RETRIES: 0 };
    expect(() => createLlmProvider('openai', bare)).toThrow(/OPENAI_API_KEY.*OPENAI_BASE_URL/);
    expect(() => createLlmProvider('anthropic', bare)).toThrow(/ANTHROPIC_API_KEY/);
    try {
      createLlmProvider('openai', bare);
    } catch (err) {
      expect((err as AppError).code).toBe(AppErrorCode.PreconditionFailed);
    }
  });
});
