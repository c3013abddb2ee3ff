import type { EntityManager } from '@mikro-orm/postgresql';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { LlmMessage, LlmProvider, LlmToolCall, LlmToolChoice } from '../../llm/types.js';
import type { Agent } from '../agents/agent.entity.js';
import type { JobUsage, StagedChange } from './apply.service.js';
import type { JobInput } from './memory-job.entity.js';
import type { EmbeddingProvider } from '../embeddings/embedding.provider.js';
import { coreBlocksOf } from '../memory/core.service.js';
import { appendedValue, overflowOf } from '../memory/core-block.entity.js';
import { MemoryItem } from '../memory/memory.entity.js';
import { MEMORY_DEFS, type MemoryRecord } from '../memory/memory.registry.js';
import type { MemoryType } from '../memory/memory.types.js';
import { searchMemories } from '../memory/search.service.js';
import type { VaultCipher } from '../memory/vault-cipher.js';
import { Message } from '../messages/message.entity.js';
import type { User } from '../users/user.entity.js';
import type { MemoryKind } from '../../../shared/memory-events.js';
import { MANAGER_TOOLS, parseToolCall, type ToolArgs, toolDefinition, type ToolName } from './tools.js';

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

const toCamel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function camelFields(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [toCamel(k), v]));
}

interface ToolOutcome {
  content: string;
  finish?: boolean;
}

const ok = (detail: Record<string, unknown> = {}) => ({ content: JSON.stringify({ ok: true, ...detail }) });
const fail = (error: string) => ({ content: JSON.stringify({ error }) });

/**
 * One consolidation: the meta memory manager picks the memory types, then each chosen type's
 * manager runs its tool loop (concurrently, at most `maxSteps` LLM calls each). Managers only stage
 * changes; the caller applies them in one transaction. A tool call with invalid or hallucinated
 * arguments gets an error result the model can correct; it never fails the job.
 */
export async function runConsolidation(
  em: EntityManager,
  deps: PipelineDeps,
  agent: Agent,
  owner: User,
  input: JobInput,
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
  const query = keywords.join(' or ');
  const search = { embeddings: deps.embeddings, log: deps.log };
  const related = async (types: MemoryType[], limit: number) =>
    query
      ? (
          await searchMemories(em.fork(), {
            agent,
            input: { agentId: agent.id, query, types, limit, explain: false },
            deps: search,
          })
        ).hits.map((h) => h.item)
      : [];

  // One search serves every manager: the meta manager sees the best 10 of all types, each type's
  // manager the best 10 of its own (from a wider fused list, so one type cannot crowd out the rest).
  const candidates = await related(SEARCHABLE, 60);
  const relatedOf = (type: MemoryType) => candidates.filter((c) => c.memoryType === type).slice(0, 10);

  // ---- the meta memory manager ----
  const metaMessages: LlmMessage[] = [
    {
      role: 'system',
      content: render(META_PROMPT, {
        keywords: keywords.join(', ') || '(none)',
        related: candidates.slice(0, 10).map(describe).join('\n') || '(none)',
      }),
    },
    { role: 'user', content },
  ];
  let types: MemoryKind[] = [];
  for (let step = 0; step < deps.maxSteps; step++) {
    const completion = await call(metaMessages, ['trigger_memory_update'], { name: 'trigger_memory_update' });
    const trigger = completion.toolCalls[0];
    if (!trigger) break;
    const parsed = parseToolCall(['trigger_memory_update'], trigger.name, trigger.arguments);
    if (parsed.ok) {
      types = [...new Set((parsed.args as ToolArgs<'trigger_memory_update'>).memory_types)];
      break;
    }
    metaMessages.push(
      { role: 'assistant', content: completion.text, toolCalls: completion.toolCalls },
      ...completion.toolCalls.map((c) => ({
        role: 'tool' as const,
        toolCallId: c.id,
        content: c === trigger ? fail(parsed.error).content : fail('call trigger_memory_update once').content,
      })),
    );
  }

  // ---- the chosen managers, concurrently ----
  const staged: StagedChange[] = [];
  // Core blocks, read only if a manager needs them (their staged state is shared by all).
  let coreState: Promise<Map<string, { value: string; limit: number }>> | null = null;
  const core = () =>
    (coreState ??= coreBlocksOf(em.fork(), owner, agent).then(
      (blocks) => new Map(blocks.map((b) => [b.label, { value: b.value, limit: b.limit }])),
    ));

  const runManager = async (type: MemoryKind) => {
    const actor = `${type}_memory_manager`;
    const tools = MANAGER_TOOLS[type];
    const existing =
      type === 'core'
        ? [...(await core()).entries()]
            .map(
              ([label, b]) =>
                `- ${label} (${b.limit - b.value.length} of ${b.limit} characters left): ${b.value}`,
            )
            .join('\n')
        : relatedOf(type).map(describe).join('\n');
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
        const outcome = await execute(type, actor, tools, toolCall);
        messages.push({ role: 'tool', toolCallId: toolCall.id, content: outcome.content });
        finished ||= outcome.finish === true;
      }
      if (finished) return;
    }
  };

  const findItem = (type: MemoryType, id: string) =>
    em.fork().findOne(MemoryItem, { id, agent: agent.id, memoryType: type, deletedAt: null });
  const missing = (type: MemoryType, id: string) =>
    fail(`no ${type} item with id ${id}; use an id from the list, or search_in_memory`);

  const execute = async (
    type: MemoryKind,
    actor: string,
    tools: ToolName[],
    toolCall: LlmToolCall,
  ): Promise<ToolOutcome> => {
    const parsed = parseToolCall(tools, toolCall.name, toolCall.arguments);
    if (!parsed.ok) return fail(parsed.error);
    const args = parsed.args as Record<string, unknown>;
    switch (parsed.name) {
      case 'finish_memory_update':
        return { ...ok(), finish: true };

      case 'search_in_memory': {
        const a = args as ToolArgs<'search_in_memory'>;
        const kind = a.memory_type ?? type;
        if (kind === 'core') {
          return ok({
            results: [...(await core()).entries()].map(([label, b]) => ({ label, value: b.value })),
          });
        }
        const hits = await searchMemories(em.fork(), {
          agent,
          input: { agentId: agent.id, query: a.query, types: [kind], limit: 10, explain: false },
          deps: search,
        });
        return ok({ results: hits.hits.map((h) => describe(h.item).slice(2)) });
      }

      case 'core_memory_append':
      case 'core_memory_rewrite': {
        const a = args as ToolArgs<'core_memory_append'>;
        const blocks = await core();
        const block = blocks.get(a.label);
        if (!block) return fail(`no core block "${a.label}"; blocks: ${[...blocks.keys()].join(', ')}`);
        const append = parsed.name === 'core_memory_append';
        const value = append ? appendedValue(block.value, a.content) : a.content;
        const overflow = overflowOf({ label: a.label, limit: block.limit }, block.value, value);
        if (overflow) return fail(`${overflow}. Rewrite it shorter instead.`);
        block.value = value;
        staged.push({
          kind: 'core',
          label: a.label,
          op: append ? 'append' : 'rewrite',
          text: a.content,
          actor,
        });
        return ok({ remaining: block.limit - value.length });
      }

      case 'episodic_memory_merge': {
        const a = args as ToolArgs<'episodic_memory_merge'>;
        const item = await findItem('episodic', a.id);
        if (!item) return missing('episodic', a.id);
        staged.push({
          kind: 'update',
          type: 'episodic',
          id: a.id,
          patch: {
            details: item.details ? `${item.details}\n${a.details}` : a.details,
            ...(a.summary ? { summary: a.summary } : {}),
          },
          operation: 'merged',
          actor,
        });
        return ok();
      }

      case 'episodic_memory_replace': {
        const a = args as ToolArgs<'episodic_memory_replace'>;
        for (const id of a.ids) if (!(await findItem('episodic', id))) return missing('episodic', id);
        const inserts = a.new_items.map((i) => MEMORY_DEFS.episodic.fields.safeParse(camelFields(i)));
        const bad = inserts.find((r) => !r.success);
        if (bad && !bad.success) return fail(`invalid new_items: ${bad.error.message}`);
        for (const id of a.ids) staged.push({ kind: 'delete', type: 'episodic', id, actor });
        for (const r of inserts) {
          if (r.success) staged.push({ kind: 'insert', type: 'episodic', fields: r.data, actor });
        }
        return ok({ removed: a.ids.length, inserted: inserts.length });
      }

      case 'episodic_memory_insert':
      case 'semantic_memory_insert':
      case 'procedural_memory_insert':
      case 'resource_memory_insert':
      case 'knowledge_vault_insert': {
        const memoryType = type as MemoryType;
        if (memoryType === 'knowledge_vault' && !deps.cipher.configured) {
          return fail('the knowledge vault is not configured on this server (VAULT_KEYS); store nothing');
        }
        const def = MEMORY_DEFS[memoryType];
        const rows = (args.items as Record<string, unknown>[]).map((i) =>
          def.fields.safeParse(camelFields(i)),
        );
        const bad = rows.find((r) => !r.success);
        if (bad && !bad.success) return fail(`invalid items: ${bad.error.message}`);
        for (const r of rows)
          if (r.success) staged.push({ kind: 'insert', type: memoryType, fields: r.data, actor });
        return ok({ inserted: rows.length });
      }

      case 'semantic_memory_update':
      case 'procedural_memory_update':
      case 'resource_memory_update':
      case 'knowledge_vault_update': {
        const memoryType = type as MemoryType;
        const { id, ...fields } = args as { id: string } & Record<string, unknown>;
        if (Object.keys(fields).length === 0) return fail('give at least one field to change');
        if (
          memoryType === 'knowledge_vault' &&
          fields.secret_value !== undefined &&
          !deps.cipher.configured
        ) {
          return fail('the knowledge vault is not configured on this server (VAULT_KEYS)');
        }
        if (!(await findItem(memoryType, id))) return missing(memoryType, id);
        const patch = MEMORY_DEFS[memoryType].patch.safeParse(camelFields(fields));
        if (!patch.success) return fail(`invalid fields: ${patch.error.message}`);
        staged.push({ kind: 'update', type: memoryType, id, patch: patch.data, operation: 'updated', actor });
        return ok();
      }

      case 'trigger_memory_update':
        return fail('only the meta memory manager triggers updates');
    }
  };

  await Promise.all(types.map(runManager));
  return { staged, usage, types };
}
