import type { ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { ZodError } from 'zod';
import type { Logger } from 'pino';
import { describeFieldErrors, fieldErrorsOf, retryAfterOf, toTRPCError } from './trpc/middleware/errors.js';
import { snakePath } from './rest/field-names.js';

/**
 * The one JSON error shape outside tRPC (REST, SSE before the stream starts, the queue dashboard,
 * health and unknown routes): `{ error: { code, message, details } }`. tRPC's own clients get
 * tRPC's shape from its formatter (trpc/middleware/errors.ts).
 */
export interface HttpErrorBody {
  error: {
    /** tRPC's code names: BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, METHOD_NOT_SUPPORTED, ... */
    code: string;
    message: string;
    details: {
      request_id: string | null;
      /** For BAD_REQUEST from validation: field path (snake_case) -> messages. */
      field_errors?: Record<string, string[]>;
      /** For TOO_MANY_REQUESTS: also sent as the Retry-After header. */
      retry_after_seconds?: number;
    };
  };
}

export interface HttpError {
  status: number;
  headers: Record<string, string>;
  body: HttpErrorBody;
}

/** The code for a status that no procedure chose (Express's body parser, an unknown route). */
const CODE_OF_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_SUPPORTED',
  408: 'TIMEOUT',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_CONTENT',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

export interface PlainHttpError {
  status: number;
  message: string;
  requestId: string | null;
  /** Defaults to the status's name (CODE_OF_STATUS). */
  code?: string;
  headers?: Record<string, string>;
}

/** An error no procedure raised: an unknown route, a wrong method, an unreadable body. */
export function plainHttpError({ status, message, requestId, code, headers }: PlainHttpError): HttpError {
  return {
    status,
    headers: headers ?? {},
    body: {
      error: {
        code: code ?? CODE_OF_STATUS[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR'),
        message,
        details: { request_id: requestId },
      },
    },
  };
}

/** 405 for a route that exists with other methods, which `Allow` names (RFC 9110). */
export function wrongMethod(opts: {
  method: string;
  path: string;
  allowed: string[];
  requestId: string | null;
}) {
  return plainHttpError({
    status: 405,
    message: `${opts.method} is not allowed on ${opts.path}; use ${opts.allowed.join(' or ')}`,
    requestId: opts.requestId,
    headers: { Allow: opts.allowed.join(', ') },
  });
}

/**
 * The HTTP error for anything thrown, through the one mapping (toTRPCError, which logs what is
 * unexpected): a procedure's TRPCError, a domain AppError, a backing service that is down (503);
 * an Express/http-errors 4xx (an unreadable body) keeps its status; anything else is an opaque 500.
 */
export function httpErrorOf(err: unknown, opts: { requestId: string | null; log: Logger }): HttpError {
  const { status, expose } = (err ?? {}) as { status?: unknown; expose?: unknown };
  if (!(err instanceof TRPCError) && typeof status === 'number' && status >= 400 && status < 500) {
    const message = expose === true && err instanceof Error ? err.message : 'Bad request';
    return plainHttpError({ status, message, requestId: opts.requestId });
  }
  return fromTRPCError(toTRPCError(err, { log: opts.log }), opts.requestId);
}

/** A procedure's error (already mapped by toTRPCError, so its message is safe to show). */
export function fromTRPCError(
  error: TRPCError,
  requestId: string | null,
  /** How field paths are named in the message: REST's snake_case by default, MCP keeps the API's. */
  fieldPath: (path: string) => string = snakePath,
): HttpError {
  const cause = error.cause;
  const retryAfter = retryAfterOf(error);
  let message = error.message;
  let fieldErrors: Record<string, string[]> | undefined;
  if (error.code === 'BAD_REQUEST' && cause instanceof ZodError) {
    fieldErrors = Object.fromEntries(
      Object.entries(fieldErrorsOf(cause)).map(([path, messages]) => [fieldPath(path), messages]),
    );
    message = describeFieldErrors(fieldErrors);
  }
  if (error.code === 'INTERNAL_SERVER_ERROR') message = 'Internal server error';
  return {
    status: getHTTPStatusCodeFromError(error),
    headers: retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {},
    body: {
      error: {
        code: error.code,
        message,
        details: {
          request_id: requestId,
          ...(fieldErrors ? { field_errors: fieldErrors } : {}),
          ...(retryAfter !== undefined ? { retry_after_seconds: retryAfter } : {}),
        },
      },
    },
  };
}

/** Writes the error as JSON on any Node response (Express's included). */
export function writeHttpError(res: ServerResponse, error: HttpError): void {
  res.statusCode = error.status;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(error.body));
}

/** The request id pino-http gave the request, if any. */
export const requestIdOf = (req: { id?: unknown }) => (typeof req.id === 'string' ? req.id : null);
