import type { ScriptedReply } from './fake-openai.js';

/**
 * The memory managers as `npm run fake-llm` plays them, for a demo without an API key: like a
 * small real model, it writes what the user said as an episodic event and, for statements, a
 * semantic fact, with tool calls derived from the content (OpenAI and Anthropic request bodies).
 * Anything that is not a memory manager's request gets undefined (the scripted chat answers).
 */
let ids = 0;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((b: { type?: string; text?: string }) => (b.type === 'text' ? (b.text ?? '') : ''))
      .join('');
  }
  return '';
}

function toolNames(body: Record<string, unknown>): string[] {
  return ((body.tools ?? []) as { name?: string; function?: { name: string } }[]).map(
    (t) => t.function?.name ?? t.name ?? '',
  );
}

/** What each user line said, with its time when the content gives one ("[ISO time] user: ..."). */
function userLines(body: Record<string, unknown>): { at: string | null; text: string }[] {
  const messages = (body.messages ?? []) as { role: string; content: unknown }[];
  const content = textOf(messages.find((m) => m.role === 'user')?.content);
  const said = [...content.matchAll(/^(?:\[([^\]]*)\] )?user: (.+)$/gm)].map((m) => ({
    at: m[1] && !Number.isNaN(Date.parse(m[1])) ? new Date(m[1]).toISOString() : null,
    text: m[2]!.replace(/\s+/g, ' ').trim(),
  }));
  if (said.length) return said;
  const text = content
    .replace(/^Document[^\n]*\n/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text ? [{ at: null, text }] : [];
}

const call = (name: string, args: unknown) => ({
  id: `demo_${++ids}`,
  name,
  arguments: JSON.stringify(args),
});

export function demoManagerRoute(body: Record<string, unknown>): ScriptedReply | undefined {
  const tools = toolNames(body);
  if (tools.length === 0) return undefined;
  const messages = (body.messages ?? []) as { role: string }[];
  // One response per manager: the calls succeed, so the manager is done.
  if (messages.some((m) => m.role === 'assistant')) return { toolCalls: [call('finish_memory_update', {})] };
  const lines = userLines(body);
  if (tools.includes('trigger_memory_update')) {
    return {
      toolCalls: [
        call('trigger_memory_update', { memory_types: lines.length ? ['episodic', 'semantic'] : [] }),
      ],
    };
  }
  if (lines.length === 0) return { toolCalls: [call('finish_memory_update', {})] };
  const calls = [];
  if (tools.includes('episodic_memory_insert')) {
    // One event per line (at most 50), at the line's time when the content gives it.
    const items = lines.slice(0, 50).map((l) => ({
      event_type: 'conversation',
      actor: 'user',
      summary: `The user said: ${l.text.slice(0, 3000)}`,
      ...(l.at ? { occurred_at: l.at } : {}),
    }));
    calls.push(call('episodic_memory_insert', { items }));
  }
  const words = lines.map((l) => l.text).join(' ');
  const topic = /\b(?:my|our)\s+([\p{L}\p{N}-]+)/iu.exec(words)?.[1];
  if (tools.includes('semantic_memory_insert') && topic) {
    calls.push(
      call('semantic_memory_insert', {
        items: [{ name: `The user's ${topic}`, summary: words.slice(0, 300) }],
      }),
    );
  }
  return { toolCalls: calls.length ? calls : [call('finish_memory_update', {})] };
}
