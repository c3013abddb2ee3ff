import { z } from 'zod';
import {
  appendCoreBlock,
  getCoreBlocks,
  replaceCoreBlock,
  setCoreBlock,
  toCoreBlockResponse,
  episodic,
  type MemoryTypeDef,
  procedural,
  resource,
  semantic,
  toMemorySummary,
  vault,
  MAX_BATCH,
  ZCoreAppendRequest,
  ZCoreBlockResponse,
  ZCoreReplaceRequest,
  ZCoreSetRequest,
  ZListMemoriesRequest,
  ZMemoryIdRequest,
  ZMemorySummaryResponse,
  ZSearchRequest,
  ZSearchResponse,
  ZStatsResponse,
  createMemories,
  deleteMemory,
  getMemory,
  listMemories,
  type MemoryWriter,
  revealSecret,
  updateMemory,
  searchMemories,
  itemHistory,
  memoryStats,
} from '../../modules/memory/index.js';
import { getOwnedAgent } from '../../modules/agents/index.js';
import {
  ZHistoryEntryResponse,
  ZIngestRequest,
  ZIngestResponse,
  ZListJobsRequest,
  ZMemoryJobResponse,
  ZUsageResponse,
  agentUsage,
  type ConsolidationDeps,
  getJob,
  ingest,
  listJobs,
  toJobResponse,
} from '../../modules/consolidation/index.js';
import type { User } from '../../modules/users/index.js';
import type { Context } from '../context.js';
import { rest } from '../../rest/meta.js';
import { authedProcedure, router } from '../init.js';

const deps = (ctx: Context & { user: User }): MemoryWriter => ({
  actor: ctx.user,
  cipher: ctx.services.cipher,
  queues: ctx.services.queues,
  log: ctx.log,
  by: 'user',
});

/** create / createMany / get / list / update / delete for one memory type. */
function memoryTypeRouter<F extends z.ZodObject, R extends z.ZodObject, P extends z.ZodObject>(
  def: MemoryTypeDef<F, R, P>,
  /** The type's REST path segment, under /agents/{agentId}/memories. */
  segment: string,
) {
  const ZAgentId = z.object({ agentId: z.uuid() });
  const base = `/agents/{agentId}/memories/${segment}` as const;
  const tag = 'memories';
  return router({
    create: authedProcedure
      .meta(rest('POST', base, { tag, summary: `Create a ${segment} memory`, status: 201 }))
      .input(def.fields.extend(ZAgentId.shape))
      .output(def.response)
      .mutation(async ({ ctx, input }) => {
        const { agentId, ...fields } = input as { agentId: string } & z.output<F>;
        const [item] = await createMemories(ctx.em, deps(ctx), {
          def,
          agentId,
          items: [fields as z.output<F>],
        });
        // The output is validated by def.response; tRPC cannot follow the generic R here.
        return def.toResponse(item!) as never;
      }),

    /** Up to 500 items in one transaction (all or nothing). */
    createMany: authedProcedure
      .meta(
        rest('POST', `${base}/batch`, {
          tag,
          summary: `Create up to 500 ${segment} memories at once`,
          status: 201,
        }),
      )
      .input(z.object({ agentId: z.uuid(), items: z.array(def.fields).min(1).max(MAX_BATCH) }))
      .output(z.object({ ids: z.array(z.uuid()) }))
      .mutation(async ({ ctx, input }) => {
        const items = await createMemories(ctx.em, deps(ctx), {
          def,
          agentId: input.agentId,
          items: input.items,
        });
        return { ids: items.map((i) => i.id) };
      }),

    get: authedProcedure
      .meta(rest('GET', `${base}/{id}`, { tag, summary: `Get a ${segment} memory` }))
      .input(ZMemoryIdRequest)
      .output(def.response)
      .query(
        async ({ ctx, input }) =>
          def.toResponse(await getMemory(ctx.em, ctx.user, { def, ref: input, withContent: true })) as never,
      ),

    /** Newest first; resources come without their content (use get). */
    list: authedProcedure
      .meta(rest('GET', base, { tag, summary: `List ${segment} memories, newest first` }))
      .input(ZListMemoriesRequest)
      .output(z.object({ items: z.array(ZMemorySummaryResponse), nextCursor: z.string().nullable() }))
      .query(async ({ ctx, input }) => {
        const page = await listMemories(ctx.em, ctx.user, { ...input, def });
        return { items: page.items.map(toMemorySummary), nextCursor: page.nextCursor };
      }),

    /** Partial update; omitted fields stay as they are. */
    update: authedProcedure
      .meta(
        rest('PATCH', `${base}/{id}`, { tag, summary: `Update a ${segment} memory (omitted fields stay)` }),
      )
      .input(def.patch.extend(ZMemoryIdRequest.shape))
      .output(def.response)
      .mutation(async ({ ctx, input }) => {
        const { id, agentId, ...changes } = input as { id: string; agentId: string } & Partial<z.output<F>>;
        return def.toResponse(
          await updateMemory(ctx.em, deps(ctx), {
            def,
            ref: { agentId, id },
            changes: changes as Partial<z.output<F>>,
          }),
        ) as never;
      }),

    /** Soft delete. */
    delete: authedProcedure
      .meta(rest('DELETE', `${base}/{id}`, { tag, summary: `Delete a ${segment} memory`, status: 204 }))
      .input(ZMemoryIdRequest)
      .output(z.object({ id: z.uuid(), deleted: z.literal(true) }))
      .mutation(async ({ ctx, input }) => {
        await deleteMemory(ctx.em, deps(ctx), { def, ref: input });
        return { id: input.id, deleted: true as const };
      }),
  });
}

const vaultRouter = router({
  ...memoryTypeRouter(vault, 'vault')._def.record,
  /** The decrypted secret, for the owner only; every call is written to the vault audit log. */
  reveal: authedProcedure
    .meta(
      rest('POST', '/agents/{agentId}/memories/vault/{id}/reveal', {
        tag: 'memories',
        summary: 'Reveal a vault secret (audited)',
      }),
    )
    .input(ZMemoryIdRequest)
    .output(z.object({ id: z.uuid(), secretValue: z.string() }))
    .mutation(({ ctx, input }) =>
      revealSecret(ctx.em, { ...deps(ctx), requestId: ctx.requestId, ip: ctx.ip }, input),
    ),
});

const coreRouter = router({
  /** The agent's core blocks (persona and human always exist). */
  get: authedProcedure
    .meta(
      rest('GET', '/agents/{agentId}/memories/core', { tag: 'memories', summary: "The agent's core blocks" }),
    )
    .input(z.object({ agentId: z.uuid() }))
    .output(z.array(ZCoreBlockResponse))
    .query(async ({ ctx, input }) =>
      (await getCoreBlocks(ctx.em, ctx.user, input.agentId)).map(toCoreBlockResponse),
    ),

  set: authedProcedure
    .meta(
      rest('PUT', '/agents/{agentId}/memories/core/{label}', {
        tag: 'memories',
        summary: 'Set a core block',
      }),
    )
    .input(ZCoreSetRequest)
    .output(ZCoreBlockResponse)
    .mutation(async ({ ctx, input }) => toCoreBlockResponse(await setCoreBlock(ctx.em, ctx.user, input))),

  append: authedProcedure
    .meta(
      rest('POST', '/agents/{agentId}/memories/core/{label}/append', {
        tag: 'memories',
        summary: 'Append to a core block',
      }),
    )
    .input(ZCoreAppendRequest)
    .output(ZCoreBlockResponse)
    .mutation(async ({ ctx, input }) => toCoreBlockResponse(await appendCoreBlock(ctx.em, ctx.user, input))),

  /** Replaces the first occurrence of `old` with `new`. */
  replace: authedProcedure
    .meta(
      rest('POST', '/agents/{agentId}/memories/core/{label}/replace', {
        tag: 'memories',
        summary: 'Replace text in a core block',
      }),
    )
    .input(ZCoreReplaceRequest)
    .output(ZCoreBlockResponse)
    .mutation(async ({ ctx, input }) => toCoreBlockResponse(await replaceCoreBlock(ctx.em, ctx.user, input))),
});

export const memoryRouter = router({
  core: coreRouter,
  episodic: memoryTypeRouter(episodic, 'episodic'),
  semantic: memoryTypeRouter(semantic, 'semantic'),
  procedural: memoryTypeRouter(procedural, 'procedural'),
  resource: memoryTypeRouter(resource, 'resource'),
  vault: vaultRouter,

  /** Hybrid search: vector + full text + trigram, fused by reciprocal rank. */
  search: authedProcedure
    // POST: a search carries a body (types, filters, explain), like most search APIs.
    .meta(
      rest('POST', '/agents/{agentId}/memories/search', { tag: 'memories', summary: 'Hybrid memory search' }),
    )
    .input(ZSearchRequest)
    .output(ZSearchResponse)
    .query(async ({ ctx, input }) => {
      const result = await searchMemories(ctx.em, {
        agent: await getOwnedAgent(ctx.em, ctx.user, input.agentId),
        input,
        deps: { embeddings: ctx.services.embeddings, log: ctx.log },
      });
      return {
        items: result.hits.map((h) => ({
          item: toMemorySummary(h.item),
          score: h.score,
          ...(input.explain ? { explain: h.signals } : {}),
        })),
        methods: result.methods,
      };
    }),

  stats: authedProcedure
    .meta(
      rest('GET', '/agents/{agentId}/memories/stats', { tag: 'memories', summary: 'Memory counts per type' }),
    )
    .input(z.object({ agentId: z.uuid() }))
    .output(ZStatsResponse)
    .query(({ ctx, input }) => memoryStats(ctx.em, ctx.user, input.agentId)),

  /** New content for the memory managers; answers at once with the job to follow. */
  ingest: authedProcedure
    .meta(
      rest('POST', '/agents/{agentId}/memories/ingest', {
        tag: 'memories',
        summary: 'Queue content for the memory managers',
        status: 202,
      }),
    )
    .input(ZIngestRequest)
    .output(ZIngestResponse)
    .mutation(({ ctx, input }) => ingest(ctx.em, consolidationDeps(ctx), { ...input, actor: ctx.user })),

  /** A consolidation job: status, timing, token usage and, once done, the changes it made. */
  job: authedProcedure
    .meta(
      rest('GET', '/agents/{agentId}/memories/jobs/{jobId}', {
        tag: 'memories',
        summary: 'A consolidation job',
      }),
    )
    .input(z.object({ agentId: z.uuid(), jobId: z.uuid() }))
    .output(ZMemoryJobResponse)
    .query(async ({ ctx, input }) => toJobResponse(await getJob(ctx.em, ctx.user, input))),

  /** An agent's consolidation jobs, newest first. */
  jobs: authedProcedure
    .meta(
      rest('GET', '/agents/{agentId}/memories/jobs', {
        tag: 'memories',
        summary: 'Consolidation jobs, newest first',
      }),
    )
    .input(ZListJobsRequest)
    .output(z.object({ items: z.array(ZMemoryJobResponse), nextCursor: z.uuid().nullable() }))
    .query(async ({ ctx, input }) => {
      const page = await listJobs(ctx.em, ctx.user, input);
      return { items: page.items.map(toJobResponse), nextCursor: page.nextCursor };
    }),

  /** Every recorded change of one memory item or core block, oldest first. */
  history: authedProcedure
    .meta(
      rest('GET', '/agents/{agentId}/memories/history/{itemId}', {
        tag: 'memories',
        summary: 'Every recorded change of a memory item or core block',
      }),
    )
    .input(z.object({ agentId: z.uuid(), itemId: z.uuid() }))
    .output(z.array(ZHistoryEntryResponse))
    .query(({ ctx, input }) => itemHistory(ctx.em, ctx.user, input)),

  /** Consolidation jobs, LLM calls and tokens of an agent, totalled. */
  usage: authedProcedure
    .meta(
      rest('GET', '/agents/{agentId}/memories/usage', {
        tag: 'memories',
        summary: 'Consolidation usage totals',
      }),
    )
    .input(z.object({ agentId: z.uuid() }))
    .output(ZUsageResponse)
    .query(({ ctx, input }) => agentUsage(ctx.em, ctx.user, input.agentId)),

  /**
   * The agent's consolidation job events as they happen (queued, active, completed, failed), from
   * every API and worker process. Ownership is checked before the first event (NOT_FOUND is then
   * the stream's only event, as for chat.stream).
   */
  events: authedProcedure
    .input(z.object({ agentId: z.uuid() }))
    .use(async ({ ctx, input, next }) => {
      await getOwnedAgent(ctx.em, ctx.user, input.agentId);
      return next();
    })
    .subscription(async function* ({ ctx, input, signal }) {
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      signal?.addEventListener('abort', onAbort);
      try {
        yield* await ctx.services.memoryEvents.subscribe(input.agentId, controller.signal);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        controller.abort();
      }
    }),
});

const consolidationDeps = (ctx: Context): ConsolidationDeps => ({
  queues: ctx.services.queues,
  redis: ctx.services.redis,
  prefix: ctx.services.chatEnv.QUEUE_PREFIX,
  log: ctx.log,
});
