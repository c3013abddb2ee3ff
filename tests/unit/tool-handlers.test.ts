import { describe, expect, it } from 'vitest';
import type { StagedChange } from '../../server/modules/consolidation/apply.service.js';
import {
  executeToolCall,
  TOOL_HANDLERS,
  type StagedBlock,
  type ToolContext,
} from '../../server/modules/consolidation/tool-handlers.js';
import { MANAGER_TOOLS, TOOL_SCHEMAS } from '../../server/modules/consolidation/tools.js';
import type { MemoryKind } from '../../shared/memory-events.js';

const EVENT = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const FACT = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c';

/** A manager's context over in-memory items and blocks; what it stages is kept for the asserts. */
function manager(type: MemoryKind, opts: { vault?: boolean } = {}) {
  const staged: StagedChange[] = [];
  const blocks = new Map<string, StagedBlock>([
    ['human', { value: 'Name: Ana', limit: 40 }],
    ['persona', { value: '', limit: 2000 }],
  ]);
  const items = new Map<string, { type: string; details: string | null }>([
    [EVENT, { type: 'episodic', details: 'Flew to Lisbon' }],
    [FACT, { type: 'semantic', details: null }],
  ]);
  const searched: string[] = [];
  const ctx: ToolContext = {
    type,
    actor: `${type}_memory_manager`,
    core: () => Promise.resolve(blocks),
    findItem: (itemType, id) => {
      const item = items.get(id);
      return Promise.resolve(item && item.type === itemType ? item : null);
    },
    search: (query, itemType) => {
      searched.push(`${itemType}:${query}`);
      return Promise.resolve([`hit for ${query}`]);
    },
    vaultConfigured: opts.vault ?? true,
    staged,
  };
  const call = async (name: string, args: unknown): Promise<Record<string, unknown>> => {
    const outcome = await executeToolCall(ctx, MANAGER_TOOLS[type], {
      id: 'call_1',
      name,
      arguments: typeof args === 'string' ? args : JSON.stringify(args),
    });
    const answer: Record<string, unknown> = JSON.parse(outcome.content) as Record<string, unknown>;
    return { ...answer, finish: outcome.finish ?? false };
  };
  return { call, staged, blocks, searched };
}

describe('the memory managers tool dispatch', () => {
  it('has one handler for every tool and answers a tool the manager may not call with the ones it may', async () => {
    const m = manager('semantic');
    const res = await m.call('core_memory_append', { label: 'human', content: 'x' });
    expect(res.error).toBe(
      `unknown tool "core_memory_append"; use one of: ${MANAGER_TOOLS.semantic.join(', ')}`,
    );
    expect(m.staged).toEqual([]);
    expect(Object.keys(TOOL_HANDLERS).sort()).toEqual(Object.keys(TOOL_SCHEMAS).sort());
  });

  it("stages new items in the memory API's own fields, and rejects sloppy ones whole", async () => {
    const m = manager('semantic');
    expect(
      await m.call('semantic_memory_insert', { items: [{ name: 'Ana', summary: 'Lives in Porto' }] }),
    ).toEqual({
      ok: true,
      inserted: 1,
      finish: false,
    });
    expect(m.staged).toEqual([
      {
        kind: 'insert',
        type: 'semantic',
        fields: { name: 'Ana', summary: 'Lives in Porto' },
        actor: 'semantic_memory_manager',
      },
    ]);
    const sloppy = await m.call('semantic_memory_insert', {
      items: [{ name: 'Ana', summary: 'ok' }, { name: 'x' }],
    });
    expect(String(sloppy.error)).toMatch(/invalid arguments[\s\S]*items\[1\]\.summary/);
    expect(m.staged).toHaveLength(1);
  });

  it('updates only an item that exists, and tells the model when the id is made up', async () => {
    const m = manager('semantic');
    expect(await m.call('semantic_memory_update', { id: FACT, summary: 'Moved to Lisbon' })).toMatchObject({
      ok: true,
    });
    expect(m.staged[0]).toMatchObject({ kind: 'update', id: FACT, patch: { summary: 'Moved to Lisbon' } });
    const madeUp = await m.call('semantic_memory_update', { id: EVENT, summary: 'x' });
    expect(madeUp.error).toBe(
      `no semantic item with id ${EVENT}; use an id from the list, or search_in_memory`,
    );
    expect(await m.call('semantic_memory_update', { id: FACT })).toMatchObject({
      error: 'give at least one field to change',
    });
    expect(m.staged).toHaveLength(1);
  });

  it('merges details into an event and replaces events with new ones', async () => {
    const m = manager('episodic');
    await m.call('episodic_memory_merge', { id: EVENT, details: 'Stayed in Alfama' });
    expect(m.staged[0]).toMatchObject({
      kind: 'update',
      operation: 'merged',
      patch: { details: 'Flew to Lisbon\nStayed in Alfama' },
    });
    const replaced = await m.call('episodic_memory_replace', {
      ids: [EVENT],
      new_items: [{ event_type: 'trip', summary: 'Lisbon trip', occurred_at: '2026-05-01T10:00:00Z' }],
    });
    expect(replaced).toMatchObject({ ok: true, removed: 1, inserted: 1 });
    expect(m.staged.slice(1).map((c) => c.kind)).toEqual(['delete', 'insert']);
    expect((m.staged[2] as Extract<StagedChange, { kind: 'insert' }>).fields.occurredAt).toEqual(
      new Date('2026-05-01T10:00:00Z'),
    );
  });

  it("appends to a core block within its limit, and says how much room there was when it won't fit", async () => {
    const m = manager('core');
    expect(await m.call('core_memory_append', { label: 'human', content: 'Likes trams' })).toMatchObject({
      ok: true,
    });
    expect(m.blocks.get('human')!.value).toBe('Name: Ana\nLikes trams');
    const over = await m.call('core_memory_append', { label: 'human', content: 'x'.repeat(100) });
    expect(String(over.error)).toMatch(
      /^Core block "human" has 19 of 40 characters[\s\S]*Rewrite it shorter instead\.$/,
    );
    expect(m.blocks.get('human')!.value).toBe('Name: Ana\nLikes trams');
    expect((await m.call('core_memory_rewrite', { label: 'nope', content: 'x' })).error).toBe(
      'no core block "nope"; blocks: human, persona',
    );
    expect(m.staged).toEqual([
      { kind: 'core', label: 'human', op: 'append', text: 'Likes trams', actor: 'core_memory_manager' },
    ]);
  });

  it('searches its own type unless told another, and reads core blocks from the staged state', async () => {
    const m = manager('procedural');
    expect(await m.call('search_in_memory', { query: 'tram routes' })).toMatchObject({
      results: ['hit for tram routes'],
    });
    await m.call('search_in_memory', { query: 'Ana', memory_type: 'semantic' });
    expect(m.searched).toEqual(['procedural:tram routes', 'semantic:Ana']);
    expect(await m.call('search_in_memory', { query: 'x', memory_type: 'core' })).toMatchObject({
      results: [
        { label: 'human', value: 'Name: Ana' },
        { label: 'persona', value: '' },
      ],
    });
  });

  it('stores nothing in a vault that has no keys, and finishes when told', async () => {
    const m = manager('knowledge_vault', { vault: false });
    const res = await m.call('knowledge_vault_insert', {
      items: [{ entry_type: 'password', caption: 'wifi', secret_value: 'hunter2', sensitivity: 'high' }],
    });
    expect(String(res.error)).toMatch(/not configured/);
    expect(m.staged).toEqual([]);
    expect(await m.call('finish_memory_update', '')).toEqual({ ok: true, finish: true });
  });
});
