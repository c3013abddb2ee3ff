import type { MirixClient } from '../../client/index.js';
import type { ScriptedReply } from '../support/fake-openai.js';
import { managerRoute } from '../support/memory-managers.js';

const int = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
};

/**
 * The chaos suite's size: bounded in `npm test` (CI), larger under `npm run test:chaos`
 * (CHAOS_KILLS=15 CHAOS_JOBS=72, the outside test's run).
 */
export const CHAOS = {
  kills: int('CHAOS_KILLS', 3),
  jobs: int('CHAOS_JOBS', 12),
  agents: 4,
  turns: int('CHAOS_TURNS', 20),
};

/**
 * The memory managers as a model that does what it is told: the meta manager triggers the semantic
 * manager, which saves the input's code word (`cw<n>x`) as one memory. Every call waits `delayMs`
 * (a real model's latency, so a kill lands mid-call) and is counted in `calls.started`.
 */
export function codeWordRoute(calls: { started: number }, delayMs: number) {
  return async (body: Record<string, unknown>): Promise<ScriptedReply | undefined> => {
    const messages = (body.messages ?? []) as { role: string; content: unknown }[];
    const input = messages.find((m) => m.role === 'user')?.content;
    const word = /cw\d+x/.exec(typeof input === 'string' ? input : JSON.stringify(input))?.[0];
    calls.started++;
    return managerRoute({
      meta: ['semantic'],
      managers: word
        ? {
            semantic: [
              [
                {
                  name: 'semantic_memory_insert',
                  args: { items: [{ name: word, summary: `the code word ${word}` }] },
                },
              ],
            ],
          }
        : {},
      delayMs,
    })(body);
  };
}

/** Polls until every job is completed or failed; returns their statuses in order. */
export async function allJobsFinal(
  client: MirixClient,
  jobs: { agentId: string; jobId: string }[],
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = (
      await Promise.all(jobs.map((j) => client.memory.job.query({ agentId: j.agentId, jobId: j.jobId })))
    ).map((j) => j.status);
    if (statuses.every((s) => s === 'completed' || s === 'failed')) return statuses;
    if (Date.now() > deadline)
      throw new Error(`jobs not final after ${timeoutMs} ms: ${JSON.stringify(count(statuses))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls until every memory of these agents has its embedding. */
export async function allEmbedded(client: MirixClient, agentIds: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = (
      await Promise.all(agentIds.map((agentId) => client.memory.stats.query({ agentId })))
    ).reduce((n, s) => n + s.pendingEmbeddings, 0);
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`${pending} memories still without an embedding`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
