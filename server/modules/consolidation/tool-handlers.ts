import { camelKeys } from '../../case.js';
import type { LlmToolCall } from '../../llm/types.js';
import type { MemoryKind } from '../../../shared/memory-events.js';
import { appendedValue, overflowOf, MEMORY_DEFS, type MemoryType } from '../memory/index.js';
import type { StagedChange } from './apply.service.js';
import { parseToolCall, type ToolArgs, toolKind, type ToolName } from './tools.js';

/** What a tool call answers the model (JSON), and whether it ends the manager's loop. */
export interface ToolOutcome {
  content: string;
  finish?: boolean;
  /** Set when the call failed: what the model was told. */
  error?: string;
}

/** A core block as the managers see it while they work (their staged appends included). */
export interface StagedBlock {
  value: string;
  limit: number;
}

/**
 * What one manager's tool calls work with. Tools never write: they read through these functions
 * and stage changes, which the job applies in one transaction once every manager is done.
 */
export interface ToolContext {
  /**
   * The memory type being written, and its manager's name as the author of the changes. For the
   * manager of every type (short content), null until a call names its type by its tool.
   */
  type: MemoryKind | null;
  actor: string;
  /** The agent's core blocks, shared by the job's managers. */
  core: () => Promise<Map<string, StagedBlock>>;
  /** A live item of the agent's, or null (for an id the model made up). */
  findItem: (type: MemoryType, id: string) => Promise<{ details?: string | null } | null>;
  /** One line per hit, for the model (every searchable type when null). */
  search: (query: string, type: MemoryType | null) => Promise<string[]>;
  vaultConfigured: boolean;
  staged: StagedChange[];
}

export const ok = (detail: Record<string, unknown> = {}): ToolOutcome => ({
  content: JSON.stringify({ ok: true, ...detail }),
});
export const fail = (error: string): ToolOutcome => ({ content: JSON.stringify({ error }), error });

const missing = (type: MemoryType, id: string) =>
  fail(`no ${type} item with id ${id}; use an id from the list, or search_in_memory`);

type Handler<N extends ToolName> = (
  ctx: ToolContext,
  args: ToolArgs<N>,
) => ToolOutcome | Promise<ToolOutcome>;

async function coreWrite(ctx: ToolContext, args: ToolArgs<'core_memory_append'>, op: 'append' | 'rewrite') {
  const blocks = await ctx.core();
  const block = blocks.get(args.label);
  if (!block) return fail(`no core block "${args.label}"; blocks: ${[...blocks.keys()].join(', ')}`);
  const value = op === 'append' ? appendedValue(block.value, args.content) : args.content;
  const overflow = overflowOf({ label: args.label, limit: block.limit }, block.value, value);
  if (overflow) return fail(`${overflow}. Rewrite it shorter instead.`);
  block.value = value;
  ctx.staged.push({ kind: 'core', label: args.label, op, text: args.content, actor: ctx.actor });
  return ok({ remaining: block.limit - value.length });
}

/** New items of the manager's own type, checked against the memory API's schema. */
function insertItems(ctx: ToolContext, args: { items: Record<string, unknown>[] }): ToolOutcome {
  const type = ctx.type as MemoryType;
  if (type === 'knowledge_vault' && !ctx.vaultConfigured) {
    return fail('the knowledge vault is not configured on this server (VAULT_KEYS); store nothing');
  }
  const rows = args.items.map((i) => MEMORY_DEFS[type].fields.safeParse(camelKeys(i)));
  const bad = rows.find((r) => !r.success);
  if (bad && !bad.success) return fail(`invalid items: ${bad.error.message}`);
  for (const r of rows)
    if (r.success) ctx.staged.push({ kind: 'insert', type, fields: r.data, actor: ctx.actor });
  return ok({ inserted: rows.length });
}

/** A partial update of an item of the manager's own type. */
async function updateItem(ctx: ToolContext, args: Record<string, unknown>) {
  const type = ctx.type as MemoryType;
  // The tool's schema requires the id (tools.ts `patch`).
  const { id, ...fields } = args as { id: string } & Record<string, unknown>;
  if (Object.keys(fields).length === 0) return fail('give at least one field to change');
  if (type === 'knowledge_vault' && fields.secret_value !== undefined && !ctx.vaultConfigured) {
    return fail('the knowledge vault is not configured on this server (VAULT_KEYS)');
  }
  if (!(await ctx.findItem(type, id))) return missing(type, id);
  const patch = MEMORY_DEFS[type].patch.safeParse(camelKeys(fields));
  if (!patch.success) return fail(`invalid fields: ${patch.error.message}`);
  ctx.staged.push({ kind: 'update', type, id, patch: patch.data, operation: 'updated', actor: ctx.actor });
  return ok();
}

/** One handler per tool. */
export const TOOL_HANDLERS: { [N in ToolName]: Handler<N> } = {
  finish_memory_update: () => ({ ...ok(), finish: true }),
  trigger_memory_update: () => fail('only the meta memory manager triggers updates'),

  search_in_memory: async (ctx, args) => {
    const type = args.memory_type ?? ctx.type;
    if (type === 'core') {
      return ok({
        results: [...(await ctx.core()).entries()].map(([label, b]) => ({ label, value: b.value })),
      });
    }
    return ok({ results: await ctx.search(args.query, type) });
  },

  core_memory_append: (ctx, args) => coreWrite(ctx, args, 'append'),
  core_memory_rewrite: (ctx, args) => coreWrite(ctx, args, 'rewrite'),

  episodic_memory_merge: async (ctx, args) => {
    const item = await ctx.findItem('episodic', args.id);
    if (!item) return missing('episodic', args.id);
    ctx.staged.push({
      kind: 'update',
      type: 'episodic',
      id: args.id,
      patch: {
        details: item.details ? `${item.details}\n${args.details}` : args.details,
        ...(args.summary ? { summary: args.summary } : {}),
      },
      operation: 'merged',
      actor: ctx.actor,
    });
    return ok();
  },

  episodic_memory_replace: async (ctx, args) => {
    for (const id of args.ids) if (!(await ctx.findItem('episodic', id))) return missing('episodic', id);
    const inserts = args.new_items.map((i) => MEMORY_DEFS.episodic.fields.safeParse(camelKeys(i)));
    const bad = inserts.find((r) => !r.success);
    if (bad && !bad.success) return fail(`invalid new_items: ${bad.error.message}`);
    for (const id of args.ids) ctx.staged.push({ kind: 'delete', type: 'episodic', id, actor: ctx.actor });
    for (const r of inserts) {
      if (r.success) ctx.staged.push({ kind: 'insert', type: 'episodic', fields: r.data, actor: ctx.actor });
    }
    return ok({ removed: args.ids.length, inserted: inserts.length });
  },

  episodic_memory_insert: insertItems,
  semantic_memory_insert: insertItems,
  procedural_memory_insert: insertItems,
  resource_memory_insert: insertItems,
  knowledge_vault_insert: insertItems,

  semantic_memory_update: updateItem,

  semantic_memory_supersede: async (ctx, args) => {
    const old = (await ctx.findItem('semantic', args.id)) as {
      name?: string | null;
      validTo?: Date | null;
    } | null;
    if (!old) return missing('semantic', args.id);
    if (old.validTo)
      return fail(`the fact ${args.id} was already superseded; supersede the fact that replaced it`);
    const at = new Date(args.changed_at ?? Date.now());
    const fields = MEMORY_DEFS.semantic.fields.safeParse({
      name: args.name ?? old.name,
      summary: args.summary,
      details: args.details,
      validFrom: at,
    });
    if (!fields.success) return fail(`invalid fact: ${fields.error.message}`);
    ctx.staged.push(
      {
        kind: 'update',
        type: 'semantic',
        id: args.id,
        patch: { validTo: at },
        operation: 'superseded',
        actor: ctx.actor,
      },
      { kind: 'insert', type: 'semantic', fields: fields.data, actor: ctx.actor, supersedesId: args.id },
    );
    return ok({ closed: args.id, valid_from: at.toISOString() });
  },
  procedural_memory_update: updateItem,
  resource_memory_update: updateItem,
  knowledge_vault_update: updateItem,
};

/**
 * Runs one tool call of a manager allowed `tools`: arguments that do not parse, or a tool it may
 * not call, get an error the model can correct; they never fail the job.
 */
export async function executeToolCall(
  ctx: ToolContext,
  tools: ToolName[],
  call: LlmToolCall,
): Promise<ToolOutcome> {
  const parsed = parseToolCall(tools, call.name, call.arguments);
  if (!parsed.ok) return fail(parsed.error);
  const handler = TOOL_HANDLERS[parsed.name] as Handler<ToolName>;
  // A write tool names its type: the manager of every type writes each as that type's manager.
  const kind = toolKind(parsed.name);
  const callCtx = kind && kind !== ctx.type ? { ...ctx, type: kind, actor: `${kind}_memory_manager` } : ctx;
  const outcome = await handler(callCtx, parsed.args as ToolArgs<ToolName>);
  if (outcome.error || parsed.repairs.length === 0) return outcome;
  // Tell the model what was read differently from what it wrote.
  const answer = JSON.parse(outcome.content) as Record<string, unknown>;
  return { ...outcome, content: JSON.stringify({ ...answer, repaired: parsed.repairs }) };
}
