import type { TRPCError } from '@trpc/server';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import {
  createOpenApiNodeHttpHandler,
  createProcedureCache,
  getInputOutputParsers,
  type OpenApiMethod,
} from 'trpc-to-openapi';
import type { AppServices } from '../services.js';
import { contextOfRequest } from '../trpc/context.js';
import { appRouter } from '../trpc/routers/_app.js';
import {
  fromTRPCError,
  type HttpError,
  plainHttpError,
  requestIdOf,
  wrongMethod,
  writeHttpError,
} from '../http-errors.js';
import { renameFields } from './field-names.js';
import { inputProblem } from '../input-rules.js';
import type { ProcedureMeta } from './meta.js';
import { memoryEvents, streamChat } from './streams.js';

export const REST_PREFIX = '/api/v1';
const MAX_BODY = '1mb';

const ROUTE_METHODS: OpenApiMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

const notAllowed = (req: Request, allowed: string[]): HttpError =>
  wrongMethod({
    method: req.method,
    path: `${REST_PREFIX}${req.path}`,
    allowed,
    requestId: requestIdOf(req),
  });

/** Where trpc-to-openapi's handler reports a procedure's error for the request it served. */
const ERROR = Symbol('restError');
type BridgedRequest = Request & { [ERROR]?: TRPCError };

/**
 * The REST bridge at /api/v1: each procedure with a `rest(...)` route, run by trpc-to-openapi
 * through the same middleware as tRPC (authentication, request budgets, error mapping), with
 * snake_case names on the wire (field-names.ts), the route's success status, and errors as
 * `{ error: { code, message, details } }`. Plus the two streams (stream-chat, memory events) as SSE.
 * (The route is matched here too, before the handler matches it again: its input schema decides
 * the field names of the body and query the handler reads.)
 */
export function restBridge(services: AppServices): express.Router {
  const findProcedure = createProcedureCache(appRouter);
  const handler = createOpenApiNodeHttpHandler({
    router: appRouter,
    // The requests are Express's (the bridge is an Express router).
    createContext: ({ req, info }) => contextOfRequest(services, req as Request, info.connectionParams),
    onError: ({ error, req }) => {
      (req as BridgedRequest)[ERROR] = error;
    },
  });

  const rest = express.Router();
  rest.use(express.json({ limit: MAX_BODY }));
  rest.post('/agents/:agentId/stream-chat', streamChat(services));
  rest.all('/agents/:agentId/stream-chat', (req, res) => writeHttpError(res, notAllowed(req, ['POST'])));
  rest.get('/agents/:agentId/memories/events', memoryEvents(services));
  rest.all('/agents/:agentId/memories/events', (req, res) => writeHttpError(res, notAllowed(req, ['GET'])));

  rest.use(async (req: BridgedRequest, res) => {
    const path = req.path.replace(/\/+$/, '') || '/';
    const match = findProcedure(req.method as OpenApiMethod, path);
    if (!match?.procedure) {
      // A path that exists with other methods: 405 naming them; otherwise 404.
      const allowed = ROUTE_METHODS.filter((m) => findProcedure(m, path)?.procedure);
      writeHttpError(
        res,
        allowed.length
          ? notAllowed(req, allowed)
          : plainHttpError({
              status: 404,
              message: `No route ${req.method} ${REST_PREFIX}${req.path}`,
              requestId: requestIdOf(req),
            }),
      );
      return;
    }
    const { procedure } = match.procedure;
    // The rules every input follows (input-rules.ts), before the field names are walked.
    const problem = inputProblem(req.body) ?? inputProblem(req.query);
    if (problem) {
      writeHttpError(res, plainHttpError({ status: 400, message: problem, requestId: requestIdOf(req) }));
      return;
    }
    const { inputParser, outputParser } = getInputOutputParsers(procedure);
    if (req.body !== undefined) req.body = renameFields(inputParser, req.body, 'in');
    Object.defineProperty(req, 'query', {
      value: renameFields(inputParser, { ...req.query }, 'in'),
      configurable: true,
      writable: true,
    });

    // The handler writes its own JSON; take it instead, to rename it and set the route's status.
    let written: unknown;
    const end = res.end.bind(res);
    res.end = function (this: Response, chunk?: unknown) {
      written = chunk;
      return this;
    } as typeof res.end;
    try {
      await handler(req, res);
    } finally {
      res.end = end;
    }

    const error = req[ERROR];
    if (error) {
      writeHttpError(res, fromTRPCError(error, requestIdOf(req)));
      return;
    }
    const status = (procedure._def.meta as ProcedureMeta | undefined)?.restStatus ?? 200;
    if (status === 204) {
      res.removeHeader('content-type');
      res.status(204).end();
      return;
    }
    const data: unknown = typeof written === 'string' && written.length > 0 ? JSON.parse(written) : null;
    res.status(status).json(renameFields(outputParser, data, 'out'));
  });

  // eslint-disable-next-line max-params -- Express knows error middleware by its four parameters.
  const onBodyError: ErrorRequestHandler = (err: { type?: string }, req, res, next) => {
    const requestId = requestIdOf(req);
    if (err.type === 'entity.parse.failed') {
      writeHttpError(
        res,
        plainHttpError({
          status: 400,
          code: 'PARSE_ERROR',
          message: 'The body is not valid JSON',
          requestId,
        }),
      );
    } else if (err.type === 'entity.too.large') {
      writeHttpError(
        res,
        plainHttpError({ status: 413, message: `The body is over ${MAX_BODY}`, requestId }),
      );
    } else {
      next(err);
    }
  };
  rest.use(onBodyError);
  return rest;
}
