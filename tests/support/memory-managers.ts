import type { MirixClient, RouterOutputs } from '../../client/index.js';
import type { MemoryKind } from '../../shared/memory-events.js';
import type { ScriptedReply } from './fake-openai.js';

export interface ScriptedCall {
  name: string;
  /** The arguments: an object (sent as JSON) or raw text (to send malformed JSON). */
  args: unknown;
}

export interface ManagerScript {
  /** What the meta memory manager triggers. */
  meta: MemoryKind[];
  /**
   * Per manager, the tool calls of each step; once they run out it calls finish_memory_update. The
   * one manager of every type answers each step with the calls of every `meta` type together.
   */
  managers?: Partial<Record<MemoryKind, ScriptedCall[][]>>;
  /** Wait this long before each answer (a slow model). */
  delayMs?: number;
}

export interface SeenRequest {
  /** `meta`, the manager's memory type, or `direct` (the one manager of every type, for short content). */
  manager: 'meta' | 'direct' | MemoryKind;
  step: number;
  /** The request body as the fake received it (OpenAI or Anthropic format). */
  body: Record<string, unknown>;
}

let callIds = 0;

function systemPromptOf(body: Record<string, unknown>): string {
  if (typeof body.system === 'string') return body.system; // Anthropic
  const messages = body.messages as { role: string; content: unknown }[];
  const system = messages.find((m) => m.role === 'system');
  return typeof system?.content === 'string' ? system.content : '';
}

function toolNamesOf(body: Record<string, unknown>): string[] {
  const tools = (body.tools ?? []) as { name?: string; function?: { name: string } }[];
  return tools.map((t) => t.function?.name ?? t.name ?? '');
}

/**
 * A `route` for the fake LLM servers that plays the memory managers deterministically, whatever
 * order their concurrent requests arrive in: the manager is told by its tools and system prompt,
 * the step by the assistant turns already in the conversation. Requests are recorded in `seen`.
 */
export function managerRoute(script: ManagerScript, seen: SeenRequest[] = []) {
  return async (body: Record<string, unknown>): Promise<ScriptedReply | undefined> => {
    const messages = body.messages as { role: string }[] | undefined;
    if (!messages) return undefined;
    const step = messages.filter((m) => m.role === 'assistant').length;
    const tools = toolNamesOf(body);
    let manager: SeenRequest['manager'];
    let calls: ScriptedCall[];
    if (tools.includes('trigger_memory_update')) {
      manager = 'meta';
      calls = [{ name: 'trigger_memory_update', args: { memory_types: script.meta } }];
    } else if (systemPromptOf(body).startsWith('You are the memory manager of MIRIX')) {
      // The one manager of every type: each triggered type's calls of this step, in one response.
      manager = 'direct';
      calls = script.meta.flatMap((type) => script.managers?.[type]?.[step] ?? []);
      if (calls.length === 0) calls = [{ name: 'finish_memory_update', args: {} }];
    } else {
      const type = /You are the (\w+) memory manager/.exec(systemPromptOf(body))?.[1] as
        MemoryKind | undefined;
      if (!type) return undefined; // not a memory manager (a chat turn): use the replies queue
      manager = type;
      calls = script.managers?.[type]?.[step] ?? [{ name: 'finish_memory_update', args: {} }];
    }
    seen.push({ manager, step, body });
    if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
    return {
      toolCalls: calls.map((c) => ({
        id: `call_${++callIds}`,
        name: c.name,
        arguments: typeof c.args === 'string' ? c.args : JSON.stringify(c.args),
      })),
    };
  };
}

/** Polls memory.job until the job has finished (completed, or failed for good). */
export async function finishedJob(
  client: MirixClient,
  agentId: string,
  jobId: string,
  timeoutMs = 30_000,
): Promise<RouterOutputs['memory']['job']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await client.memory.job.query({ agentId, jobId });
    if (job.status === 'completed' || job.status === 'failed') return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
