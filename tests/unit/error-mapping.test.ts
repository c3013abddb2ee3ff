import { TRPCError } from '@trpc/server';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AppError, AppErrorCode } from '../../server/errors.js';
import { toTRPCError } from '../../server/trpc/middleware/errors.js';
import type { Context } from '../../server/trpc/context.js';

const ctx = { log: pino({ level: 'silent' }) } as unknown as Context;
const wrapped = (cause: unknown) => new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause });

describe('toTRPCError', () => {
  it.each([
    [AppErrorCode.BadRequest, 'BAD_REQUEST'],
    [AppErrorCode.Unauthorized, 'UNAUTHORIZED'],
    [AppErrorCode.Forbidden, 'FORBIDDEN'],
    [AppErrorCode.NotFound, 'NOT_FOUND'],
    [AppErrorCode.Conflict, 'CONFLICT'],
    [AppErrorCode.TooManyRequests, 'TOO_MANY_REQUESTS'],
    [AppErrorCode.PreconditionFailed, 'PRECONDITION_FAILED'],
    [AppErrorCode.ServiceUnavailable, 'SERVICE_UNAVAILABLE'],
  ])('maps AppError %s to %s, keeping the message', (code, trpcCode) => {
    const mapped = toTRPCError(wrapped(new AppError(code, 'the reason')), ctx);
    expect(mapped.code).toBe(trpcCode);
    expect(mapped.message).toBe('the reason');
  });

  it('hides the message of an unexpected error', () => {
    const mapped = toTRPCError(
      wrapped(new Error('relation "users" does not exist at /srv/secret/path.ts:12')),
      ctx,
    );
    expect(mapped.code).toBe('INTERNAL_SERVER_ERROR');
    expect(mapped.message).toBe('Internal server error');
  });

  it('maps a refused connection to SERVICE_UNAVAILABLE', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(toTRPCError(wrapped(refused), ctx).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('maps a connection lost mid-statement (no error code) to SERVICE_UNAVAILABLE, also when wrapped', () => {
    // What pg throws when PostgreSQL dies during a query (regression: chat.send answered 500).
    const lost = new Error('Connection terminated unexpectedly');
    expect(toTRPCError(wrapped(lost), ctx).code).toBe('SERVICE_UNAVAILABLE');
    expect(toTRPCError(wrapped(new Error('query failed', { cause: lost })), ctx).code).toBe(
      'SERVICE_UNAVAILABLE',
    );
  });

  it('passes tRPC errors that already carry a client code through', () => {
    const original = new TRPCError({ code: 'BAD_REQUEST', message: 'bad' });
    expect(toTRPCError(original, ctx)).toBe(original);
  });
});
