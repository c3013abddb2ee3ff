import { describe, expect, it } from 'vitest';
import { extractKeywords } from '../../server/modules/consolidation/pipeline.js';
import {
  MANAGER_TOOLS,
  parseToolCall,
  repairToolArgs,
  toolDefinition,
} from '../../server/modules/consolidation/tools.js';
import { ZSemanticFields } from '../../server/modules/memory/memory.schema.js';

describe('memory manager tools', () => {
  it('gives each manager its own tools plus search_in_memory and finish_memory_update', () => {
    expect(MANAGER_TOOLS.semantic).toEqual([
      'semantic_memory_insert',
      'semantic_memory_update',
      'semantic_memory_supersede',
      'search_in_memory',
      'finish_memory_update',
    ]);
    expect(MANAGER_TOOLS.core).toContain('core_memory_rewrite');
    expect(MANAGER_TOOLS.episodic).toContain('episodic_memory_replace');
  });

  it('describes arguments with a JSON Schema generated from the zod schema', () => {
    const def = toolDefinition('knowledge_vault_insert');
    expect(def.parameters).toMatchObject({
      type: 'object',
      required: ['items'],
      properties: { items: { type: 'array', minItems: 1 } },
    });
    expect(JSON.stringify(def.parameters)).toContain('"enum":["low","medium","high"]');
    expect(def.parameters).not.toHaveProperty('$schema');
  });

  it("takes the items' fields from the memory API's schemas: the same names in snake_case, the same limits", () => {
    const item = (
      toolDefinition('procedural_memory_insert').parameters as {
        properties: { items: { items: { properties: Record<string, unknown> } } };
      }
    ).properties.items.items.properties;
    expect(Object.keys(item).sort()).toEqual(['entry_type', 'steps', 'summary']);
    const tools = ['semantic_memory_insert' as const];
    const withSummary = (summary: string) => JSON.stringify({ items: [{ name: 'Ana', summary }] });
    const max = ZSemanticFields.shape.summary.maxLength!;
    expect(parseToolCall(tools, 'semantic_memory_insert', withSummary('x'.repeat(max))).ok).toBe(true);
    expect(parseToolCall(tools, 'semantic_memory_insert', withSummary('x'.repeat(max + 1))).ok).toBe(false);
  });

  it('explains bad calls in words the model can act on', () => {
    const tools = MANAGER_TOOLS.semantic;
    expect(parseToolCall(tools, 'episodic_memory_insert', '{}')).toEqual({
      ok: false,
      error: expect.stringContaining('unknown tool "episodic_memory_insert"') as string,
    });
    expect(parseToolCall(tools, 'semantic_memory_insert', '{"items": [')).toEqual({
      ok: false,
      error: 'the arguments are not valid JSON',
    });
    const missing = parseToolCall(tools, 'semantic_memory_insert', '{"items": [{"name": "Tea"}]}');
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.error).toMatch(/invalid arguments[\s\S]*items\[0\]\.summary/);
    expect(parseToolCall(tools, 'semantic_memory_update', '{"id": "nope", "summary": "x"}').ok).toBe(false);
    expect(parseToolCall(tools, 'finish_memory_update', '')).toEqual({
      ok: true,
      name: 'finish_memory_update',
      args: {},
      repairs: [],
    });
  });
});

describe('extractKeywords', () => {
  it('keeps the most frequent meaningful words, without stopwords or bare numbers', () => {
    const words = extractKeywords(
      'user: I went to Lisbon with Ana. Lisbon was sunny, and Ana loved the trams in 2026.',
    );
    expect(words.slice(0, 2).sort()).toEqual(['ana', 'lisbon']);
    expect(words).toContain('trams');
    expect(words).not.toContain('the');
    expect(words).not.toContain('user');
    expect(words).not.toContain('2026');
  });
});

describe('repairToolArgs', () => {
  it('reads dates as models write them as ISO 8601, and reports each repair', () => {
    const { args, repairs } = repairToolArgs('episodic_memory_insert', {
      items: [
        { occurred_at: '2026-12-01 19:28:13', summary: 'a' },
        { occurred_at: '2026-12-01', summary: 'b' },
        { occurred_at: 1764617293, summary: 'c' },
        { occurred_at: '2026-12-01T19:28:13+01:00', summary: 'd' },
      ],
    });
    expect((args as { items: { occurred_at: string }[] }).items.map((i) => i.occurred_at)).toEqual([
      '2026-12-01T19:28:13Z',
      '2026-12-01T00:00:00Z',
      '2025-12-01T19:28:13.000Z',
      '2026-12-01T19:28:13+01:00',
    ]);
    expect(repairs).toEqual([
      'read occurred_at "2026-12-01 19:28:13" as 2026-12-01T19:28:13Z',
      'read occurred_at "2026-12-01" as 2026-12-01T00:00:00Z',
      'read occurred_at 1764617293 as 2025-12-01T19:28:13.000Z',
    ]);
  });

  it('leaves a date it cannot read for the schema to reject', () => {
    const parsed = parseToolCall(
      MANAGER_TOOLS.episodic,
      'episodic_memory_insert',
      JSON.stringify({ items: [{ occurred_at: 'last Tuesday', event_type: 'x', summary: 'y' }] }),
    );
    expect(parsed.ok).toBe(false);
  });

  it('wraps a single item in the list, and splits types written as one string', () => {
    const single = parseToolCall(
      MANAGER_TOOLS.semantic,
      'semantic_memory_insert',
      '```json\n{"name": "Tea", "summary": "green", "confidence": 0.9}\n```',
    );
    expect(single).toEqual({
      ok: true,
      name: 'semantic_memory_insert',
      args: { items: [{ name: 'Tea', summary: 'green' }] },
      repairs: ['read the arguments as one item of "items"'],
    });
    const trigger = parseToolCall(
      ['trigger_memory_update'],
      'trigger_memory_update',
      '{"memory_types": "episodic, semantic"}',
    );
    expect(trigger.ok && trigger.args).toEqual({ memory_types: ['episodic', 'semantic'] });
  });
});
