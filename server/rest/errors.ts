import type { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { Response } from 'express';
import { ZodError } from 'zod';
import { describeFieldErrors, fieldErrorsOf, retryAfterOf } from '../trpc/middleware/errors.js';
import { snakePath } from './field-names.js';

/** Every REST error body: `{ error: { code, message, details } }`. */
export interface RestErrorBody {
  error: {
    /** tRPC's code: BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, CONFLICT, TOO_MANY_REQUESTS, ... */
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

export interface RestError {
  status: number;
  headers: Record<string, string>;
  body: RestErrorBody;
}

/**
 * A REST error from what a procedure threw. Procedures' errors have already been through the one
 * mapping middleware (server/trpc/middleware/errors.ts), so their messages are safe to show.
 */
export function restErrorOf(error: TRPCError, requestId: string | null): RestError {
  const cause = error.cause;
  const retryAfter = retryAfterOf(error);
  let message = error.message;
  let fieldErrors: Record<string, string[]> | undefined;
  if (error.code === 'BAD_REQUEST' && cause instanceof ZodError) {
    fieldErrors = Object.fromEntries(
      Object.entries(fieldErrorsOf(cause)).map(([path, messages]) => [snakePath(path), messages]),
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

/** A REST error that no procedure raised (unknown route, unreadable body). */
export function plainRestError(
  status: number,
  code: TRPCError['code'],
  message: string,
  requestId: string | null,
): RestError {
  return {
    status,
    headers: {},
    body: { error: { code, message, details: { request_id: requestId } } },
  };
}

export function sendRestError(res: Response, error: RestError): void {
  res.status(error.status).set(error.headers).json(error.body);
}
