import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool, ToolChoice } from '@anthropic-ai/sdk/resources/messages/messages';
import { toLlmError } from './errors.js';
import type { HttpProviderOptions } from './openai.provider.js';
import type {
  LlmCallOptions,
  LlmCompletion,
  LlmMessage,
  LlmProvider,
  LlmStreamEvent,
  LlmToolCall,
  LlmToolChoice,
} from './types.js';

/** Anthropic requires max_tokens; this is the default when the agent sets none. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 1024;

function parseArgs(json: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(json || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Anthropic keeps the system prompt apart, and tool results are user turns of tool_result blocks. */
function toAnthropic(messages: LlmMessage[]): { system: string; messages: MessageParam[] } {
  const system = messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const out: MessageParam[] = [];
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        break;
      case 'user':
        out.push({ role: 'user', content: m.content });
        break;
      case 'assistant':
        out.push({
          role: 'assistant',
          content: [
            ...(m.content ? [{ type: 'text' as const, text: m.content }] : []),
            ...(m.toolCalls ?? []).map((c) => ({
              type: 'tool_use' as const,
              id: c.id,
              name: c.name,
              input: parseArgs(c.arguments),
            })),
          ],
        });
        break;
      case 'tool': {
        // All results of one assistant turn go back in one user turn, as the API expects.
        const block = { type: 'tool_result' as const, tool_use_id: m.toolCallId ?? '', content: m.content };
        const last = out.at(-1);
        if (last?.role === 'user' && Array.isArray(last.content) && last.content[0]?.type === 'tool_result') {
          last.content.push(block);
        } else {
          out.push({ role: 'user', content: [block] });
        }
        break;
      }
    }
  }
  return { system, messages: out };
}

function toAnthropicToolChoice(choice: LlmToolChoice): ToolChoice {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  return { type: 'tool', name: choice.name };
}

/** Anthropic's Messages API. */
export class AnthropicProvider implements LlmProvider {
  readonly name = 'anthropic' as const;
  private readonly client: Anthropic;

  constructor(opts: HttpProviderOptions) {
    this.client = new Anthropic({
      apiKey: opts.apiKey ?? null,
      baseURL: opts.baseURL,
      timeout: opts.timeoutMs,
      maxRetries: opts.maxRetries,
    });
  }

  private request(messages: LlmMessage[], opts: LlmCallOptions) {
    const { system, messages: converted } = toAnthropic(messages);
    const tools: Tool[] | undefined = opts.tools?.map((t) => ({
      name: t.name,
      description: t.description,
      input_schema: { type: 'object', ...t.parameters },
    }));
    return {
      model: opts.params.model,
      max_tokens: opts.params.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
      messages: converted,
      ...(system ? { system } : {}),
      ...(opts.params.temperature !== undefined ? { temperature: opts.params.temperature } : {}),
      ...(tools?.length ? { tools } : {}),
      ...(tools?.length && opts.toolChoice ? { tool_choice: toAnthropicToolChoice(opts.toolChoice) } : {}),
    };
  }

  async complete(messages: LlmMessage[], opts: LlmCallOptions): Promise<LlmCompletion> {
    try {
      const res = await this.client.messages.create(this.request(messages, opts), { signal: opts.signal });
      let text = '';
      const toolCalls: LlmToolCall[] = [];
      for (const block of res.content) {
        if (block.type === 'text') text += block.text;
        else if (block.type === 'tool_use') {
          toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
        }
      }
      const usage = {
        promptTokens: res.usage.input_tokens,
        completionTokens: res.usage.output_tokens,
        totalTokens: res.usage.input_tokens + res.usage.output_tokens,
      };
      return { text, toolCalls, usage };
    } catch (err) {
      throw toLlmError('anthropic', err);
    }
  }

  async *stream(messages: LlmMessage[], opts: LlmCallOptions): AsyncIterable<LlmStreamEvent> {
    try {
      const stream = await this.client.messages.create(
        { ...this.request(messages, opts), stream: true },
        { signal: opts.signal },
      );
      let inputTokens = 0;
      let outputTokens = 0;
      for await (const event of stream) {
        switch (event.type) {
          case 'message_start':
            inputTokens = event.message.usage.input_tokens;
            outputTokens = event.message.usage.output_tokens;
            break;
          case 'content_block_start':
            if (event.content_block.type === 'tool_use') {
              yield {
                type: 'tool_call',
                index: event.index,
                id: event.content_block.id,
                name: event.content_block.name,
                argumentsDelta: '',
              };
            }
            break;
          case 'content_block_delta':
            if (event.delta.type === 'text_delta') yield { type: 'text', delta: event.delta.text };
            else if (event.delta.type === 'input_json_delta') {
              yield { type: 'tool_call', index: event.index, argumentsDelta: event.delta.partial_json };
            }
            break;
          case 'message_delta':
            outputTokens = event.usage.output_tokens;
            break;
          case 'message_stop':
            yield {
              type: 'usage',
              usage: {
                promptTokens: inputTokens,
                completionTokens: outputTokens,
                totalTokens: inputTokens + outputTokens,
              },
            };
            break;
          case 'content_block_stop':
            break;
        }
      }
    } catch (err) {
      throw toLlmError('anthropic', err);
    }
  }
}
