/**
 * Domain errors. Services throw these; one tRPC middleware (server/trpc/middleware/errors.ts)
 * turns them into transport errors, so services never import @trpc/server.
 */
export const AppErrorCode = {
  /** The input is well-formed but not acceptable (beyond what zod schemas catch). */
  BadRequest: 'BAD_REQUEST',
  /** No valid credentials: missing, malformed, expired, revoked, or the user is inactive. */
  Unauthorized: 'UNAUTHORIZED',
  /** Valid credentials without the role the action needs (e.g. admin procedures). Never used to hide objects. */
  Forbidden: 'FORBIDDEN',
  /** The object does not exist, is soft-deleted, or belongs to someone else. */
  NotFound: 'NOT_FOUND',
  /** A uniqueness rule would be broken (duplicate username, email, ...). */
  Conflict: 'CONFLICT',
  /** The caller exceeded a rate limit; retry later. */
  TooManyRequests: 'TOO_MANY_REQUESTS',
  /** The server is not set up for this (e.g. no LLM provider configured, or its key is rejected). */
  PreconditionFailed: 'PRECONDITION_FAILED',
  /** A backing service (PostgreSQL, Redis, an LLM provider) is unreachable. */
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
} as const;
export type AppErrorCode = (typeof AppErrorCode)[keyof typeof AppErrorCode];

export class AppError extends Error {
  /** For TOO_MANY_REQUESTS: when to try again (sent as the Retry-After header). */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: AppErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = 'AppError';
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** What a caller may see of an error: ours in full, anything else as an opaque internal error. */
export function publicErrorOf(err: unknown): { code: string; message: string } {
  return err instanceof AppError
    ? { code: err.code, message: err.message }
    : { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' };
}

export const notFound = (what: string) => new AppError(AppErrorCode.NotFound, `${what} not found`);

/** Driver messages that mean the database connection went away mid-statement (no error code). */
const LOST_CONNECTION =
  /Connection terminated|Connection ended|connection is closed|Client has encountered a connection error/i;

/**
 * Errors that mean "a backing service is down" (answered 503), not "our code is broken": refused,
 * reset, timed-out or terminated connections, an exhausted pool, and PostgreSQL shutting down.
 */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 3) return false;
  if (err.name === 'KnexTimeoutError' || err.name === 'ConnectionException') return true;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P02', '57P03'].includes(
      code,
    )
  )
    return true;
  if (LOST_CONNECTION.test(err.message)) return true;
  return isUnavailable(err.cause, depth + 1);
}
