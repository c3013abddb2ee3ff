import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, AppErrorCode } from '../../errors.js';

export interface RequestLimiterOptions {
  /** Calls per window for each authenticated user or API key. */
  perUser: number;
  /** Calls per window to the sign-in and sign-up procedures, per client address. */
  authPerAddress: number;
  /** Calls per window without valid credentials (public routes, rejected tokens), per client address. */
  anonymousPerAddress: number;
  windowSeconds: number;
  keyPrefix: string;
}

/**
 * Request budgets (rate-limiter-flexible on Redis, with an in-memory stand-in while Redis is
 * down): every authenticated call counts against its user, or against its API key when it came
 * with one; sign-in and sign-up count against the client's address, with a much smaller budget,
 * and so does anything else without valid credentials (public routes, 401s).
 * Over budget: TOO_MANY_REQUESTS with the seconds to wait (sent as Retry-After).
 */
export class RequestLimiter {
  private readonly perUser: RateLimiterRedis;
  private readonly authPerAddress: RateLimiterRedis;
  private readonly anonymousPerAddress: RateLimiterRedis;

  constructor(redis: Redis, opts: RequestLimiterOptions) {
    const make = (name: string, points: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${opts.keyPrefix}:rate:${name}`,
        points,
        duration: opts.windowSeconds,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points, duration: opts.windowSeconds }),
      });
    this.perUser = make('user', opts.perUser);
    this.authPerAddress = make('auth', opts.authPerAddress);
    this.anonymousPerAddress = make('anon', opts.anonymousPerAddress);
  }

  /** One call by an authenticated caller: an API key has a budget of its own, a token its user's. */
  consumeCaller(userId: string, apiKey: string | null): Promise<void> {
    const key = apiKey
      ? `key:${createHash('sha256').update(apiKey).digest('hex').slice(0, 32)}`
      : `user:${userId}`;
    return consume(this.perUser, key);
  }

  /** One sign-in or sign-up attempt from this address. */
  consumeAuth(address: string): Promise<void> {
    return consume(this.authPerAddress, address);
  }

  /** One call from this address without valid credentials: a public route, or a rejected token. */
  consumeAnonymous(address: string): Promise<void> {
    return consume(this.anonymousPerAddress, address);
  }
}

async function consume(limiter: RateLimiterRedis, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    throw new AppError(AppErrorCode.TooManyRequests, `Rate limit reached; try again in ${seconds} s`, {
      retryAfterSeconds: seconds,
    });
  }
}
