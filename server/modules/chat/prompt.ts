import type { LlmMessage } from '../../llm/types.js';
import type { TMemorySummaryResponse } from '../memory/index.js';

type Of<T extends TMemorySummaryResponse['type']> = Extract<TMemorySummaryResponse, { type: T }>;

/** What an agent knows for one turn, already retrieved and scoped to its owner. */
export interface PromptInput {
  systemPrompt: string | null;
  now: Date;
  coreBlocks: { label: string; value: string }[];
  memories: {
    /** The most recent events. */
    recentEpisodic: Of<'episodic'>[];
    /** The events most relevant to the message. */
    relevantEpisodic: Of<'episodic'>[];
    semantic: Of<'semantic'>[];
    procedural: Of<'procedural'>[];
    resource: Of<'resource'>[];
    knowledgeVault: Of<'knowledge_vault'>[];
  };
  context?: Record<string, unknown> | null;
  /** Earlier turns, oldest first (already cut to the history window). */
  history: { role: 'user' | 'assistant' | 'system' | 'tool'; content: string }[];
  message: string;
}

export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant with a long-term memory.';
const NONE = '(none)';

function section(tag: string, lines: string[]): string {
  return `<${tag}>\n${lines.length ? lines.join('\n') : NONE}\n</${tag}>`;
}

const day = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16);

/**
 * MIRIX's prompt: the agent's system prompt, the time, core memory, what was retrieved from each
 * memory type, the request context, then the conversation window and the new message. Empty
 * sections say "(none)" so the model knows it looked and found nothing. Knowledge-vault items
 * appear by caption only, and never when their sensitivity is high; secret values are never here.
 */
export function buildPrompt(input: PromptInput): LlmMessage[] {
  const m = input.memories;
  const seen = new Set<string>();
  const episodic = [...m.relevantEpisodic, ...m.recentEpisodic].filter(
    (e) => !seen.has(e.id) && seen.add(e.id),
  );
  const system = [
    input.systemPrompt?.trim() || DEFAULT_SYSTEM_PROMPT,
    `Current time: ${input.now.toISOString()}`,
    section(
      'core_memory',
      input.coreBlocks.map((b) => `<${b.label}>\n${b.value.trim() || NONE}\n</${b.label}>`),
    ),
    section(
      'episodic_memory',
      episodic
        .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime())
        .map((e) => `- [${day(e.occurredAt)}] ${e.eventType} (${e.actor}): ${e.summary}`),
    ),
    section(
      'semantic_memory',
      m.semantic.map((s) => `- ${s.name}: ${s.summary}`),
    ),
    section(
      'procedural_memory',
      m.procedural.map(
        (p) =>
          `- ${p.entryType}: ${p.summary}${p.steps.length ? `\n${p.steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}` : ''}`,
      ),
    ),
    section(
      'resource_memory',
      m.resource.map((r) => `- ${r.title} (${r.resourceType}): ${r.summary}`),
    ),
    section(
      'knowledge_vault',
      m.knowledgeVault
        .filter((k) => k.sensitivity !== 'high')
        .map(
          (k) =>
            `- ${k.caption} (${k.entryType}, ${k.sensitivity} sensitivity; the value itself is not shown)`,
        ),
    ),
    section(
      'context',
      Object.entries(input.context ?? {}).map(
        ([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`,
      ),
    ),
  ].join('\n\n');

  return [
    { role: 'system', content: system },
    ...input.history
      .filter((h) => h.role === 'user' || h.role === 'assistant')
      .map((h): LlmMessage => ({ role: h.role, content: h.content })),
    { role: 'user', content: input.message },
  ];
}
