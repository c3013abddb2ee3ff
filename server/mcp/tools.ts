import { z } from 'zod';
import { ZListAgentsRequest } from '../modules/agents/index.js';
import { ZIngestRequest } from '../modules/consolidation/index.js';
import {
  episodic,
  MEMORY_TYPES,
  procedural,
  resource,
  semantic,
  vault,
  ZCoreAppendRequest,
  ZCoreReplaceRequest,
  ZListMemoriesRequest,
  ZMemoryIdRequest,
  ZSearchRequest,
  type MemoryType,
} from '../modules/memory/index.js';
import type { appRouter } from '../trpc/routers/_app.js';

export type Caller = ReturnType<typeof appRouter.createCaller>;

/**
 * One MCP tool: a procedure of the API under a name and description written for a model. `input`
 * is the procedure's own input schema (with `agentId` where the procedure takes one), so MCP
 * clients see the same fields, limits and defaults as tRPC and REST, and the procedure validates.
 */
export interface McpTool {
  name: string;
  description: string;
  input: z.ZodObject;
  /** Read-only tools are marked so for clients that ask before a tool changes anything. */
  readOnly: boolean;
  run: (caller: Caller, input: Record<string, unknown>) => Promise<Record<string, unknown>>;
}

/** The searchable memory types, by the name the tools use (the API's `type` values). */
const TYPE_ROUTES = {
  episodic: 'episodic',
  semantic: 'semantic',
  procedural: 'procedural',
  resource: 'resource',
  knowledge_vault: 'vault',
} as const satisfies Record<MemoryType, string>;

const ZMemoryType = z
  .enum(MEMORY_TYPES)
  .describe(
    'episodic: events with a time; semantic: facts and concepts; procedural: how-tos and workflows; resource: documents and files; knowledge_vault: credentials and sensitive entries (their secret values are never returned here)',
  );

const routeOf = (caller: Caller, type: unknown) => caller.memory[TYPE_ROUTES[type as MemoryType]];

/** A patch for one type: the fields its update procedure accepts, every one optional. */
const ZAnyPatch = z
  .union([episodic.patch, semantic.patch, procedural.patch, resource.patch, vault.patch])
  .describe('The fields to change (omitted fields stay): the fields of that memory type');

const ZJobRequest = z.object({ agentId: z.uuid(), jobId: z.uuid() });

/** What every tool needs of its input, once validated by the procedure it calls. */
const withoutType = ({ type: _type, ...rest }: Record<string, unknown>) => rest;

export const MCP_TOOLS: McpTool[] = [
  {
    name: 'list_agents',
    description:
      "The caller's agents (id, name, type), newest first. Every memory belongs to one agent: use an agent's id as agentId in the other tools.",
    input: ZListAgentsRequest,
    readOnly: true,
    run: async (caller, input) => caller.agents.list(input),
  },
  {
    name: 'search_memories',
    description:
      "Search the agent's memories with a natural-language question or keywords (hybrid: meaning, words and spelling). Quoted text matches a phrase; -word excludes a word. Filter by memory types and a time range (ISO dates). Returns the best matches first, each with its type, id, text fields and score.",
    input: ZSearchRequest,
    readOnly: true,
    run: async (caller, input) => caller.memory.search(input as z.input<typeof ZSearchRequest>),
  },
  {
    name: 'add_memory',
    description:
      "Give new content to the agent's memory managers, which decide what to remember and in which memory types. Send either `messages` (a conversation: role and content, optionally occurredAt) or `text` (a document, with an optional source). Answers at once with a jobId: the managers work in the background; get_job reports what they changed.",
    input: z.object(ZIngestRequest.shape),
    readOnly: false,
    run: async (caller, input) => caller.memory.ingest(input as z.input<typeof ZIngestRequest>),
  },
  {
    name: 'get_job',
    description:
      'A memory job from add_memory: its status (queued, active, completed, failed), the changes it made to memories, its LLM usage and any error.',
    input: ZJobRequest,
    readOnly: true,
    run: async (caller, input) => caller.memory.job(input as z.input<typeof ZJobRequest>),
  },
  {
    name: 'list_memories',
    description:
      "List the agent's memories of one type, newest first, optionally within a time range (from/to, ISO dates) or containing a substring. Pages with `cursor` (the previous answer's nextCursor).",
    input: ZListMemoriesRequest.extend({ type: ZMemoryType }),
    readOnly: true,
    run: async (caller, input) =>
      routeOf(caller, input.type).list(withoutType(input) as z.input<typeof ZListMemoriesRequest>),
  },
  {
    name: 'get_memory',
    description: 'One memory by its type and id, with every field (a resource with its content).',
    input: ZMemoryIdRequest.extend({ type: ZMemoryType }),
    readOnly: true,
    run: async (caller, input) =>
      routeOf(caller, input.type).get(withoutType(input) as z.input<typeof ZMemoryIdRequest>),
  },
  {
    name: 'update_memory',
    description:
      "Change some fields of one memory (by type and id); omitted fields stay as they are. Every change is kept in the memory's history.",
    input: ZMemoryIdRequest.extend({ type: ZMemoryType, changes: ZAnyPatch }),
    readOnly: false,
    run: async (caller, input) => {
      const { changes, ...ref } = withoutType(input) as { changes: object; agentId: string; id: string };
      // The type's own update procedure validates the changes against that type's fields.
      const update = routeOf(caller, input.type).update as (i: object) => Promise<Record<string, unknown>>;
      return update({ ...changes, ...ref });
    },
  },
  {
    name: 'delete_memory',
    description: 'Delete one memory (by type and id). It leaves search and lists; its history is kept.',
    input: ZMemoryIdRequest.extend({ type: ZMemoryType }),
    readOnly: false,
    run: async (caller, input) =>
      routeOf(caller, input.type).delete(withoutType(input) as z.input<typeof ZMemoryIdRequest>),
  },
  {
    name: 'get_core_memory',
    description:
      "The agent's core memory: always-present blocks (persona: who the agent is; human: what it knows about its user; and any others), each with its text and size limit.",
    input: z.object({ agentId: z.uuid() }),
    readOnly: true,
    run: async (caller, input) => ({ blocks: await caller.memory.core.get(input as { agentId: string }) }),
  },
  {
    name: 'append_core_memory',
    description:
      'Append text to a core memory block (e.g. label "human" to remember something lasting about the user). Fails if the block would exceed its limit.',
    input: ZCoreAppendRequest,
    readOnly: false,
    run: async (caller, input) => caller.memory.core.append(input as z.input<typeof ZCoreAppendRequest>),
  },
  {
    name: 'replace_core_memory',
    description:
      'Replace the first occurrence of `old` with `new` in a core memory block (an empty `new` deletes the text). Fails if `old` is not in the block.',
    input: ZCoreReplaceRequest,
    readOnly: false,
    run: async (caller, input) => caller.memory.core.replace(input as z.input<typeof ZCoreReplaceRequest>),
  },
];
