import { describe, expect, it } from 'vitest';
import { buildPrompt, DEFAULT_SYSTEM_PROMPT, type PromptInput } from '../../server/modules/chat/prompt.js';

const id = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const common = {
  agentId: '00000000-0000-7000-8000-00000000000a',
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
  lastModified: { at: '2026-01-01T00:00:00Z', operation: 'created', by: 'user' as const },
  embeddingStatus: 'ready' as const,
  validFrom: new Date('2026-01-01T00:00:00Z'),
  validTo: null,
  supersedesId: null,
};
/** An event that is both among the most recent and the most relevant (it must appear once). */
const launch = {
  ...common,
  id: id(1),
  type: 'episodic' as const,
  occurredAt: new Date('2026-11-26T09:00:00Z'),
  eventType: 'meeting',
  actor: 'user',
  summary: 'Planned the launch',
  details: null,
};

function input(overrides: Partial<PromptInput> = {}): PromptInput {
  return {
    systemPrompt: 'You are Ada, a research assistant.',
    now: new Date('2026-11-27T10:00:00Z'),
    coreBlocks: [
      { label: 'persona', value: 'Curious and precise.' },
      { label: 'human', value: 'Name: Grace. Likes COBOL.' },
    ],
    memories: {
      recentEpisodic: [launch],
      relevantEpisodic: [
        {
          ...common,
          id: id(2),
          type: 'episodic',
          occurredAt: new Date('2026-03-01T12:00:00Z'),
          eventType: 'trip',
          actor: 'user',
          summary: 'Visited Lisbon',
          details: null,
        },
        launch,
      ],
      semantic: [
        {
          ...common,
          id: id(3),
          type: 'semantic',
          name: 'COBOL',
          summary: 'A business language from 1959',
          details: null,
          source: null,
        },
      ],
      procedural: [
        {
          ...common,
          id: id(4),
          type: 'procedural',
          entryType: 'workflow',
          summary: 'Release',
          steps: ['test', 'tag'],
        },
      ],
      resource: [
        {
          ...common,
          id: id(5),
          type: 'resource',
          title: 'Launch plan',
          summary: 'Dates and owners',
          resourceType: 'document',
        },
      ],
      knowledgeVault: [
        {
          ...common,
          id: id(6),
          type: 'knowledge_vault',
          entryType: 'api_key',
          source: null,
          sensitivity: 'medium',
          caption: 'Staging API key',
        },
        {
          ...common,
          id: id(7),
          type: 'knowledge_vault',
          entryType: 'password',
          source: null,
          sensitivity: 'high',
          caption: 'Bank password',
        },
      ],
    },
    context: { page: 'settings', locale: 'en-GB' },
    history: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello Grace' },
      { role: 'tool', content: 'internal' },
    ],
    message: 'When is the launch?',
    ...overrides,
  };
}

describe('buildPrompt', () => {
  it('lays out the MIRIX prompt: system prompt, time, core memory, each memory type, context, then history and the message', () => {
    const messages = buildPrompt(input());
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'When is the launch?' });
    expect(messages[0]?.content).toBe(
      [
        'You are Ada, a research assistant.',
        'Current time: 2026-11-27T10:00:00.000Z',
        '<core_memory>\n<persona>\nCurious and precise.\n</persona>\n<human>\nName: Grace. Likes COBOL.\n</human>\n</core_memory>',
        '<episodic_memory>\n- [2026-11-26 09:00] meeting (user): Planned the launch\n- [2026-03-01 12:00] trip (user): Visited Lisbon\n</episodic_memory>',
        '<semantic_memory>\n- COBOL: A business language from 1959\n</semantic_memory>',
        '<procedural_memory>\n- workflow: Release\n  1. test\n  2. tag\n</procedural_memory>',
        '<resource_memory>\n- Launch plan (document): Dates and owners\n</resource_memory>',
        '<knowledge_vault>\n- Staging API key (api_key, medium sensitivity; the value itself is not shown)\n</knowledge_vault>',
        '<context>\npage: settings\nlocale: en-GB\n</context>',
      ].join('\n\n'),
    );
  });

  it('never includes high-sensitivity vault items', () => {
    expect(JSON.stringify(buildPrompt(input()))).not.toContain('Bank password');
  });

  it('says "(none)" for empty sections instead of dropping them, and falls back to a default system prompt', () => {
    const system = buildPrompt(
      input({
        systemPrompt: null,
        coreBlocks: [{ label: 'persona', value: '' }],
        memories: {
          recentEpisodic: [],
          relevantEpisodic: [],
          semantic: [],
          procedural: [],
          resource: [],
          knowledgeVault: [],
        },
        context: null,
      }),
    )[0]!.content;
    expect(system.startsWith(DEFAULT_SYSTEM_PROMPT)).toBe(true);
    for (const tag of [
      'episodic_memory',
      'semantic_memory',
      'procedural_memory',
      'resource_memory',
      'knowledge_vault',
      'context',
    ]) {
      expect(system).toContain(`<${tag}>\n(none)\n</${tag}>`);
    }
    expect(system).toContain('<persona>\n(none)\n</persona>');
  });
});
