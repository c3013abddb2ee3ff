import { type EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { runNative } from '../../db/native.js';
import { AppError, AppErrorCode } from '../../errors.js';
import { User } from '../users/user.entity.js';
import { ApiKey } from './api-key.entity.js';
import { apiKeyMatches, apiKeyPrefix, isApiKey } from './api-keys.js';
import type { TLoginRequest, TRegisterRequest, TUserResponse } from './auth.schema.js';
import type { LoginLimiter } from './login-limiter.js';
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

/**
 * Resolves a bearer credential (a JWT or an API key) to an active user.
 * Throws UNAUTHORIZED for anything else: garbage, expired, revoked, unknown, or an inactive user.
 */
export async function authenticate(
  em: EntityManager,
  tokens: TokenService,
  credential: string,
  spend?: (userId: string) => Promise<void>,
): Promise<User> {
  const viaKey = isApiKey(credential);
  const user = viaKey
    ? await authenticateApiKey(em, credential)
    : await authenticateJwt(em, tokens, credential, spend);
  if (!user?.isActive) throw new AppError(AppErrorCode.Unauthorized, INVALID_CREDENTIALS);
  // A token's budget was spent alongside the lookup; an API key's is spent once the key is known.
  if (viaKey) await spend?.(user.id);
  return user;
}

async function authenticateJwt(
  em: EntityManager,
  tokens: TokenService,
  token: string,
  spend?: (userId: string) => Promise<void>,
): Promise<User | null> {
  const userId = await tokens.verify(token);
  if (!userId) return null;
  // A verified token names its user, so the request budget is spent while the user is read.
  const [rows] = await Promise.all([
    runNative<Record<string, unknown>>(em, 'select * from users where id = $1', [userId]),
    spend?.(userId),
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
