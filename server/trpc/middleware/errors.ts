import { DriverException, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { TRPCError, type TRPCDefaultErrorShape } from '@trpc/server';
import { ZodError } from 'zod';
import { AppError, AppErrorCode, isUnavailable } from '../../errors.js';
import type { Logger } from 'pino';

/** Field path -> messages, e.g. `{ "modelConfig.provider": ["Invalid option: ..."] }`. */
export type FieldErrors = Record<string, string[]>;

export function fieldErrorsOf(err: ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of err.issues) {
    const key = issue.path.map(String).join('.') || '_';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

/** Field errors in one readable line: `Invalid input: name: required; modelConfig.provider: …`. */
export function describeFieldErrors(fieldErrors: FieldErrors): string {
  return `Invalid input: ${Object.entries(fieldErrors)
    .map(([field, messages]) => `${field}: ${messages.join(', ')}`)
    .join('; ')}`;
}

/** The seconds a rate-limited call was told to wait (sent as Retry-After), if it was one. */
export function retryAfterOf(error: TRPCError): number | undefined {
  return error.cause instanceof AppError ? error.cause.retryAfterSeconds : undefined;
}

export function formatError({
  shape,
  error,
  ctx,
}: {
  shape: TRPCDefaultErrorShape;
  error: TRPCError;
  ctx: { requestId: string | null } | undefined;
}) {
  const { stack: _stack, ...data } = shape.data;
  const fieldErrors =
    error.code === 'BAD_REQUEST' && error.cause instanceof ZodError ? fieldErrorsOf(error.cause) : null;
  return {
    ...shape,
    // zod's own message is a JSON dump of its issues; say it in one readable line instead.
    message: fieldErrors ? describeFieldErrors(fieldErrors) : shape.message,
    data: { ...data, requestId: ctx?.requestId ?? null, fieldErrors },
  };
}

const CODE_MAP = {
  [AppErrorCode.BadRequest]: 'BAD_REQUEST',
  [AppErrorCode.Unauthorized]: 'UNAUTHORIZED',
  [AppErrorCode.Forbidden]: 'FORBIDDEN',
  [AppErrorCode.NotFound]: 'NOT_FOUND',
  [AppErrorCode.Conflict]: 'CONFLICT',
  [AppErrorCode.TooManyRequests]: 'TOO_MANY_REQUESTS',
  [AppErrorCode.PreconditionFailed]: 'PRECONDITION_FAILED',
  [AppErrorCode.ServiceUnavailable]: 'SERVICE_UNAVAILABLE',
} as const satisfies Record<AppErrorCode, TRPCError['code']>;

/**
 * Database errors carry the failed SQL with its values inlined (password hashes, vault
 * ciphertext, ...): log what identifies the failure, not the statement.
 */
function loggable(err: unknown): unknown {
  if (!(err instanceof DriverException)) return err;
  const e = err as DriverException & { constraint?: string; table?: string; column?: string };
  const reason = err.message.includes(' - ')
    ? err.message.slice(err.message.lastIndexOf(' - ') + 3)
    : err.name;
  return {
    type: err.name,
    message: reason,
    code: e.code,
    sqlState: e.sqlState,
    table: e.table,
    column: e.column,
    constraint: e.constraint,
    stack: err.stack?.split('\n').slice(1).join('\n'),
  };
}

/**
 * The one place that turns what services throw into transport errors. Anything unexpected becomes
 * a bare INTERNAL_SERVER_ERROR: the details go to the log, never to the client.
 */
export function toTRPCError(err: unknown, ctx: { log: Logger }): TRPCError {
  if (err instanceof TRPCError) {
    // tRPC wraps whatever a procedure throws in an INTERNAL_SERVER_ERROR; unwrap to map the cause.
    if (err.code !== 'INTERNAL_SERVER_ERROR' || err.cause === undefined || err.cause instanceof TRPCError) {
      return err;
    }
    return toTRPCError(err.cause, ctx);
  }
  if (err instanceof AppError)
    return new TRPCError({ code: CODE_MAP[err.code], message: err.message, cause: err });
  if (err instanceof UniqueConstraintViolationException) {
    return new TRPCError({ code: 'CONFLICT', message: 'That already exists', cause: err });
  }
  const cause = err instanceof DriverException ? (err.cause ?? err) : err;
  if (isUnavailable(err) || isUnavailable(cause)) {
    ctx.log.warn({ err }, 'backing service unavailable');
    return new TRPCError({
      code: 'SERVICE_UNAVAILABLE',
      message: 'A backing service is unavailable; retry shortly',
    });
  }
  ctx.log.error({ err: loggable(err) }, 'unhandled error');
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
}
