/**
 * How an agent's memories are shown to a model: the sections of MIRIX's chat prompt, shared by the
 * server's chat turn and the client's AI SDK middleware so both give a model the same view.
 * Isomorphic: structural types, no server imports.
 */

interface Episodic {
  type: 'episodic';
  id: string;
  occurredAt: Date;
  eventType: string;
  actor: string;
  summary: string;
}
interface Semantic {
  type: 'semantic';
  id: string;
  name: string;
  summary: string;
}
interface Procedural {
  type: 'procedural';
  id: string;
  entryType: string;
  summary: string;
  steps: string[];
}
interface Resource {
  type: 'resource';
  id: string;
  title: string;
  resourceType: string;
  summary: string;
}
interface Vault {
  type: 'knowledge_vault';
  id: string;
  caption: string;
  entryType: string;
  sensitivity: 'low' | 'medium' | 'high';
}
/** A memory as search returns it (only the fields the prompt shows). */
export type PromptMemory = Episodic | Semantic | Procedural | Resource | Vault;

/** What the prompt shows of each memory type. */
export interface PromptMemories<M extends PromptMemory = PromptMemory> {
  /** The most recent events. */
  recentEpisodic: Extract<M, { type: 'episodic' }>[];
  /** The events most relevant to the message. */
  relevantEpisodic: Extract<M, { type: 'episodic' }>[];
  semantic: Extract<M, { type: 'semantic' }>[];
  procedural: Extract<M, { type: 'procedural' }>[];
  resource: Extract<M, { type: 'resource' }>[];
  knowledgeVault: Extract<M, { type: 'knowledge_vault' }>[];
}

/** How many fused search results to ask for, to get `k` of each type in the usual mixes. */
export const relevantLimit = (k: number) => Math.min(50, k * 5);

/**
 * The `k` best of each type from one fused search (in rank order), and the recent events. A
 * knowledge-vault item of high sensitivity never reaches a prompt.
 */
export function groupForPrompt<M extends PromptMemory>(opts: { relevant: M[]; recent: M[]; k: number }) {
  const taken = new Map<string, number>();
  const items = opts.relevant.filter((item) => {
    const n = taken.get(item.type) ?? 0;
    taken.set(item.type, n + 1);
    return n < opts.k;
  });
  const of = <T extends M['type']>(list: M[], type: T) =>
    list.filter((i): i is Extract<M, { type: T }> => i.type === type);
  return {
    recentEpisodic: of(opts.recent, 'episodic'),
    relevantEpisodic: of(items, 'episodic'),
    semantic: of(items, 'semantic'),
    procedural: of(items, 'procedural'),
    resource: of(items, 'resource'),
    knowledgeVault: of(items, 'knowledge_vault').filter(
      (v) => (v as Extract<PromptMemory, { type: 'knowledge_vault' }>).sensitivity !== 'high',
    ),
  } as PromptMemories<M>;
}

const NONE = '(none)';

function section(tag: string, lines: string[]): string {
  return `<${tag}>\n${lines.length ? lines.join('\n') : NONE}\n</${tag}>`;
}

const day = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16);

/**
 * The time, core memory, what was retrieved from each memory type and the request context, as
 * tagged sections. Empty sections say "(none)" so the model knows it looked and found nothing.
 * Knowledge-vault items appear by caption only, and never when their sensitivity is high; secret
 * values are never here.
 */
export function memorySections(input: {
  now: Date;
  coreBlocks: { label: string; value: string }[];
  memories: PromptMemories;
  context?: Record<string, unknown> | null;
}): string {
  const m = input.memories;
  const seen = new Set<string>();
  const episodic = [...m.relevantEpisodic, ...m.recentEpisodic].filter(
    (e) => !seen.has(e.id) && seen.add(e.id),
  );
  return [
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
}
