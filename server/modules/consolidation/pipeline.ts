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
import { MEMORY_KINDS, type MemoryKind } from '../../../shared/memory-events.js';
import {
  ALL_WRITE_TOOLS,
  MANAGER_TOOLS,
  parseToolCall,
  type ToolArgs,
  toolDefinition,
  type ToolName,
} from './tools.js';
import { executeToolCall, fail, type StagedBlock, type ToolContext } from './tool-handlers.js';

const prompt = (file: string) => readFileSync(new URL(`./prompts/${file}`, import.meta.url), 'utf8');
const META_PROMPT = prompt('meta_memory_manager.md');
const MANAGER_PROMPT = prompt('memory_manager.md');
const DIRECT_PROMPT = prompt('direct_memory_manager.md');
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
  /** Content up to this many characters goes to one manager of every type (0: always the meta manager first). */
  directMaxChars: number;
}

export interface PipelineResult {
  staged: StagedChange[];
  usage: JobUsage;
  /** The types the meta manager chose (for content handled by one manager: the types it wrote). */
  types: MemoryKind[];
  /** What went wrong without failing the job (a model that ignored its tools, calls that failed). */
  warnings: string[];
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
 * One consolidation. Short content (`directMaxChars`) goes to one manager with every type's tools,
 * which usually records it in a single call; longer content goes to the meta memory manager, which
 * picks the memory types, then to each chosen type's manager (concurrently, at most `maxSteps`
 * calls each, usually one). Managers only stage changes; the caller applies them in one
 * transaction. A tool call with invalid or hallucinated arguments gets an error result the model
 * can correct; it never fails the job, and what stays wrong is reported in `warnings`.
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

  const staged: StagedChange[] = [];
  const warnings: string[] = [];
  // Core blocks, read only if a manager needs them (their staged state is shared by all).
  let coreState: Promise<Map<string, StagedBlock>> | null = null;
  const core = () =>
    (coreState ??= coreBlocksOf(em.fork(), owner, agent).then(
      (blocks) => new Map(blocks.map((b) => [b.label, { value: b.value, limit: b.limit }])),
    ));
  const coreLines = async () =>
    [...(await core()).entries()]
      .map(
        ([label, b]) => `- ${label} (${b.limit - b.value.length} of ${b.limit} characters left): ${b.value}`,
      )
      .join('\n');
  const contextOf = (type: MemoryKind | null): ToolContext => ({
    type,
    actor: type ? `${type}_memory_manager` : 'memory_manager',
    core,
    findItem: (itemType, id) =>
      em.fork().findOne(MemoryItem, { id, agent: agent.id, memoryType: itemType, deletedAt: null }),
    search: async (q, itemType) =>
      (await search(q, itemType ? [itemType] : SEARCHABLE, 10)).map((item) => describe(item).slice(2)),
    vaultConfigured: deps.cipher.configured,
    staged,
  });
  const loop = (opts: { name: string; system: string; tools: ToolName[]; type: MemoryKind | null }) =>
    runToolLoop(call, {
      ...opts,
      content,
      ctx: contextOf(opts.type),
      maxSteps: deps.maxSteps,
      warn: (w) => warnings.push(w),
    });

  // Short content: one manager with every type's tools, usually one call.
  const direct = async () => {
    const existing = candidates.slice(0, 20).map((c) => `- ${c.memoryType} ${describe(c).slice(2)}`);
    const system = render(DIRECT_PROMPT, {
      purposes: MEMORY_KINDS.map((k) => `- ${k}: ${PURPOSES[k]}`).join('\n'),
      core: (await coreLines()) || '(none)',
      existing: existing.join('\n') || '(none)',
    });
    await loop({
      name: 'the memory manager',
      system,
      tools: [...ALL_WRITE_TOOLS, ...LOOP_TOOLS],
      type: null,
    });
  };

  if (content.length <= deps.directMaxChars) {
    await direct();
    return { staged, usage, types: [...new Set(staged.map(stagedKind))], warnings };
  }

  const choice = await chooseTypes(call, {
    content,
    keywords,
    related: candidates.slice(0, 10),
    maxSteps: deps.maxSteps,
  });
  if (choice === null) {
    // A model that ignores the forced tool still gets the content remembered, by the one manager.
    deps.log.warn(
      'the meta memory manager made no valid trigger_memory_update call; one manager handles the job',
    );
    await direct();
    return { staged, usage, types: [...new Set(staged.map(stagedKind))], warnings };
  }

  // ---- the chosen managers, concurrently ----
  const runManager = async (type: MemoryKind) => {
    const existing =
      type === 'core'
        ? await coreLines()
        : candidates
            .filter((c) => c.memoryType === type)
            .slice(0, 10)
            .map(describe)
            .join('\n');
    const system = render(MANAGER_PROMPT, {
      type,
      purpose: PURPOSES[type],
      maxSteps: deps.maxSteps,
      existing: existing || '(none)',
    });
    await loop({ name: `the ${type} memory manager`, system, tools: MANAGER_TOOLS[type], type });
  };

  await Promise.all(choice.map(runManager));
  return { staged, usage, types: choice, warnings };
}

type Call = (messages: LlmMessage[], tools: ToolName[], toolChoice: LlmToolChoice) => Promise<LlmCompletion>;

const LOOP_TOOLS: ToolName[] = ['search_in_memory', 'finish_memory_update'];

function stagedKind(change: StagedChange): MemoryKind {
  return change.kind === 'core' ? 'core' : change.type;
}

/**
 * One manager's tool loop. The manager acts on every tool call of a response at once, and is done
 * when they all succeed (no separate finish call), unless it searched and must read the results.
 * Failed calls are answered with their errors and the model gets one more response to correct
 * them; what still fails, and a first answer without any tool call, become the job's warnings.
 */
async function runToolLoop(
  call: Call,
  opts: {
    name: string;
    system: string;
    content: string;
    tools: ToolName[];
    ctx: ToolContext;
    maxSteps: number;
    warn: (warning: string) => void;
  },
): Promise<void> {
  const messages: LlmMessage[] = [
    { role: 'system', content: opts.system },
    { role: 'user', content: opts.content },
  ];
  let corrected = false;
  for (let step = 0; step < opts.maxSteps; step++) {
    const completion = await call(messages, opts.tools, 'auto');
    if (completion.toolCalls.length === 0) {
      if (step === 0) opts.warn(`${opts.name} answered without calling a tool, so nothing was recorded`);
      return;
    }
    messages.push({ role: 'assistant', content: completion.text, toolCalls: completion.toolCalls });
    let finished = false;
    let searched = false;
    const errors: string[] = [];
    for (const toolCall of completion.toolCalls) {
      const outcome = await executeToolCall(opts.ctx, opts.tools, toolCall);
      messages.push({ role: 'tool', toolCallId: toolCall.id, content: outcome.content });
      finished ||= outcome.finish === true;
      searched ||= toolCall.name === 'search_in_memory' && !outcome.error;
      if (outcome.error) errors.push(`${toolCall.name}: ${outcome.error}`);
    }
    if (errors.length > 0) {
      if (corrected) {
        opts.warn(
          `${opts.name}: ${errors.length} tool call(s) failed after a correction: ${errors.join('; ')}`,
        );
        return;
      }
      corrected = true;
      continue;
    }
    if (finished || !searched) return;
  }
  opts.warn(`${opts.name} used all ${opts.maxSteps} steps`);
}

/**
 * The meta memory manager: which memory types the content concerns (possibly none). A malformed
 * choice gets an error the model can correct, once; null when it made no valid choice at all.
 */
async function chooseTypes(
  call: Call,
  opts: { content: string; keywords: string[]; related: MemoryRecord[]; maxSteps: number },
): Promise<MemoryKind[] | null> {
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
  for (let step = 0; step < Math.min(2, opts.maxSteps); step++) {
    const completion = await call(messages, ['trigger_memory_update'], { name: 'trigger_memory_update' });
    const trigger = completion.toolCalls[0];
    if (!trigger) return null;
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
  return null;
}
