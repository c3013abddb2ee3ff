import OpenAI from 'openai';
import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import { toLlmError } from './errors.js';
import type {
  LlmCallOptions,
  LlmCompletion,
  LlmMessage,
  LlmProvider,
  LlmStreamEvent,
  LlmToolChoice,
  LlmUsage,
} from './types.js';

export interface HttpProviderOptions {
  apiKey?: string;
  baseURL?: string;
  timeoutMs: number;
  /** The SDK retries 408/409/429/5xx and connection errors with exponential backoff. */
  maxRetries: number;
}

function toOpenAIMessages(messages: LlmMessage[]): ChatCompletionMessageParam[] {
  return messages.map((m): ChatCompletionMessageParam => {
    switch (m.role) {
      case 'system':
        return { role: 'system', content: m.content };
      case 'user':
        return { role: 'user', content: m.content };
      case 'assistant':
        return {
          role: 'assistant',
          content: m.content,
          ...(m.toolCalls?.length
            ? {
                tool_calls: m.toolCalls.map((c) => ({
                  id: c.id,
                  type: 'function' as const,
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        };
      case 'tool':
        return { role: 'tool', content: m.content, tool_call_id: m.toolCallId ?? '' };
    }
  });
}

function toOpenAIToolChoice(choice: LlmToolChoice): ChatCompletionToolChoiceOption {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

function usageOf(
  u: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null | undefined,
): LlmUsage | null {
  return u
    ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, totalTokens: u.total_tokens }
    : null;
}

/** OpenAI's chat completions API, and everything compatible with it (Ollama, vLLM, LM Studio, OpenRouter). */
export class OpenAIProvider implements LlmProvider {
  readonly name = 'openai' as const;
  private readonly client: OpenAI;

  constructor(opts: HttpProviderOptions) {
    this.client = new OpenAI({
      // Local OpenAI-compatible servers take any key.
      apiKey: opts.apiKey ?? 'not-needed',
      baseURL: opts.baseURL,
      timeout: opts.timeoutMs,
      maxRetries: opts.maxRetries,
    });
  }

  private request(messages: LlmMessage[], opts: LlmCallOptions) {
    const tools: ChatCompletionTool[] | undefined = opts.tools?.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
    return {
      model: opts.params.model,
      messages: toOpenAIMessages(messages),
      ...(opts.params.temperature !== undefined ? { temperature: opts.params.temperature } : {}),
      ...(opts.params.maxTokens !== undefined ? { max_tokens: opts.params.maxTokens } : {}),
      ...(tools?.length ? { tools } : {}),
      ...(tools?.length && opts.toolChoice ? { tool_choice: toOpenAIToolChoice(opts.toolChoice) } : {}),
    };
  }

  async complete(messages: LlmMessage[], opts: LlmCallOptions): Promise<LlmCompletion> {
    try {
      const res = await this.client.chat.completions.create(this.request(messages, opts), {
        signal: opts.signal,
      });
      const message = res.choices[0]?.message;
      return {
        text: message?.content ?? '',
        toolCalls: (message?.tool_calls ?? []).flatMap((c) =>
          c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
        ),
        usage: usageOf(res.usage),
      };
    } catch (err) {
      throw toLlmError('openai', err);
    }
  }

  async *stream(messages: LlmMessage[], opts: LlmCallOptions): AsyncIterable<LlmStreamEvent> {
    try {
      const stream = await this.client.chat.completions.create(
        { ...this.request(messages, opts), stream: true, stream_options: { include_usage: true } },
        { signal: opts.signal },
      );
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta;
        if (delta?.content) yield { type: 'text', delta: delta.content };
        for (const call of delta?.tool_calls ?? []) {
          yield {
            type: 'tool_call',
            index: call.index,
            ...(call.id ? { id: call.id } : {}),
            ...(call.function?.name ? { name: call.function.name } : {}),
            argumentsDelta: call.function?.arguments ?? '',
          };
        }
        const usage = usageOf(chunk.usage);
        if (usage) yield { type: 'usage', usage };
      }
    } catch (err) {
      throw toLlmError('openai', err);
    }
  }
}
