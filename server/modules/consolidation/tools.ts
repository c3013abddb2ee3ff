import { z } from 'zod';
import { toSnake } from '../../case.js';
import type { LlmTool } from '../../llm/types.js';
import { MEMORY_KINDS, type MemoryKind } from '../../../shared/memory-events.js';
import {
  ZEpisodicFields,
  ZProceduralFields,
  ZResourceFields,
  ZSemanticFields,
  ZVaultFields,
} from '../memory/index.js';

/**
 * The memory managers' tools: each one's arguments as a zod schema (the one definition: the JSON
 * Schema the model sees is generated from it, and the same schema validates what the model sends).
 * Names and arguments are snake_case, as in MIRIX. The items' fields are the memory API's own
 * (memory.schema.ts), renamed: the same limits, plus hints for the model.
 */
const text = (max: number) => z.string().trim().min(1).max(max);
const ISO_DATE_TIME = z.iso.datetime({ offset: true });
const id = z.uuid().describe('the id of an existing item, from the list or from search_in_memory');

/**
 * A memory type's fields as its manager writes them: snake_case names, each field's own schema
 * (with a hint where given), and `stricter` fields where a manager must say more than an API
 * caller (whose omissions get defaults).
 */
function toolFields(
  fields: z.ZodObject,
  opts: { hints?: Record<string, string>; stricter?: Record<string, z.ZodType>; validity?: boolean } = {},
): z.ZodObject<Record<string, z.ZodType>> {
  const validity = {
    validFrom: ISO_DATE_TIME.nullish().describe('since when it is true (ISO 8601), if not since now'),
    validTo: ISO_DATE_TIME.nullish().describe('until when it was true (ISO 8601), if it no longer is'),
  };
  const entries = Object.entries(fields.shape)
    // Validity is for facts (semantic memory); other types' managers need not think about it.
    .filter(([key]) => opts.validity || !(key in validity))
    .map(
      ([key, schema]) => [key, key in validity ? validity[key as keyof typeof validity] : schema] as const,
    );
  const shape = entries.map(([key, schema]) => {
    const field = opts.stricter?.[key] ?? (schema as z.ZodType);
    const hint = opts.hints?.[key];
    return [toSnake(key), hint ? field.describe(hint) : field] as const;
  });
  return z.object(Object.fromEntries(shape));
}

const ZEpisodicItem = toolFields(ZEpisodicFields, {
  hints: {
    occurredAt: 'when it happened (ISO 8601)',
    eventType: 'e.g. trip, meeting, purchase, conversation',
  },
  // The API also takes a Date; JSON Schema can say only "a date-time string".
  stricter: { occurredAt: z.iso.datetime({ offset: true }).optional() },
});
const ZSemanticItem = toolFields(ZSemanticFields, {
  hints: { name: 'what the fact is about' },
  validity: true,
});
const ZProceduralItem = toolFields(ZProceduralFields, {
  hints: { entryType: 'e.g. workflow, guide, routine' },
  stricter: { steps: ZProceduralFields.shape.steps.unwrap().min(1) },
});
const ZResourceItem = toolFields(ZResourceFields, {
  hints: { resourceType: 'e.g. document, code, link, spreadsheet' },
});
const ZVaultItem = toolFields(ZVaultFields, {
  hints: {
    entryType: 'e.g. password, api_key, account_number, address',
    caption: 'what it is, without revealing it',
  },
  stricter: { sensitivity: ZVaultFields.shape.sensitivity.unwrap() },
});

const items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item).min(1).max(50) });
const patch = <T extends z.ZodObject>(item: T) => item.partial().extend({ id });

export const TOOL_SCHEMAS = {
  core_memory_append: z.object({
    label: text(64).describe('the block, e.g. human or persona'),
    content: text(5000),
  }),
  core_memory_rewrite: z.object({ label: text(64), content: z.string().max(20_000) }),
  episodic_memory_insert: items(ZEpisodicItem),
  episodic_memory_merge: z.object({
    id,
    summary: text(4000).optional().describe('a new summary covering both, if it changes'),
    details: text(50_000).describe('what to add to the event'),
  }),
  episodic_memory_replace: z.object({
    ids: z.array(id).min(1).max(20).describe('items to remove'),
    new_items: z.array(ZEpisodicItem).max(20).describe('items that take their place'),
  }),
  semantic_memory_insert: items(ZSemanticItem),
  semantic_memory_update: patch(ZSemanticItem),
  semantic_memory_supersede: z.object({
    id: id.describe('the fact that is no longer true'),
    name: text(500).optional().describe("the new fact's name, if it changes"),
    summary: text(4000).describe('the fact as it is now'),
    details: text(50_000).optional(),
    changed_at: ISO_DATE_TIME.optional().describe('when it changed (ISO 8601), if known; default now'),
  }),
  procedural_memory_insert: items(ZProceduralItem),
  procedural_memory_update: patch(ZProceduralItem),
  resource_memory_insert: items(ZResourceItem),
  resource_memory_update: patch(ZResourceItem),
  knowledge_vault_insert: items(ZVaultItem),
  knowledge_vault_update: patch(ZVaultItem),
  search_in_memory: z.object({
    query: text(1000),
    memory_type: z.enum(MEMORY_KINDS).optional().describe('defaults to your own type'),
  }),
  finish_memory_update: z.object({}),
  trigger_memory_update: z.object({
    memory_types: z.array(z.enum(MEMORY_KINDS)).max(MEMORY_KINDS.length),
  }),
} as const;
export type ToolName = keyof typeof TOOL_SCHEMAS;
export type ToolArgs<N extends ToolName> = z.output<(typeof TOOL_SCHEMAS)[N]>;

const DESCRIPTIONS: Record<ToolName, string> = {
  core_memory_append: 'Append a line to a core memory block.',
  core_memory_rewrite: 'Replace the whole content of a core memory block (to correct or condense it).',
  episodic_memory_insert: 'Insert new events.',
  episodic_memory_merge: 'Add details to an existing event (and optionally rewrite its summary).',
  episodic_memory_replace: 'Remove events and insert the ones that replace them.',
  semantic_memory_insert: 'Insert new facts.',
  semantic_memory_update:
    'Correct an existing fact (it was wrong or incomplete); only the fields given change.',
  semantic_memory_supersede:
    'A fact changed over time (moved, new job, new preference): the old fact is closed, kept in history, and the new one replaces it.',
  procedural_memory_insert: 'Insert new procedures.',
  procedural_memory_update: 'Update an existing procedure; only the fields given change.',
  resource_memory_insert: 'Insert new resources.',
  resource_memory_update: 'Update an existing resource; only the fields given change.',
  knowledge_vault_insert: 'Store new sensitive entries (the secret value is encrypted).',
  knowledge_vault_update: 'Update an existing vault entry; only the fields given change.',
  search_in_memory: 'Search the agent memory (hybrid: meaning, words and names).',
  finish_memory_update: 'End this update: call it when done, or when there is nothing to remember.',
  trigger_memory_update: 'Send the new content to the managers of these memory types.',
};

/** The tools each manager may call. */
export const MANAGER_TOOLS: Record<MemoryKind, ToolName[]> = {
  core: ['core_memory_append', 'core_memory_rewrite'],
  episodic: ['episodic_memory_insert', 'episodic_memory_merge', 'episodic_memory_replace'],
  semantic: ['semantic_memory_insert', 'semantic_memory_update', 'semantic_memory_supersede'],
  procedural: ['procedural_memory_insert', 'procedural_memory_update'],
  resource: ['resource_memory_insert', 'resource_memory_update'],
  knowledge_vault: ['knowledge_vault_insert', 'knowledge_vault_update'],
};
for (const names of Object.values(MANAGER_TOOLS)) names.push('search_in_memory', 'finish_memory_update');

const definitions = new Map<ToolName, LlmTool>();

/** The provider-neutral definition (JSON Schema generated from the zod schema). */
export function toolDefinition(name: ToolName): LlmTool {
  let def = definitions.get(name);
  if (!def) {
    const { $schema: _ignored, ...parameters } = z.toJSONSchema(TOOL_SCHEMAS[name], { io: 'input' });
    def = { name, description: DESCRIPTIONS[name], parameters };
    definitions.set(name, def);
  }
  return def;
}

/** The memory type a tool writes (null: the tool writes none). */
export function toolKind(name: ToolName): MemoryKind | null {
  if (name.startsWith('knowledge_vault_')) return 'knowledge_vault';
  const kind = /^(core|episodic|semantic|procedural|resource)_memory_/.exec(name)?.[1];
  return (kind as MemoryKind | undefined) ?? null;
}

/** Every write tool of every type: the one memory manager that handles short content alone. */
export const ALL_WRITE_TOOLS: ToolName[] = [...new Set(Object.values(MANAGER_TOOLS).flat())].filter(
  (n) => toolKind(n) !== null,
);

const NAIVE_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A date as models write it, as ISO 8601 with an offset (UTC when none is given), or null. */
function lenientDate(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    // Epoch seconds or milliseconds.
    const date = new Date(value < 1e11 ? value * 1000 : value);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const naive = NAIVE_DATE_TIME.exec(text);
  if (naive) return `${naive[1]}T${naive[2]!.length === 5 ? `${naive[2]}:00` : naive[2]}Z`;
  if (DATE_ONLY.test(text)) return `${text}T00:00:00Z`;
  const parsed = new Date(text);
  return /\d{4}/.test(text) && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : null;
}

const ISO_WITH_OFFSET = z.iso.datetime({ offset: true });
const DATE_ARGS = ['occurred_at', 'valid_from', 'valid_to'];

/**
 * Mends what models commonly get almost right, before the schema judges the arguments: dates
 * without `T` or offset (`2026-12-01 19:28:13`), epoch numbers, a single item where a list is
 * expected, a list of types written as one string. Each repair is reported to the model.
 */
export function repairToolArgs(name: ToolName, raw: unknown): { args: unknown; repairs: string[] } {
  const repairs: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { args: raw, repairs };
  const args = { ...(raw as Record<string, unknown>) };
  const listKey = 'items' in TOOL_SCHEMAS[name].shape ? 'items' : null;
  if (listKey && args[listKey] === undefined && Object.keys(args).length > 0) {
    const inner = repairToolArgs(name, { [listKey]: [args] });
    return {
      args: inner.args,
      repairs: [`read the arguments as one item of "${listKey}"`, ...inner.repairs],
    };
  }
  for (const key of ['items', 'new_items']) {
    const list = args[key];
    if (list && typeof list === 'object' && !Array.isArray(list)) {
      args[key] = [list];
      repairs.push(`read "${key}" as a list of one item`);
    }
  }
  for (const key of ['items', 'new_items']) {
    const list = args[key];
    if (!Array.isArray(list)) continue;
    args[key] = list.map((item: unknown) => {
      if (!item || typeof item !== 'object') return item;
      const fields = item as Record<string, unknown>;
      const out = { ...fields };
      for (const key of DATE_ARGS) {
        const when = out[key];
        if (when === undefined || when === null || ISO_WITH_OFFSET.safeParse(when).success) continue;
        const fixed = lenientDate(when);
        if (!fixed) continue;
        repairs.push(`read ${key} ${JSON.stringify(when)} as ${fixed}`);
        out[key] = fixed;
      }
      return out;
    });
  }
  // Dates at the top level: an update's validity, a superseded fact's time of change.
  for (const key of [...DATE_ARGS, 'changed_at']) {
    const when = args[key];
    if (when === undefined || when === null || ISO_WITH_OFFSET.safeParse(when).success) continue;
    const fixed = lenientDate(when);
    if (!fixed) continue;
    repairs.push(`read ${key} ${JSON.stringify(when)} as ${fixed}`);
    args[key] = fixed;
  }
  if (name === 'trigger_memory_update' && typeof args.memory_types === 'string') {
    args.memory_types = args.memory_types.split(/[\s,]+/).filter(Boolean);
    repairs.push('read memory_types as a list');
  }
  return { args, repairs };
}

export type ParsedCall =
  { ok: true; name: ToolName; args: unknown; repairs: string[] } | { ok: false; error: string };

/** Parses a tool call's JSON arguments with its schema; the error text is meant for the model. */
export function parseToolCall(allowed: ToolName[], name: string, json: string): ParsedCall {
  if (!(allowed as string[]).includes(name)) {
    return { ok: false, error: `unknown tool "${name}"; use one of: ${allowed.join(', ')}` };
  }
  let raw: unknown;
  // Some models wrap the JSON in a Markdown fence.
  const body = json.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
  try {
    raw = body === '' ? {} : JSON.parse(body);
  } catch {
    return { ok: false, error: 'the arguments are not valid JSON' };
  }
  const { args, repairs } = repairToolArgs(name as ToolName, raw);
  const parsed = TOOL_SCHEMAS[name as ToolName].safeParse(args);
  if (!parsed.success) return { ok: false, error: `invalid arguments:\n${z.prettifyError(parsed.error)}` };
  return { ok: true, name: name as ToolName, args: parsed.data, repairs };
}
