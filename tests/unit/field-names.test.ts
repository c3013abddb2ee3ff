import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { renameFields, snakePath } from '../../server/rest/field-names.js';

const ZAgent = z.object({
  agentType: z.string(),
  systemPrompt: z.string().optional(),
  modelConfig: z.object({ provider: z.string(), parameters: z.record(z.string(), z.unknown()) }),
  coreBlocks: z.array(z.object({ blockLabel: z.string(), charLimit: z.number().default(2000) })),
});

describe('renameFields: the REST bridge naming layer', () => {
  it('renames declared fields from snake_case going in, through nested objects and arrays', () => {
    const wire = {
      agent_type: 'chat',
      system_prompt: 'be brief',
      model_config: { provider: 'openai', parameters: { max_tokens: 5, topP: 1 } },
      core_blocks: [{ block_label: 'human', char_limit: 100 }],
    };
    expect(renameFields(ZAgent, wire, 'in')).toEqual({
      agentType: 'chat',
      systemPrompt: 'be brief',
      // A free-form record's keys reach the service as sent.
      modelConfig: { provider: 'openai', parameters: { max_tokens: 5, topP: 1 } },
      coreBlocks: [{ blockLabel: 'human', charLimit: 100 }],
    });
    expect(ZAgent.parse(renameFields(ZAgent, wire, 'in')).coreBlocks[0]!.charLimit).toBe(100);
  });

  it('renames to snake_case coming out, leaving dates and record keys alone', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const ZOut = z.object({
      createdAt: z.date(),
      lastModified: z.object({ byUser: z.string() }),
      meta: z.record(z.string(), z.string()),
    });
    expect(
      renameFields(ZOut, { createdAt: at, lastModified: { byUser: 'x' }, meta: { someKey: 'v' } }, 'out'),
    ).toEqual({
      created_at: at,
      last_modified: { by_user: 'x' },
      meta: { someKey: 'v' },
    });
  });

  it('leaves undeclared keys for the schema to judge, so a strict schema still rejects them', () => {
    const strict = z.strictObject({ agentType: z.string() });
    const renamed = renameFields(strict, { agent_type: 'chat', agent_typo: 'x' }, 'in');
    expect(renamed).toEqual({ agentType: 'chat', agent_typo: 'x' });
    expect(strict.safeParse(renamed).success).toBe(false);
  });

  it("picks a union's member by its discriminator before renaming", () => {
    const ZEvent = z.discriminatedUnion('type', [
      z.object({ type: z.literal('content'), deltaText: z.string() }),
      z.object({
        type: z.literal('complete'),
        assistantMessageId: z.string(),
        deltaText: z.string().optional(),
      }),
    ]);
    expect(renameFields(ZEvent, { type: 'complete', assistantMessageId: 'm1' }, 'out')).toEqual({
      type: 'complete',
      assistant_message_id: 'm1',
    });
    expect(renameFields(ZEvent, { type: 'content', delta_text: 'hi' }, 'in')).toEqual({
      type: 'content',
      deltaText: 'hi',
    });
  });

  it('reads through optional, nullable, default and pipe wrappers', () => {
    const ZWrapped = z
      .object({ timeRange: z.object({ fromDate: z.string() }).nullable().optional() })
      .pipe(z.object({ timeRange: z.object({ fromDate: z.string() }).nullable().optional() }));
    expect(renameFields(ZWrapped, { time_range: { from_date: 'x' } }, 'in')).toEqual({
      timeRange: { fromDate: 'x' },
    });
    expect(renameFields(ZWrapped, { time_range: null }, 'in')).toEqual({ timeRange: null });
  });

  it('names a validation error path as the REST client wrote it', () => {
    expect(snakePath('modelConfig.maxTokens')).toBe('model_config.max_tokens');
    expect(snakePath('items.0.occurredAt')).toBe('items.0.occurred_at');
  });
});
