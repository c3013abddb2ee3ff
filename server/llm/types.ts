/** Provider-neutral chat types: what chat and the memory managers speak, whatever the vendor. */
export type LlmRole = 'system' | 'user' | 'assistant' | 'tool';

export interface LlmToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments, as the model produced it. */
  arguments: string;
}

export interface LlmMessage {
  role: LlmRole;
  content: string;
  /** Assistant messages: the tools the model called. */
  toolCalls?: LlmToolCall[];
  /** Tool messages: which call this is the result of. */
  toolCallId?: string;
}

export interface LlmTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export type LlmToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface LlmParams {
  model: string;
  temperature?: number;
  maxTokens?: number;
}

export interface LlmCallOptions {
  params: LlmParams;
  tools?: LlmTool[];
  toolChoice?: LlmToolChoice;
  /** Aborting cancels the upstream HTTP request. */
  signal?: AbortSignal;
}

export interface LlmCompletion {
  text: string;
  toolCalls: LlmToolCall[];
  usage: LlmUsage | null;
}

export type LlmStreamEvent =
  | { type: 'text'; delta: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; argumentsDelta: string }
  | { type: 'usage'; usage: LlmUsage };

export interface LlmProvider {
  readonly name: 'openai' | 'anthropic';
  complete(messages: LlmMessage[], opts: LlmCallOptions): Promise<LlmCompletion>;
  stream(messages: LlmMessage[], opts: LlmCallOptions): AsyncIterable<LlmStreamEvent>;
}
