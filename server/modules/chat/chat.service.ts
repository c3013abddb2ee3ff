import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Env } from '../../env.js';
import { AppError } from '../../errors.js';
import type { JobQueues } from '../../jobs/queues.js';
import { createLlmProvider, type LlmEnv } from '../../llm/index.js';
import type { LlmUsage } from '../../llm/types.js';
import { getOwnedAgent } from '../agents/agent.service.js';
import type { Agent } from '../agents/agent.entity.js';
import type { EmbeddingProvider } from '../embeddings/embedding.provider.js';
import { getCoreBlocks } from '../memory/core.service.js';
import { toMemorySummary } from '../memory/memory.registry.js';
import type { TMemorySummaryResponse } from '../memory/memory.schema.js';
import { searchMemories } from '../memory/search.service.js';
import { Message } from '../messages/message.entity.js';
import type { User } from '../users/user.entity.js';
import { buildPrompt, type PromptInput } from './prompt.js';

export type ChatEnv = LlmEnv & Pick<Env, 'CHAT_HISTORY_MESSAGES' | 'CHAT_MEMORY_TOP_K'>;

export interface ChatDeps {
  env: ChatEnv;
  embeddings: EmbeddingProvider;
  queues: JobQueues;
  log: Logger;
}

export interface ChatTurnInput {
  agentId: string;
  message: string;
  context?: Record<string, unknown> | null;
}

export interface ChatTurnResult {
  response: string;
  userMessageId: string;
  assistantMessageId: string;
  memoriesUsed: { id: string; type: TMemorySummaryResponse['type'] }[];
  usage: LlmUsage | null;
}

/** The last `n` messages of the agent's conversation, oldest first. */
async function historyWindow(em: EntityManager, agent: Agent, n: number) {
  if (n === 0) return [];
  const rows = await em.find(Message, { agent }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: n });
  return rows.reverse().map((m) => ({ role: m.role, content: m.content }));
}

/** Core blocks plus, per type, the memories `memory.search` ranks highest for the message. */
async function retrieve(em: EntityManager, actor: User, deps: ChatDeps, agent: Agent, message: string) {
  const k = deps.env.CHAT_MEMORY_TOP_K;
  const search = { embeddings: deps.embeddings, log: deps.log };
  const [core, relevant, recent] = await Promise.all([
    getCoreBlocks(em.fork(), actor, agent.id),
    k > 0
      ? searchMemories(em.fork(), actor, search, { agentId: agent.id, query: message, limit: 50, explain: false })
      : { hits: [] },
    k > 0
      ? searchMemories(em.fork(), actor, search, { agentId: agent.id, query: '', types: ['episodic'], limit: k, explain: false })
      : { hits: [] },
  ]);
  const items = relevant.hits.map((h) => toMemorySummary(h.item));
  const top = <T extends TMemorySummaryResponse['type']>(type: T) =>
    items.filter((i): i is Extract<TMemorySummaryResponse, { type: T }> => i.type === type).slice(0, k);
  const memories: PromptInput['memories'] = {
    recentEpisodic: recent.hits
      .map((h) => toMemorySummary(h.item))
      .filter((i): i is Extract<TMemorySummaryResponse, { type: 'episodic' }> => i.type === 'episodic'),
    relevantEpisodic: top('episodic'),
    semantic: top('semantic'),
    procedural: top('procedural'),
    resource: top('resource'),
    knowledgeVault: top('knowledge_vault').filter((v) => v.sensitivity !== 'high'),
  };
  return { core: core.map((b) => ({ label: b.label, value: b.value })), memories };
}

function llmParams(agent: Agent) {
  const p = agent.modelConfig.parameters;
  return {
    model: agent.modelConfig.model,
    ...(typeof p.temperature === 'number' ? { temperature: p.temperature } : {}),
    ...(typeof p.maxTokens === 'number' ? { maxTokens: p.maxTokens } : {}),
    ...(typeof p.max_tokens === 'number' ? { maxTokens: p.max_tokens } : {}),
  };
}

/**
 * One chat turn. The user message is saved before the provider is called, so a failure loses
 * nothing; the failure is recorded on that message and returned as a clear error. A successful
 * turn saves the answer with its token usage and asks the memory managers to consolidate it.
 */
export async function sendMessage(
  em: EntityManager,
  actor: User,
  deps: ChatDeps,
  input: ChatTurnInput,
): Promise<ChatTurnResult> {
  const agent = await getOwnedAgent(em, actor, input.agentId);
  const history = await historyWindow(em, agent, deps.env.CHAT_HISTORY_MESSAGES);
  const userMessage = em.create(Message, { agent, role: 'user', content: input.message, senderId: actor.id });
  await em.flush();

  const { provider: providerName } = agent.modelConfig;
  try {
    const provider = createLlmProvider(providerName, deps.env);
    const { core, memories } = await retrieve(em, actor, deps, agent, input.message);
    const prompt = buildPrompt({
      systemPrompt: agent.systemPrompt,
      now: new Date(),
      coreBlocks: core,
      memories,
      context: input.context ?? null,
      history,
      message: input.message,
    });
    const used = [
      ...new Map(
        [
          ...memories.relevantEpisodic,
          ...memories.recentEpisodic,
          ...memories.semantic,
          ...memories.procedural,
          ...memories.resource,
          ...memories.knowledgeVault,
        ].map((m) => [m.id, { id: m.id, type: m.type }]),
      ).values(),
    ];
    const completion = await provider.complete(prompt, { params: llmParams(agent) });
    const assistant = em.create(Message, {
      agent,
      role: 'assistant',
      content: completion.text,
      tokenUsage: completion.usage,
      metadata: {
        status: 'complete',
        memoriesUsed: used.map((u) => u.id),
        provider: providerName,
        model: agent.modelConfig.model,
      },
    });
    await em.flush();
    try {
      await deps.queues.enqueue(
        'consolidate',
        { agentId: agent.id, messageIds: [userMessage.id, assistant.id] },
        { jobId: `consolidate-${assistant.id}` },
      );
    } catch (err) {
      deps.log.warn({ err, agentId: agent.id }, 'could not enqueue memory consolidation for this turn');
    }
    return {
      response: completion.text,
      userMessageId: userMessage.id,
      assistantMessageId: assistant.id,
      memoriesUsed: used,
      usage: completion.usage,
    };
  } catch (err) {
    // Providers already speak in AppErrors; anything else is ours and stays a 500.
    const code = err instanceof AppError ? err.code : 'INTERNAL_SERVER_ERROR';
    const message = err instanceof AppError ? err.message : 'Internal server error';
    userMessage.metadata = { status: 'failed', error: { code, message }, provider: providerName };
    await em.flush();
    throw err;
  }
}
