import { TRPCError } from '@trpc/server';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, AppErrorCode } from '../../server/errors.js';
import { httpErrorOf, plainHttpError, wrongMethod } from '../../server/http-errors.js';

const log = pino({ level: 'silent' });
const of = (err: unknown) => httpErrorOf(err, { requestId: 'req-1', log });

describe('httpErrorOf: the one JSON error shape outside tRPC', () => {
  it('gives a domain error its status and message, with the request id', () => {
    expect(of(new AppError(AppErrorCode.NotFound, 'Agent not found'))).toEqual({
      status: 404,
      headers: {},
      body: { error: { code: 'NOT_FOUND', message: 'Agent not found', details: { request_id: 'req-1' } } },
    });
  });

  it('sends a rate limit as 429 with Retry-After, in the header and the body', () => {
    const err = of(new AppError(AppErrorCode.TooManyRequests, 'Slow down', { retryAfterSeconds: 7 }));
    expect(err.status).toBe(429);
    expect(err.headers).toEqual({ 'retry-after': '7' });
    expect(err.body.error.details.retry_after_seconds).toBe(7);
  });

  it('names invalid fields in snake_case, as the REST API spells them', () => {
    const zod = z.object({ modelConfig: z.object({ maxTokens: z.number() }) }).safeParse({ modelConfig: {} });
    const err = of(new TRPCError({ code: 'BAD_REQUEST', cause: zod.error }));
    expect(err.status).toBe(400);
    expect(Object.keys(err.body.error.details.field_errors ?? {})).toEqual(['model_config.max_tokens']);
    expect(err.body.error.message).toMatch(/^Invalid input: model_config\.max_tokens: /);
  });

  it('answers a database that is down with 503, and anything unexpected with an opaque 500', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(of(refused).status).toBe(503);
    expect(of(refused).body.error.code).toBe('SERVICE_UNAVAILABLE');
    const bug = of(new Error('relation "users" does not exist at /srv/app.ts:3'));
    expect(bug.status).toBe(500);
    expect(bug.body.error).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'Internal server error',
      details: { request_id: 'req-1' },
    });
  });

  it("keeps an http-errors 4xx's status and names it, showing its message only when it may be exposed", () => {
    const unsupported = Object.assign(new Error('Unsupported charset "X"'), { status: 415, expose: true });
    expect(of(unsupported).status).toBe(415);
    expect(of(unsupported).body.error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'Unsupported charset "X"',
    });
    const hidden = Object.assign(new Error('internal detail'), { status: 400, expose: false });
    expect(of(hidden).body.error).toMatchObject({ code: 'BAD_REQUEST', message: 'Bad request' });
  });
});

describe('plainHttpError and wrongMethod', () => {
  it('names the code after the status unless told', () => {
    expect(plainHttpError({ status: 413, message: 'Too big', requestId: null }).body.error.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    expect(
      plainHttpError({ status: 400, code: 'PARSE_ERROR', message: 'Not JSON', requestId: null }).body.error
        .code,
    ).toBe('PARSE_ERROR');
  });

  it('answers 405 with Allow naming the methods the route has', () => {
    const err = wrongMethod({ method: 'DELETE', path: '/health', allowed: ['GET', 'HEAD'], requestId: 'r' });
    expect(err.status).toBe(405);
    expect(err.headers).toEqual({ Allow: 'GET, HEAD' });
    expect(err.body.error.code).toBe('METHOD_NOT_SUPPORTED');
    expect(err.body.error.message).toBe('DELETE is not allowed on /health; use GET or HEAD');
  });
});
