import { createRequire } from 'node:module';
import {
  forEachOpenApiProcedure,
  generateOpenApiDocument,
  normalizePath,
  type OpenAPIObject,
} from 'trpc-to-openapi';
import { z } from 'zod';
import { ZChatStreamEvent } from '../../shared/chat-events.js';
import { ZMemoryJobEvent } from '../../shared/memory-events.js';
import { ZChatSendRequest } from '../modules/chat/index.js';
import { appRouter } from '../trpc/routers/_app.js';
import { toSnake } from '../case.js';
import type { ProcedureMeta } from './meta.js';
import { REST_PREFIX } from './bridge.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export const OPENAPI_PATH = '/api/openapi.json';
export const DOCS_PATH = '/docs';

const ZRestError = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'NOT_FOUND' }),
      message: z.string(),
      details: z.object({
        request_id: z.string().nullable(),
        field_errors: z.record(z.string(), z.array(z.string())).optional(),
        retry_after_seconds: z.number().int().optional(),
      }),
    }),
  })
  .meta({ id: 'Error' });

/**
 * An event stream's schema as REST sends it (sse.ts): the event's type is its `event` field, the
 * rest of the event as it is.
 */
function restEvents(events: z.ZodDiscriminatedUnion): z.ZodDiscriminatedUnion {
  const [first, ...rest] = (events.options as z.ZodObject[]).map((member) => {
    const { type, ...fields } = member.shape as Record<string, z.ZodType>;
    return z.object({ event: type!, ...fields });
  });
  return z.discriminatedUnion('event', [first!, ...rest]);
}

/** The two event streams are subscriptions (OpenAPI has none): described by hand, from the same schemas. */
const streamPaths = {
  [`/agents/{agentId}/memories/events`]: {
    get: {
      operationId: 'memory-events',
      summary: "The agent's consolidation job events as Server-Sent Events",
      description:
        'Each event is a `data: {json}` line whose `event` field is queued, active, completed (with its changes) ' +
        'or failed, as it happens. A comment line arrives every 10 s; the stream ends with `data: [DONE]` after 5 minutes ' +
        '(open a new one) or when the server stops.',
      tags: ['memories'],
      security: [{ bearerAuth: [] }],
      requestParams: { path: z.object({ agentId: z.uuid() }) },
      responses: {
        '200': {
          description: 'The event stream',
          content: { 'text/event-stream': { schema: restEvents(ZMemoryJobEvent) } },
        },
      },
    },
  },
  [`/agents/{agentId}/stream-chat`]: {
    post: {
      operationId: 'chat-stream',
      summary: 'One chat turn as Server-Sent Events',
      description:
        'Each event is a `data: {json}` line whose `event` field is start, thinking, memories, content (many), ' +
        'then complete or error; the stream ends with `data: [DONE]`. Closing the connection cancels the turn.',
      tags: ['chat'],
      security: [{ bearerAuth: [] }],
      requestParams: { path: z.object({ agentId: z.uuid() }) },
      requestBody: {
        required: true,
        content: { 'application/json': { schema: ZChatSendRequest.omit({ agentId: true }) } },
      },
      responses: {
        '200': {
          description: 'The event stream',
          content: { 'text/event-stream': { schema: restEvents(ZChatStreamEvent) } },
        },
      },
    },
  },
};

/** Each route's success status, by `METHOD path` as the generator writes the path. */
function successStatuses(): Map<string, number> {
  const out = new Map<string, number>();
  forEachOpenApiProcedure<ProcedureMeta>(appRouter._def.procedures, ({ meta }) => {
    if (meta.restStatus)
      out.set(`${meta.openapi.method.toLowerCase()} ${normalizePath(meta.openapi.path)}`, meta.restStatus);
  });
  return out;
}

const DATA_KEYWORDS = new Set(['example', 'examples', 'default', 'const', 'enum']);

/** A JSON Schema (or any part of the document) with its declared property names in snake_case. */
function snakeSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(snakeSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, s]) => [toSnake(name), snakeSchema(s)]),
      );
    } else if (key === 'required' && Array.isArray(value)) {
      out[key] = value.map((name: unknown) => (typeof name === 'string' ? toSnake(name) : name));
    } else if (key === 'discriminator' && value && typeof value === 'object') {
      const d = value as { propertyName: string };
      out[key] = { ...d, propertyName: toSnake(d.propertyName) };
    } else if (DATA_KEYWORDS.has(key)) {
      out[key] = value;
    } else {
      out[key] = snakeSchema(value);
    }
  }
  return out;
}

type Operation = {
  parameters?: { name: string; in: string }[];
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
  security?: unknown[];
};

/**
 * The REST bridge's OpenAPI 3.1 document: generated by trpc-to-openapi from the procedures' zod
 * schemas, then given the bridge's wire format (snake_case names, each route's success status,
 * the one error body, 401 and 429 where they can happen).
 */
export function buildOpenApiDocument(): OpenAPIObject {
  const doc = generateOpenApiDocument(appRouter, {
    title: 'MIRIX-TS REST API',
    description:
      'Memory server for LLM agents: agents, chat with memories, and six memory types. ' +
      'Every field is snake_case; every error is `{ error: { code, message, details } }`. ' +
      'Authenticate with `Authorization: Bearer <access_token or API key>`.',
    version,
    openApiVersion: '3.1.0',
    baseUrl: REST_PREFIX,
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: 'An access token from /auth/login, or an API key',
      },
    },
    paths: streamPaths,
    defs: { Error: ZRestError },
  });

  const statuses = successStatuses();
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const snakePath = path.replace(/\{(\w+)\}/g, (_, name: string) => `{${toSnake(name)}}`);
    const operations: Record<string, Operation> = {};
    for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
      const responses: Operation['responses'] = {};
      const success = statuses.get(`${method} ${path}`) ?? 200;
      for (const [code, response] of Object.entries(op.responses)) {
        if (code === '200') {
          responses[String(success)] =
            success === 204
              ? { description: 'No content' }
              : { ...response, description: response.description };
        } else if (/^[45]/.test(code)) {
          responses[code] = errorResponse(response.description);
        } else {
          responses[code] = response;
        }
      }
      if (op.security?.length) responses['401'] = errorResponse('Missing, invalid or expired credentials');
      responses['429'] = errorResponse('Over the request budget: retry after the Retry-After header');
      operations[method] = {
        ...op,
        parameters: op.parameters?.map((p) => ({ ...p, name: toSnake(p.name) })),
        responses,
      };
    }
    paths[snakePath] = operations;
  }
  // The generator's own error schemas are replaced by Error above.
  const schemas = Object.fromEntries(
    Object.entries(doc.components?.schemas ?? {}).filter(([name]) => !name.startsWith('error.')),
  );
  return {
    ...doc,
    paths: snakeSchema(paths) as OpenAPIObject['paths'],
    components: snakeSchema({ ...doc.components, schemas }) as OpenAPIObject['components'],
  };
}
