import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Logger } from 'pino';
import { fromTRPCError } from '../http-errors.js';
import { toTRPCError } from '../trpc/middleware/errors.js';
import { type Caller, MCP_TOOLS, type McpTool } from './tools.js';

export const MCP_SERVER_INFO = { name: 'mirix-ts', version: '0.1.0' } as const;

const INSTRUCTIONS = [
  'MIRIX-TS is the long-term memory of your agents. Before answering from memory, search_memories with the',
  "user's question; to remember something, add_memory with the conversation or text (the memory managers",
  'decide what to keep) or edit memories and core memory directly. Every memory belongs to one agent.',
].join(' ');

/** A date in JSON Schema is an ISO 8601 string; the procedures accept exactly that. */
function jsonSchemaOf(schema: z.ZodObject): Tool['inputSchema'] {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema._zod.def.type === 'date')
        Object.assign(jsonSchema, { type: 'string', format: 'date-time' });
    },
  }) as Tool['inputSchema'];
}

/** The tools as listed: with `agentId` as a parameter, or without it where the URL fixes the agent. */
function listing(fixedAgent: boolean): Tool[] {
  return MCP_TOOLS.filter((t) => !(fixedAgent && t.name === 'list_agents')).map((t) => {
    const input = fixedAgent && 'agentId' in t.input.shape ? t.input.omit({ agentId: true }) : t.input;
    return {
      name: t.name,
      description: t.description,
      inputSchema: jsonSchemaOf(input),
      annotations: { readOnlyHint: t.readOnly, destructiveHint: t.name === 'delete_memory' },
    };
  });
}
const LISTINGS = { free: listing(false), fixed: listing(true) };

/** JSON as a client receives it: dates as ISO strings. */
const jsonSafe = (value: unknown) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

function toolError(err: unknown, opts: { log: Logger; requestId: string | null }): CallToolResult {
  const { body } = fromTRPCError(toTRPCError(err, opts), opts.requestId, (path) => path);
  const { code, message, details } = body.error;
  const retry = details.retry_after_seconds;
  return {
    isError: true,
    content: [
      { type: 'text', text: `${code}: ${message}${retry !== undefined ? ` (retry after ${retry} s)` : ''}` },
    ],
  };
}

async function callTool(
  tool: McpTool,
  opts: { caller: () => Caller; args: Record<string, unknown>; log: Logger; requestId: string | null },
): Promise<CallToolResult> {
  try {
    // The tool's schema names what a model got wrong (type, ids) before the procedure is called;
    // the procedure then validates the raw arguments again with its own schema, as over REST.
    const checked = tool.input.safeParse(opts.args);
    if (!checked.success)
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid input', cause: checked.error });
    const result = jsonSafe(await tool.run(opts.caller(), opts.args));
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
  } catch (err) {
    return toolError(err, opts);
  }
}

/**
 * An MCP server for one request of one authenticated caller. Each tool runs its procedure through
 * a tRPC caller, so authentication, the request budget (one unit per tool call), ownership checks
 * and error mapping are the API's own.
 */
export function createMcpServer(opts: {
  caller: () => Caller;
  /** The agent fixed by the URL (/mcp/agents/{agentId}): the tools then take no agentId. */
  agentId: string | null;
  log: Logger;
  requestId: string | null;
}): Server {
  const server = new Server(MCP_SERVER_INFO, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  const tools = new Map(MCP_TOOLS.map((t) => [t.name, t]));
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: opts.agentId ? LISTINGS.fixed : LISTINGS.free,
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = tools.get(request.params.name);
    if (!tool || (opts.agentId && tool.name === 'list_agents')) {
      return {
        isError: true,
        content: [{ type: 'text', text: `NOT_FOUND: No tool named ${request.params.name}` }],
      };
    }
    const args = { ...request.params.arguments, ...(opts.agentId ? { agentId: opts.agentId } : {}) };
    return callTool(tool, { ...opts, args });
  });
  return server;
}
