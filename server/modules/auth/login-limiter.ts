import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, AppErrorCode } from '../../errors.js';

export interface LoginLimiterOptions {
  /** Failed logins allowed per account within the window. */
  maxFailuresPerAccount: number;
  /** Failed logins allowed per client address within the window (across accounts). */
  maxFailuresPerAddress: number;
  windowSeconds: number;
  /** Redis key namespace (tests give each server its own). */
  keyPrefix?: string;
}

/**
 * Throttles password guessing. Counters live in Redis so every API replica shares them; if Redis is
 * unreachable an in-process limiter takes over rather than letting logins fail.
 */
export class LoginLimiter {
  private readonly byAccount: RateLimiterRedis;
  private readonly byAddress: RateLimiterRedis;

  constructor(redis: Redis, opts: LoginLimiterOptions) {
    const prefix = opts.keyPrefix ?? 'mirix';
    const make = (name: string, points: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}:login-failures:${name}`,
        points,
        duration: opts.windowSeconds,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points, duration: opts.windowSeconds }),
      });
    this.byAccount = make('account', opts.maxFailuresPerAccount);
    this.byAddress = make('address', opts.maxFailuresPerAddress);
  }

  /** Throws TOO_MANY_REQUESTS while the account or the address is over its budget. */
  async assertAllowed(account: string, address: string): Promise<void> {
    const checks = [
      [this.byAccount, account],
      [this.byAddress, address],
    ] as const;
    let retryAfterMs = 0;
    for (const [limiter, key] of checks) {
      const res = await limiter.get(key);
      if (res && res.consumedPoints >= limiter.points)
        retryAfterMs = Math.max(retryAfterMs, res.msBeforeNext);
    }
    if (retryAfterMs > 0) {
      const seconds = Math.ceil(retryAfterMs / 1000);
      throw new AppError(AppErrorCode.TooManyRequests, `Too many failed logins; try again in ${seconds} s`, {
        retryAfterSeconds: seconds,
      });
    }
  }

  async recordFailure(account: string, address: string): Promise<void> {
    await Promise.all([
      swallowLimit(this.byAccount.consume(account)),
      swallowLimit(this.byAddress.consume(address)),
    ]);
  }

  /** A successful login clears the account's failures (the address budget keeps counting). */
  async reset(account: string): Promise<void> {
    await this.byAccount.delete(account);
  }
}

/** consume() rejects with a RateLimiterRes once the budget is spent; assertAllowed reports that. */
async function swallowLimit(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
  }
}
