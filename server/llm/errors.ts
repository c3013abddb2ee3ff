import { AppError, AppErrorCode } from '../errors.js';

/** What the SDKs' errors have in common (both are Stainless-generated). */
interface SdkError {
  status?: number;
  name?: string;
  message?: string;
}

/**
 * Upstream failures as domain errors: a rejected key is the server's configuration problem, a
 * 429 is the caller's to retry later, timeouts and 5xx are retriable. Aborts pass through.
 */
export function toLlmError(provider: string, err: unknown): unknown {
  if (err instanceof AppError) return err;
  const e = (err ?? {}) as SdkError;
  if (e.name === 'AbortError' || e.name === 'APIUserAbortError') return err;
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status === 401 || status === 403) {
    return new AppError(
      AppErrorCode.PreconditionFailed,
      `The ${provider} provider rejected the server's credentials (HTTP ${status}): check its API key`,
      { cause: err },
    );
  }
  if (status === 429) {
    return new AppError(
      AppErrorCode.TooManyRequests,
      `The ${provider} provider is rate limiting requests; retry later`,
      {
        cause: err,
      },
    );
  }
  if (
    status === undefined ||
    status >= 500 ||
    e.name === 'APIConnectionTimeoutError' ||
    e.name === 'APIConnectionError'
  ) {
    return new AppError(
      AppErrorCode.ServiceUnavailable,
      `The ${provider} provider is unavailable; retry shortly`,
      {
        cause: err,
      },
    );
  }
  return new AppError(
    AppErrorCode.BadRequest,
    `The ${provider} provider refused the request (HTTP ${status})`,
    {
      cause: err,
    },
  );
}
