/**
 * MIRIX-TS memory for the Vercel AI SDK (ai 6.x): a language-model middleware that gives the model
 * what the agent remembers and sends each exchange to the memory managers, and memory tools for
 * agents that decide themselves. Retrieval shows the same sections as the server's chat prompt
 * (shared/memory-prompt.ts).
 */
import type {
  JSONObject,
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3Middleware,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
} from '@ai-sdk/provider';
import { tool, wrapLanguageModel } from 'ai';
import { z } from 'zod';
import { groupForPrompt, memorySections, relevantLimit } from '../shared/memory-prompt.js';
import type { MirixClient, RouterInputs, RouterOutputs } from './index.js';

export interface MirixMemoryOptions {
  client: MirixClient;
  agentId: string;
  /** Memories of each type given to the model (the server's CHAT_MEMORY_TOP_K default). */
  topK?: number;
  /** Send each finished exchange to the memory managers (default true). */
  remember?: boolean;
  /**
   * How long the end of a call waits for the memory job's id, to put it in the provider metadata.
   * The answer itself never waits: a stream's text has gone out by then. The write carries on
   * after the wait either way. Default 2000 ms.
   */
  jobIdWaitMs?: number;
  /** Memory failures never fail the model call: they are reported here (default: console.warn). */
  onError?: (err: unknown, phase: 'retrieve' | 'remember') => void;
}

/** What a call's provider metadata says under `mirix`. */
export interface MirixCallMetadata {
  agentId: string;
  /** The memories given to the model, most relevant first within each type. */
  memories: { id: string; type: string }[];
  /** The consolidation job the exchange became (memory.job), or null if not (yet) known. */
  jobId: string | null;
}

type Hit = RouterOutputs['memory']['search']['items'][number]['item'];

interface CallState {
  userText: string | null;
  memories: { id: string; type: string }[];
}

function latestUserText(prompt: LanguageModelV3Prompt): string | null {
  for (let i = prompt.length - 1; i >= 0; i--) {
    const message = prompt[i]!;
    if (message.role !== 'user') continue;
    const text = message.content
      .flatMap((part) => (part.type === 'text' ? [part.text] : []))
      .join('\n')
      .trim();
    return text || null;
  }
  return null;
}

const textOf = (content: LanguageModelV3Content[]) =>
  content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('');

function withMetadata<T extends { providerMetadata?: Record<string, JSONObject> }>(
  result: T,
  metadata: MirixCallMetadata,
): T {
  return { ...result, providerMetadata: { ...result.providerMetadata, mirix: { ...metadata } } };
}

/** The middleware; `withMirixMemory` applies it to a model. */
export function mirixMemoryMiddleware(opts: MirixMemoryOptions): LanguageModelV3Middleware {
  const { client, agentId } = opts;
  const k = opts.topK ?? 5;
  const waitMs = opts.jobIdWaitMs ?? 2000;
  const onError =
    opts.onError ?? ((err: unknown, phase: string) => console.warn(`MIRIX memory (${phase}) failed:`, err));
  const states = new WeakMap<LanguageModelV3CallOptions, CallState>();

  async function retrieve(userText: string | null) {
    const search = (input: Omit<RouterInputs['memory']['search'], 'agentId'>) =>
      client.memory.search.query({ agentId, ...input });
    const [core, relevant, recent] = await Promise.all([
      client.memory.core.get.query({ agentId }),
      userText && k > 0 ? search({ query: userText, limit: relevantLimit(k) }) : { items: [] },
      k > 0 ? search({ query: '', types: ['episodic'], limit: k }) : { items: [] },
    ]);
    const memories = groupForPrompt<Hit>({
      relevant: relevant.items.map((i) => i.item),
      recent: recent.items.map((i) => i.item),
      k,
    });
    return { core, memories };
  }

  /** Starts the memory write and waits a bounded time for its job id. */
  async function remember(state: CallState, answer: string): Promise<string | null> {
    if (opts.remember === false || !state.userText || !answer.trim()) return null;
    const write = client.memory.ingest
      .mutate({
        agentId,
        messages: [
          { role: 'user', content: state.userText },
          { role: 'assistant', content: answer },
        ],
      })
      .then((r) => r.jobId);
    write.catch((err: unknown) => onError(err, 'remember'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), waitMs);
    });
    try {
      return await Promise.race([write.catch(() => null), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  const metadata = (state: CallState, jobId: string | null): MirixCallMetadata => ({
    agentId,
    memories: state.memories,
    jobId,
  });

  return {
    specificationVersion: 'v3',

    async transformParams({ params }) {
      const userText = latestUserText(params.prompt);
      let memories: CallState['memories'] = [];
      let prompt = params.prompt;
      try {
        const found = await retrieve(userText);
        const m = found.memories;
        memories = [
          ...m.relevantEpisodic,
          ...m.recentEpisodic.filter((r) => !m.relevantEpisodic.some((e) => e.id === r.id)),
          ...m.semantic,
          ...m.procedural,
          ...m.resource,
          ...m.knowledgeVault,
        ].map((i) => ({ id: i.id, type: i.type }));
        const system = memorySections({ now: new Date(), coreBlocks: found.core, memories: m });
        // After the caller's own system messages, before the conversation.
        const at = prompt.findIndex((message) => message.role !== 'system');
        const index = at === -1 ? prompt.length : at;
        prompt = [...prompt.slice(0, index), { role: 'system', content: system }, ...prompt.slice(index)];
      } catch (err) {
        onError(err, 'retrieve');
      }
      const next = { ...params, prompt };
      states.set(next, { userText, memories });
      return next;
    },

    async wrapGenerate({ doGenerate, params }) {
      const result = await doGenerate();
      const state = states.get(params) ?? { userText: null, memories: [] };
      // A step that only calls tools is not an exchange yet: its final answer is.
      const jobId =
        result.finishReason.unified === 'tool-calls' ? null : await remember(state, textOf(result.content));
      return withMetadata(result, metadata(state, jobId));
    },

    async wrapStream({ doStream, params }) {
      const { stream, ...rest } = await doStream();
      const state = states.get(params) ?? { userText: null, memories: [] };
      let answer = '';
      let finish: Extract<LanguageModelV3StreamPart, { type: 'finish' }> | null = null;
      const remembering = stream.pipeThrough(
        new TransformStream<LanguageModelV3StreamPart, LanguageModelV3StreamPart>({
          transform(part, controller) {
            if (part.type === 'text-delta') answer += part.delta;
            // The finish part carries the metadata, so it goes out last, once the job id is known.
            if (part.type === 'finish') finish = part;
            else controller.enqueue(part);
          },
          async flush(controller) {
            const done = finish;
            if (!done) return;
            const jobId = done.finishReason.unified === 'tool-calls' ? null : await remember(state, answer);
            controller.enqueue(withMetadata(done, metadata(state, jobId)));
          },
        }),
      );
      return { ...rest, stream: remembering };
    },
  };
}

/** `model`, with MIRIX-TS memory: see mirixMemoryMiddleware. */
export function withMirixMemory(model: LanguageModelV3, opts: MirixMemoryOptions): LanguageModelV3 {
  return wrapLanguageModel({ model, middleware: mirixMemoryMiddleware(opts) });
}

const MEMORY_TYPES = ['episodic', 'semantic', 'procedural', 'resource', 'knowledge_vault'] as const;

/**
 * Memory tools for agents that decide themselves when to look things up and what to remember:
 * `searchMemory` (memory.search) and `addMemory` (memory.ingest, answering with the job id).
 */
export function mirixMemoryTools(opts: { client: MirixClient; agentId: string }) {
  const { client, agentId } = opts;
  return {
    searchMemory: tool({
      description:
        "Search the user's long-term memory with a natural-language question or keywords. Returns the best matching memories first.",
      inputSchema: z.object({
        query: z.string().min(1).max(2000).describe('What to look for, e.g. the question being answered'),
        types: z.array(z.enum(MEMORY_TYPES)).min(1).optional().describe('Only these memory types'),
        limit: z.number().int().min(1).max(50).optional().describe('At most this many results (default 10)'),
      }),
      execute: async (input) => {
        const found = await client.memory.search.query({ agentId, ...input });
        return found.items.map(({ item, score }) => ({ ...item, score }));
      },
    }),
    addMemory: tool({
      description:
        'Remember something for later: the memory managers file it in the right memory types in the background.',
      inputSchema: z.object({
        content: z.string().min(1).max(200_000).describe('What to remember, in plain words'),
      }),
      execute: async ({ content }) => client.memory.ingest.mutate({ agentId, text: content }),
    }),
  };
}
