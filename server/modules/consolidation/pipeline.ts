import type { EntityManager } from '@mikro-orm/postgresql';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { LlmCompletion, LlmMessage, LlmProvider, LlmToolChoice } from '../../llm/types.js';
import type { Agent } from '../agents/index.js';
import type { JobUsage, StagedChange } from './apply.service.js';
import type { JobInput } from './memory-job.entity.js';
import type { EmbeddingProvider } from '../embeddings/index.js';
import {
  coreBlocksOf,
  MemoryItem,
  MEMORY_DEFS,
  type MemoryRecord,
  type MemoryType,
  searchMemories,
  type VaultCipher,
} from '../memory/index.js';
import { Message } from '../messages/index.js';
import type { User } from '../users/index.js';
import type { MemoryKind } from '../../../shared/memory-events.js';
import { MANAGER_TOOLS, parseToolCall, type ToolArgs, toolDefinition, type ToolName } from './tools.js';
import { executeToolCall, fail, type StagedBlock, type ToolContext } from './tool-handlers.js';

const prompt = (file: string) => readFileSync(new URL(`./prompts/${file}`, import.meta.url), 'utf8');
const META_PROMPT = prompt('meta_memory_manager.md');
const MANAGER_PROMPT = prompt('memory_manager.md');
const PURPOSES = JSON.parse(prompt('purposes.json')) as Record<MemoryKind, string>;

const SEARCHABLE = Object.keys(MEMORY_DEFS) as MemoryType[];

function render(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => String(values[key] ?? ''));
}

export interface PipelineDeps {
  provider: LlmProvider;
  model: string;
  embeddings: EmbeddingProvider;
  cipher: VaultCipher;
  log: Logger;
  maxSteps: number;
}

export interface PipelineResult {
  staged: StagedChange[];
  usage: JobUsage;
  /** The types the meta manager chose. */
  types: MemoryKind[];
}

const STOPWORDS = new Set(
  `a about above after again against all also am an and any are as at be because been before being
  below between both but by can could did do does doing down during each few for from further had has
  have having he her here hers herself him himself his how i if in into is it its itself just let me
  more most my myself no nor not now of off on once only or other our ours ourselves out over own
  same she should so some such than that the their theirs them themselves then there these they this
  those through to too under until up very was we were what when where which while who whom why will
  with would you your yours yourself yourselves yes ok okay user assistant please thanks thank`.split(/\s+/),
);

/** The content's most frequent meaningful words (the meta manager's keywords and the search query). */
export function extractKeywords(text: string, max = 12): string[] {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]{2,}/gu) ?? []) {
    if (!STOPWORDS.has(word) && !/^\d+$/.test(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, max)
    .map(([w]) => w);
}

/** The job's content as the managers read it. */
export async function renderContent(em: EntityManager, agentId: string, input: JobInput): Promise<string> {
  switch (input.kind) {
    case 'chat': {
      const rows = await em.find(
        Message,
        { id: { $in: input.messageIds }, agent: agentId },
        { orderBy: { createdAt: 'asc', id: 'asc' } },
      );
      return rows.map((m) => `[${m.createdAt.toISOString()}] ${m.role}: ${m.content}`).join('\n');
    }
    case 'messages':
      return input.messages
        .map((m) => `${m.occurredAt ? `[${m.occurredAt}] ` : ''}${m.role}: ${m.content}`)
        .join('\n');
    case 'text':
      return `${input.source ? `Document (source: ${input.source}):\n` : 'Document:\n'}${input.text}`;
  }
}

/** One line per item: what a manager (or the meta manager) sees of existing memories. */
function describe(item: MemoryRecord): string {
  const def = MEMORY_DEFS[item.memoryType];
  const body = def.embeddingText
    ? def.embeddingText(item)
    : `${item.caption} (${item.entryType}, ${item.sensitivity} sensitivity)`;
  return `- id: ${item.id} | ${body.replace(/\s+/g, ' ').slice(0, 600)}`;
}

/**
 * One consolidation: the meta memory manager picks the memory types, then each chosen type's
 * manager runs its tool loop (concurrently, at most `maxSteps` LLM calls each). Managers only stage
 * changes; the caller applies them in one transaction. A tool call with invalid or hallucinated
 * arguments gets an error result the model can correct; it never fails the job.
 */
export async function runConsolidation(
  em: EntityManager,
  deps: PipelineDeps,
  { agent, owner, input }: { agent: Agent; owner: User; input: JobInput },
): Promise<PipelineResult> {
  const usage: JobUsage = { llmCalls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  const call = async (messages: LlmMessage[], tools: ToolName[], toolChoice: LlmToolChoice) => {
    const completion = await deps.provider.complete(messages, {
      params: { model: deps.model, temperature: 0 },
      tools: tools.map(toolDefinition),
      toolChoice,
    });
    usage.llmCalls++;
    if (completion.usage) {
      usage.promptTokens += completion.usage.promptTokens;
      usage.completionTokens += completion.usage.completionTokens;
      usage.totalTokens += completion.usage.totalTokens;
    }
    return completion;
  };

  const content = await renderContent(em.fork(), agent.id, input);
  const keywords = extractKeywords(content);
  const search = async (query: string, types: MemoryType[], limit: number) =>
    (
      await searchMemories(em.fork(), {
        agent,
        input: { agentId: agent.id, query, types, limit, explain: false },
        deps: { embeddings: deps.embeddings, log: deps.log },
      })
    ).hits.map((h) => h.item);

  // One search serves every manager: the meta manager sees the best 10 of all types, each type's
  // manager the best 10 of its own (from a wider fused list, so one type cannot crowd out the rest).
  const query = keywords.join(' or ');
  const candidates = query ? await search(query, SEARCHABLE, 60) : [];
  const types = await chooseTypes(call, {
    content,
    keywords,
    related: candidates.slice(0, 10),
    maxSteps: deps.maxSteps,
  });

  // ---- the chosen managers, concurrently ----
  const staged: StagedChange[] = [];
  // Core blocks, read only if a manager needs them (their staged state is shared by all).
  let coreState: Promise<Map<string, StagedBlock>> | null = null;
  const core = () =>
    (coreState ??= coreBlocksOf(em.fork(), owner, agent).then(
      (blocks) => new Map(blocks.map((b) => [b.label, { value: b.value, limit: b.limit }])),
    ));
  const contextOf = (type: MemoryKind): ToolContext => ({
    type,
    actor: `${type}_memory_manager`,
    core,
    findItem: (itemType, id) =>
      em.fork().findOne(MemoryItem, { id, agent: agent.id, memoryType: itemType, deletedAt: null }),
    search: async (q, itemType) => (await search(q, [itemType], 10)).map((item) => describe(item).slice(2)),
    vaultConfigured: deps.cipher.configured,
    staged,
  });

  const runManager = async (type: MemoryKind) => {
    const ctx = contextOf(type);
    const tools = MANAGER_TOOLS[type];
    const existing =
      type === 'core'
        ? [...(await core()).entries()]
            .map(
              ([label, b]) =>
                `- ${label} (${b.limit - b.value.length} of ${b.limit} characters left): ${b.value}`,
            )
            .join('\n')
        : candidates
            .filter((c) => c.memoryType === type)
            .slice(0, 10)
            .map(describe)
            .join('\n');
    const messages: LlmMessage[] = [
      {
        role: 'system',
        content: render(MANAGER_PROMPT, {
          type,
          purpose: PURPOSES[type],
          maxSteps: deps.maxSteps,
          existing: existing || '(none)',
        }),
      },
      { role: 'user', content },
    ];
    for (let step = 0; step < deps.maxSteps; step++) {
      const completion = await call(messages, tools, 'auto');
      if (completion.toolCalls.length === 0) return;
      messages.push({ role: 'assistant', content: completion.text, toolCalls: completion.toolCalls });
      let finished = false;
      for (const toolCall of completion.toolCalls) {
        const outcome = await executeToolCall(ctx, tools, toolCall);
        messages.push({ role: 'tool', toolCallId: toolCall.id, content: outcome.content });
        finished ||= outcome.finish === true;
      }
      if (finished) return;
    }
  };

  await Promise.all(types.map(runManager));
  return { staged, usage, types };
}

type Call = (messages: LlmMessage[], tools: ToolName[], toolChoice: LlmToolChoice) => Promise<LlmCompletion>;

/**
 * The meta memory manager: which memory types the content concerns. A malformed choice gets an
 * error the model can correct, up to `maxSteps` times; no valid choice means no managers run.
 */
async function chooseTypes(
  call: Call,
  opts: { content: string; keywords: string[]; related: MemoryRecord[]; maxSteps: number },
): Promise<MemoryKind[]> {
  const messages: LlmMessage[] = [
    {
      role: 'system',
      content: render(META_PROMPT, {
        keywords: opts.keywords.join(', ') || '(none)',
        related: opts.related.map(describe).join('\n') || '(none)',
      }),
    },
    { role: 'user', content: opts.content },
  ];
  for (let step = 0; step < opts.maxSteps; step++) {
    const completion = await call(messages, ['trigger_memory_update'], { name: 'trigger_memory_update' });
    const trigger = completion.toolCalls[0];
    if (!trigger) return [];
    const parsed = parseToolCall(['trigger_memory_update'], trigger.name, trigger.arguments);
    if (parsed.ok) return [...new Set((parsed.args as ToolArgs<'trigger_memory_update'>).memory_types)];
    messages.push(
      { role: 'assistant', content: completion.text, toolCalls: completion.toolCalls },
      ...completion.toolCalls.map((c) => ({
        role: 'tool' as const,
        toolCallId: c.id,
        content: c === trigger ? fail(parsed.error).content : fail('call trigger_memory_update once').content,
      })),
    );
  }
  return [];
}
