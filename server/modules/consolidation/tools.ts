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
const id = z.uuid().describe('the id of an existing item, from the list or from search_in_memory');

/**
 * A memory type's fields as its manager writes them: snake_case names, each field's own schema
 * (with a hint where given), and `stricter` fields where a manager must say more than an API
 * caller (whose omissions get defaults).
 */
function toolFields(
  fields: z.ZodObject,
  opts: { hints?: Record<string, string>; stricter?: Record<string, z.ZodType> } = {},
): z.ZodObject<Record<string, z.ZodType>> {
  const shape = Object.entries(fields.shape).map(([key, schema]) => {
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
const ZSemanticItem = toolFields(ZSemanticFields, { hints: { name: 'what the fact is about' } });
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
  semantic_memory_update: 'Update an existing fact; only the fields given change.',
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
  semantic: ['semantic_memory_insert', 'semantic_memory_update'],
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

export type ParsedCall = { ok: true; name: ToolName; args: unknown } | { ok: false; error: string };

/** Parses a tool call's JSON arguments with its schema; the error text is meant for the model. */
export function parseToolCall(allowed: ToolName[], name: string, json: string): ParsedCall {
  if (!(allowed as string[]).includes(name)) {
    return { ok: false, error: `unknown tool "${name}"; use one of: ${allowed.join(', ')}` };
  }
  let raw: unknown;
  try {
    raw = json.trim() === '' ? {} : JSON.parse(json);
  } catch {
    return { ok: false, error: 'the arguments are not valid JSON' };
  }
  const parsed = TOOL_SCHEMAS[name as ToolName].safeParse(raw);
  if (!parsed.success) return { ok: false, error: `invalid arguments:\n${z.prettifyError(parsed.error)}` };
  return { ok: true, name: name as ToolName, args: parsed.data };
}
