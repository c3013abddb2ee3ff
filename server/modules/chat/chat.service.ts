import type { EntityManager } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics.js';
import type { Env } from '../../env.js';
import { AppError, notFound, publicErrorOf } from '../../errors.js';
import type { JobQueues } from '../../jobs/queues.js';
import { createLlmProvider, type LlmEnv } from '../../llm/index.js';
import type { LlmUsage } from '../../llm/types.js';
import { Agent } from '../agents/index.js';
import type { EmbeddingProvider } from '../embeddings/index.js';
import {
  coreBlockValues,
  toMemorySummary,
  type TMemorySummaryResponse,
  searchMemories,
} from '../memory/index.js';
import type { ChatStreamEvent } from '../../../shared/chat-events.js';
import { groupForPrompt, relevantLimit } from '../../../shared/memory-prompt.js';
import { deliverInBackground } from '../consolidation/index.js';
import type { MessageMetadata } from '../messages/index.js';
import type { User } from '../users/index.js';
import { buildPrompt, type PromptInput } from './prompt.js';
import {
  historyWindow,
  markFailed,
  messageKey,
  saveAnswer,
  saveUserMessage,
  type MessageKey,
} from './turn.store.js';
import { memoryTitle } from '../../../shared/memory-title.js';

export type ChatEnv = LlmEnv & Pick<Env, 'CHAT_HISTORY_MESSAGES' | 'CHAT_MEMORY_TOP_K' | 'QUEUE_PREFIX'>;

export interface ChatDeps {
  env: ChatEnv;
  embeddings: EmbeddingProvider;
  queues: JobQueues;
  /** For the consolidation job's `queued` event. */
  redis: Redis;
  log: Logger;
  /** Counts tokens per provider for /metrics. */
  metrics?: Pick<Metrics, 'recordLlmUsage'>;
  /** Records the provider's share of the turn (Server-Timing `llm`). */
  timing?: (name: string, ms: number) => void;
}

export interface ChatTurnInput {
  agentId: string;
  message: string;
  context?: Record<string, unknown> | null;
  /** false: the turn is not given to the memory managers (a question asked by an evaluation, say). */
  remember?: boolean;
}

export interface ChatTurnResult {
  response: string;
  userMessageId: string;
  assistantMessageId: string;
  memoriesUsed: { id: string; type: TMemorySummaryResponse['type']; title: string }[];
  usage: LlmUsage | null;
}

/** A turn whose agent the actor owns, and whose user message is saved. */
interface Turn {
  actor: User;
  agent: Agent;
  input: ChatTurnInput;
  userMessage: MessageKey;
}

/**
 * What a turn's prompt reads: the conversation's last messages, the core blocks and, per type, the
 * memories `memory.search` ranks highest for the message. They run side by side on one
 * EntityManager: plain statements, no unit of work.
 */
async function retrieve(em: EntityManager, deps: ChatDeps, { actor, agent, input, userMessage }: Turn) {
  const k = deps.env.CHAT_MEMORY_TOP_K;
  const search = { embeddings: deps.embeddings, log: deps.log };
  const [history, core, relevant, recent] = await Promise.all([
    historyWindow(em, agent, { exclude: userMessage.id, limit: deps.env.CHAT_HISTORY_MESSAGES }),
    coreBlockValues(em, actor, agent),
    k > 0
      ? searchMemories(em, {
          agent,
          // Enough fused candidates for k of each type in the usual mixes.
          input: { agentId: agent.id, query: input.message, limit: relevantLimit(k), explain: false },
          deps: search,
        })
      : { hits: [] },
    k > 0
      ? searchMemories(em, {
          agent,
          input: { agentId: agent.id, query: '', types: ['episodic'], limit: k, explain: false },
          deps: search,
        })
      : { hits: [] },
  ]);
  // The k best of each type, in rank order; only those become summaries (the fused search returns
  // up to 5k candidates).
  const memories: PromptInput['memories'] = groupForPrompt({
    relevant: relevant.hits.map((h) => toMemorySummary(h.item)),
    recent: recent.hits.map((h) => toMemorySummary(h.item)),
    k,
  });
  return { history, core, memories };
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
  deps: ChatDeps,
  { actor, ...input }: ChatTurnInput & { actor: User },
): Promise<ChatTurnResult> {
  const turn = await startTurn(em, actor, input);
  const { agent, userMessage } = turn;
  try {
    const { provider, prompt, used } = await prepareTurn(em, deps, turn);
    const asked = performance.now();
    const completion = await provider.complete(prompt, { params: llmParams(agent) });
    deps.timing?.('llm', performance.now() - asked);
    deps.metrics?.recordLlmUsage(agent.modelConfig.provider, completion.usage);
    const assistant = await finishTurn(em, deps, {
      turn,
      text: completion.text,
      usage: completion.usage,
      metadata: { status: 'complete', memoriesUsed: used },
    });
    return {
      response: completion.text,
      userMessageId: userMessage.id,
      assistantMessageId: assistant.id,
      memoriesUsed: used,
      usage: completion.usage,
    };
  } catch (err) {
    await recordFailure(em, deps, { turn, err });
    throw err;
  }
}

/**
 * Saves the user's message in the statement that checks the agent is the actor's (one round trip):
 * a turn for someone else's agent is NOT_FOUND before anything of it is read. From here on the
 * message is not lost, whatever happens next.
 */
async function startTurn(em: EntityManager, actor: User, input: ChatTurnInput): Promise<Turn> {
  const userMessage = messageKey();
  const row = await saveUserMessage(em, userMessage, {
    agentId: input.agentId,
    senderId: actor.id,
    content: input.message,
  });
  if (!row) throw notFound('Agent');
  return { actor, agent: em.map(Agent, row), input, userMessage };
}

/** Provider, retrieved memories and the assembled prompt for a turn. */
async function prepareTurn(em: EntityManager, deps: ChatDeps, turn: Turn) {
  const { agent, input } = turn;
  const provider = createLlmProvider(agent.modelConfig.provider, deps.env);
  const { history, core, memories } = await retrieve(em, deps, turn);
  const prompt = buildPrompt({
    systemPrompt: agent.systemPrompt,
    now: new Date(),
    coreBlocks: core,
    memories,
    context: input.context ?? null,
    history,
    message: input.message,
  });
  const all = [
    ...memories.relevantEpisodic,
    ...memories.recentEpisodic,
    ...memories.semantic,
    ...memories.procedural,
    ...memories.resource,
    ...memories.knowledgeVault,
  ];
  const used = [
    ...new Map(all.map((m) => [m.id, { id: m.id, type: m.type, title: memoryTitle(m) }])).values(),
  ];
  return { provider, prompt, used };
}

/**
 * Saves the assistant's message and, for a complete turn, the job asking the memory managers to
 * consolidate it (in the same statement), then hands the job to the queue without waiting.
 */
async function finishTurn(
  em: EntityManager,
  deps: ChatDeps,
  answer: { turn: Turn; text: string; usage: LlmUsage | null; metadata: MessageMetadata },
): Promise<MessageKey> {
  const {
    turn: { agent, userMessage, input },
    text,
    usage,
    metadata,
  } = answer;
  const { message, job } = await saveAnswer(
    em,
    {
      agentId: agent.id,
      replyTo: userMessage.id,
      content: text,
      usage,
      metadata: { ...metadata, provider: agent.modelConfig.provider, model: agent.modelConfig.model },
    },
    metadata.status === 'complete' && input.remember !== false ? { ownerId: agent.owner.id } : null,
  );
  if (job) {
    // The same queue as memory.ingest; a job Redis could not take is queued by the worker's sweep.
    deliverInBackground(
      { queues: deps.queues, redis: deps.redis, prefix: deps.env.QUEUE_PREFIX, log: deps.log },
      job,
    );
  }
  return message;
}

/**
 * Records the failure on the user's message. When that cannot be written either (the database is
 * what failed), the message stays pending and the worker's sweep marks it failed later
 * (failAbandonedTurns); the caller still gets the turn's own error.
 */
async function recordFailure(em: EntityManager, deps: ChatDeps, { turn, err }: { turn: Turn; err: unknown }) {
  const { agent, userMessage } = turn;
  try {
    await markFailed(em, userMessage.id, {
      status: 'failed',
      error: publicErrorOf(err),
      provider: agent.modelConfig.provider,
    });
  } catch (recordErr) {
    deps.log.warn(
      { err: recordErr, messageId: userMessage.id },
      'could not mark the failed turn; the sweep will mark it failed',
    );
  }
}

/**
 * A streamed turn: start, thinking, memories, content deltas, then complete or error. Aborting
 * (the client went away) cancels the upstream request and saves the partial answer, marked
 * interrupted. Ownership errors are thrown before the stream starts.
 */
export async function* streamMessage(
  em: EntityManager,
  deps: ChatDeps,
  { actor, signal, ...input }: ChatTurnInput & { actor: User; signal?: AbortSignal },
): AsyncGenerator<ChatStreamEvent> {
  const turn = await startTurn(em, actor, input);
  const { agent, userMessage } = turn;
  yield { type: 'start', agentId: agent.id, userMessageId: userMessage.id, timestamp: new Date() };
  yield { type: 'thinking' };
  let text = '';
  // Set once the turn's outcome is saved; a stream closed before that (the client went away while
  // an event was being delivered) is saved as interrupted in `finally`.
  let settled = false;
  try {
    const { provider, prompt, used } = await prepareTurn(em, deps, turn);
    yield { type: 'memories', items: used };
    let usage: LlmUsage | null = null;
    for await (const event of provider.stream(prompt, { params: llmParams(agent), signal })) {
      if (event.type === 'text') {
        text += event.delta;
        yield { type: 'content', delta: event.delta };
      } else if (event.type === 'usage') {
        usage = event.usage;
        deps.metrics?.recordLlmUsage(agent.modelConfig.provider, usage);
      }
    }
    // The SDKs end a stream quietly when it is aborted: what arrived so far is an interrupted answer.
    if (signal?.aborted) return;
    const assistant = await finishTurn(em, deps, {
      turn,
      text,
      usage,
      metadata: { status: 'complete', memoriesUsed: used },
    });
    settled = true;
    yield { type: 'complete', message: text, assistantMessageId: assistant.id, usage };
  } catch (err) {
    if (signal?.aborted) return;
    await recordFailure(em, deps, { turn, err });
    settled = true;
    if (!(err instanceof AppError)) deps.log.error({ err }, 'chat stream failed');
    yield { type: 'error', ...publicErrorOf(err) };
  } finally {
    if (!settled) {
      // Nobody is listening any more: a partial answer that cannot be saved is logged, and the
      // sweep marks the pending user message failed.
      await finishTurn(em, deps, { turn, text, usage: null, metadata: { status: 'interrupted' } }).catch(
        (err) => deps.log.warn({ err, messageId: userMessage.id }, 'could not save the interrupted answer'),
      );
    }
  }
}
