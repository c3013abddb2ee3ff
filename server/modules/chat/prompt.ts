import type { LlmMessage } from '../../llm/types.js';
import type { TMemorySummaryResponse } from '../memory/index.js';
import { memorySections, type PromptMemories } from '../../../shared/memory-prompt.js';

/** What an agent knows for one turn, already retrieved and scoped to its owner. */
export interface PromptInput {
  systemPrompt: string | null;
  now: Date;
  coreBlocks: { label: string; value: string }[];
  memories: PromptMemories<TMemorySummaryResponse>;
  context?: Record<string, unknown> | null;
  /** Earlier turns, oldest first (already cut to the history window). */
  history: { role: 'user' | 'assistant' | 'system' | 'tool'; content: string }[];
  message: string;
}

export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant with a long-term memory.';

/**
 * MIRIX's prompt: the agent's system prompt, then the memory sections (shared/memory-prompt.ts:
 * the time, core memory, what was retrieved from each type, the request context), then the
 * conversation window and the new message.
 */
export function buildPrompt(input: PromptInput): LlmMessage[] {
  const system = [
    input.systemPrompt?.trim() || DEFAULT_SYSTEM_PROMPT,
    memorySections({
      now: input.now,
      coreBlocks: input.coreBlocks,
      memories: input.memories,
      context: input.context ?? null,
    }),
  ].join('\n\n');

  return [
    { role: 'system', content: system },
    ...input.history
      .filter((h) => h.role === 'user' || h.role === 'assistant')
      .map((h): LlmMessage => ({ role: h.role, content: h.content })),
    { role: 'user', content: input.message },
  ];
}
