import { initTRPC } from '@trpc/server';
import { transformer } from '../../shared/transformer.js';
import { AppError, AppErrorCode } from '../errors.js';
import { authenticateRequest } from '../modules/auth/index.js';
import { inputProblem } from '../input-rules.js';
import type { ProcedureMeta } from '../rest/meta.js';
import type { Context } from './context.js';
import { formatError, toTRPCError } from './middleware/errors.js';

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    transformer,
    errorFormatter: formatError,
    // Stack traces never leave the server, whatever NODE_ENV says.
    isDev: false,
    sse: {
      maxDurationMs: 5 * 60_000,
      ping: { enabled: true, intervalMs: 10_000 },
      client: { reconnectAfterInactivityMs: 15_000 },
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Maps domain errors once, for every procedure (tRPC 11: next() reports failures, it does not throw). */
const mapErrors = t.middleware(async ({ ctx, next, path, type }) => {
  const started = performance.now();
  const result = await next();
  if (!result.ok) {
    const error = toTRPCError(result.error, ctx);
    ctx.services.metrics.observeProcedure({
      procedure: path,
      type,
      code: error.code,
      seconds: (performance.now() - started) / 1000,
    });
    throw error;
  }
  ctx.services.metrics.observeProcedure({
    procedure: path,
    type,
    code: 'OK',
    seconds: (performance.now() - started) / 1000,
  });
  return result;
});

/**
 * A fresh EntityManager fork per procedure call. A batched HTTP request carries several calls that
 * run concurrently; sharing one unit of work between them would let one call flush another's changes.
 */
const forkEntityManager = t.middleware(({ ctx, next }) => next({ ctx: { ...ctx, em: ctx.em.fork() } }));

/** Sign-in and sign-up: a small budget per client address (see RequestLimiter). */
const AUTH_PROCEDURES = new Set(['auth.login', 'auth.register']);
const limitAuthAttempts = t.middleware(async ({ ctx, next, path }) => {
  if (AUTH_PROCEDURES.has(path)) await ctx.services.requestLimiter.consumeAuth(ctx.ip);
  return next();
});

/** The rules every input follows (input-rules.ts), before any procedure's own schema sees it. */
const checkInput = t.middleware(async ({ getRawInput, next }) => {
  let raw: unknown;
  try {
    raw = await getRawInput();
  } catch (err) {
    // The transformer recursed through input nested too deeply to read at all.
    if (err instanceof RangeError) throw new AppError(AppErrorCode.BadRequest, 'input is nested too deeply');
    throw err;
  }
  const problem = inputProblem(raw);
  if (problem) throw new AppError(AppErrorCode.BadRequest, problem);
  return next();
});

export const publicProcedure = t.procedure
  .use(mapErrors)
  .use(checkInput)
  .use(limitAuthAttempts)
  .use(forkEntityManager);

/** Requires a valid JWT or API key of an active user; narrows `ctx.user` to non-null. */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const user = await authenticateRequest(
    ctx.em,
    { tokens: ctx.services.tokens, limiter: ctx.services.requestLimiter },
    { credential: ctx.credential, ip: ctx.ip, user: ctx.user },
  );
  return next({ ctx: { ...ctx, user } });
});

/** Superusers only. Ordinary users get FORBIDDEN: the procedure's existence is no secret. */
export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!ctx.user.isSuperuser) throw new AppError(AppErrorCode.Forbidden, 'Superuser only');
  return next({ ctx });
});
