import { type EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { runNative } from '../../db/native.js';
import { AppError, AppErrorCode } from '../../errors.js';
import { User } from '../users/index.js';
import { ApiKey } from './api-key.entity.js';
import { apiKeyMatches, apiKeyPrefix, isApiKey } from './api-keys.js';
import type { TLoginRequest, TRegisterRequest, TUserResponse } from './auth.schema.js';
import type { LoginLimiter } from './login-limiter.js';
import type { RequestLimiter } from './request-limiter.js';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './passwords.js';
import type { IssuedToken, TokenService } from './tokens.js';

const INVALID_CREDENTIALS = 'Invalid or expired credentials';
/** lastUsedAt is informational: write it at most once a minute per key, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function toUserResponse(user: User): TUserResponse {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    fullName: user.fullName,
    isActive: user.isActive,
    isSuperuser: user.isSuperuser,
    createdAt: user.createdAt,
  };
}

export async function register(em: EntityManager, input: TRegisterRequest): Promise<User> {
  const existing = await em.findOne(User, { $or: [{ username: input.username }, { email: input.email }] });
  if (existing) {
    const field = existing.username === input.username ? 'username' : 'email';
    throw new AppError(AppErrorCode.Conflict, `That ${field} is already registered`);
  }
  const user = em.create(User, {
    username: input.username,
    email: input.email,
    fullName: input.fullName ?? null,
    passwordHash: await hashPassword(input.password),
  });
  try {
    await em.flush();
  } catch (err) {
    // Two registrations racing past the check above: the unique index decides.
    if (err instanceof UniqueConstraintViolationException) {
      throw new AppError(AppErrorCode.Conflict, 'That username or email is already registered', {
        cause: err,
      });
    }
    throw err;
  }
  return user;
}

export interface LoginDeps {
  tokens: TokenService;
  limiter: LoginLimiter;
  /** Client address, for per-address throttling. */
  ip: string;
}

/** Password login. Failures are throttled per account and address, with backoff (login-limiter.ts). */
export async function login(em: EntityManager, deps: LoginDeps, input: TLoginRequest): Promise<IssuedToken> {
  await deps.limiter.assertAllowed(input.username, deps.ip);
  const user = await em.findOne(
    User,
    input.username.includes('@') ? { email: input.username } : { username: input.username },
  );
  const ok = user
    ? await verifyPassword(user.passwordHash, input.password)
    : await verifyAgainstDummy(input.password);
  if (!user || !ok) {
    await deps.limiter.recordFailure(input.username, deps.ip);
    throw new AppError(AppErrorCode.Unauthorized, 'Incorrect username or password');
  }
  if (!user.isActive) throw new AppError(AppErrorCode.Unauthorized, 'This account is disabled');
  await deps.limiter.recordSuccess(input.username, deps.ip);
  return deps.tokens.issue(user.id);
}

/** Who a request claims to be, as its transport carries it. */
export interface RequestCaller {
  /** The raw credential (credentialOf), if the caller sent one. */
  credential: string | null;
  /** The client's address: callers without valid credentials spend its anonymous budget. */
  ip: string;
  /** Already known (in-process callers and tests): only the budget is spent. */
  user?: User | null;
  /**
   * false: identify the caller without spending its budget, because the calls it goes on to make
   * spend it (an MCP request carrying tool calls: each tool call is one API call).
   */
  spend?: boolean;
}

export interface AuthenticateDeps {
  tokens: TokenService;
  limiter: RequestLimiter;
}

/**
 * The one authentication of a request, for tRPC, REST and the queue dashboard alike: resolves the
 * credential to an active user and spends that caller's request budget (an API key's own, else the
 * user's). Without valid credentials it spends the address's anonymous budget and throws
 * UNAUTHORIZED (or TOO_MANY_REQUESTS once that budget is spent).
 */
export async function authenticateRequest(
  em: EntityManager,
  deps: AuthenticateDeps,
  caller: RequestCaller,
): Promise<User> {
  const { credential } = caller;
  const spend = async (userId: string) => {
    if (caller.spend === false) return;
    await deps.limiter.consumeCaller(userId, credential && isApiKey(credential) ? credential : null);
  };
  if (caller.user) {
    await spend(caller.user.id);
    return caller.user;
  }
  try {
    if (!credential) throw new AppError(AppErrorCode.Unauthorized, 'Authentication required');
    return await authenticate(em, { tokens: deps.tokens, credential, spend });
  } catch (err) {
    if (err instanceof AppError && err.code === AppErrorCode.Unauthorized) {
      await deps.limiter.consumeAnonymous(caller.ip);
    }
    throw err;
  }
}

/** A request's credential: the bearer header, else (for browsers) the `mirix_token` cookie. */
export function credentialOf(
  headers: { authorization?: string; cookie?: string },
  opts: { cookie?: boolean } = {},
): string | null {
  const header = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  if (header) return header;
  if (!opts.cookie) return null;
  for (const part of (headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'mirix_token' && value.length) return decodeURIComponent(value.join('='));
  }
  return null;
}

/**
 * Resolves a bearer credential (a JWT or an API key) to an active user.
 * Throws UNAUTHORIZED for anything else: garbage, expired, revoked, unknown, or an inactive user.
 */
async function authenticate(
  em: EntityManager,
  opts: { tokens: TokenService; credential: string; spend: (userId: string) => Promise<void> },
): Promise<User> {
  const { credential, spend } = opts;
  const viaKey = isApiKey(credential);
  const user = viaKey
    ? await authenticateApiKey(em, credential)
    : await authenticateJwt(em, { tokens: opts.tokens, token: credential, spend });
  if (!user?.isActive) throw new AppError(AppErrorCode.Unauthorized, INVALID_CREDENTIALS);
  // A token's budget was spent alongside the lookup; an API key's is spent once the key is known.
  if (viaKey) await spend(user.id);
  return user;
}

async function authenticateJwt(
  em: EntityManager,
  { tokens, token, spend }: { tokens: TokenService; token: string; spend: (userId: string) => Promise<void> },
): Promise<User | null> {
  const userId = await tokens.verify(token);
  if (!userId) return null;
  // A verified token names its user, so the request budget is spent while the user is read.
  const [rows] = await Promise.all([
    runNative<Record<string, unknown>>(em, 'select * from users where id = $1', [userId]),
    spend(userId),
  ]);
  return rows[0] ? em.map(User, rows[0]) : null;
}

async function authenticateApiKey(em: EntityManager, key: string): Promise<User | null> {
  const prefix = apiKeyPrefix(key);
  if (!prefix) return null;
  const apiKey = await em.findOne(ApiKey, { prefix }, { populate: ['owner'] });
  if (!apiKey || !apiKeyMatches(key, apiKey.hash)) return null;
  const now = new Date();
  if (apiKey.revokedAt || (apiKey.expiresAt && apiKey.expiresAt <= now)) return null;
  if (!apiKey.lastUsedAt || now.getTime() - apiKey.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // A direct update: authentication must not leave pending changes in the request's unit of work.
    await em.nativeUpdate(ApiKey, { id: apiKey.id }, { lastUsedAt: now });
    apiKey.lastUsedAt = now;
  }
  return apiKey.owner.getEntity();
}
