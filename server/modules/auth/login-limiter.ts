import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, AppErrorCode } from '../../errors.js';

export interface LoginLimiterOptions {
  /** Failed logins allowed for one account from one address within the window. */
  maxFailuresPerAccount: number;
  /** Failed logins allowed per client address within the window (across accounts). */
  maxFailuresPerAddress: number;
  /**
   * Failed logins allowed for one account from all addresses together (a distributed guess)
   * before addresses that never signed in to it are refused; those that did still get in.
   */
  maxFailuresPerAccountAllAddresses: number;
  windowSeconds: number;
  /** Failures of one account from one address before each further one makes it wait (1 s, 2 s, 4 s, ...). */
  freeFailures?: number;
  /** How long an address that signed in to an account stays trusted for it. */
  trustSeconds?: number;
  /** Redis key namespace (tests give each server its own). */
  keyPrefix?: string;
}

/**
 * Throttles password guessing without handing anyone a way to lock an owner out (OWASP's
 * authentication guidance): failures count per account *and address*, so a stranger's guesses
 * slow down and then stop the stranger, not the owner at another address; each failure past the
 * first few doubles the wait before the next try; an address guessing across accounts is stopped;
 * and a guess spread over many addresses stops new addresses for that account while those that
 * signed in to it before keep working. Counters live in Redis so every API replica shares them;
 * if Redis is unreachable an in-process limiter takes over rather than letting logins fail.
 */
export class LoginLimiter {
  private readonly byPair: RateLimiterRedis;
  private readonly byAddress: RateLimiterRedis;
  private readonly byAccount: RateLimiterRedis;
  private readonly prefix: string;
  private readonly windowMs: number;
  private readonly freeFailures: number;
  private readonly trustSeconds: number;

  constructor(
    private readonly redis: Redis,
    opts: LoginLimiterOptions,
  ) {
    this.prefix = opts.keyPrefix ?? 'mirix';
    this.windowMs = opts.windowSeconds * 1000;
    this.freeFailures = opts.freeFailures ?? 3;
    this.trustSeconds = opts.trustSeconds ?? 30 * 24 * 3600;
    const make = (name: string, points: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${this.prefix}:login-failures:${name}`,
        points,
        duration: opts.windowSeconds,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points, duration: opts.windowSeconds }),
      });
    this.byPair = make('account-address', opts.maxFailuresPerAccount);
    this.byAddress = make('address', opts.maxFailuresPerAddress);
    this.byAccount = make('account', opts.maxFailuresPerAccountAllAddresses);
  }

  private pair(account: string, address: string): string {
    return `${account.toLowerCase()}|${address}`;
  }

  /** Throws TOO_MANY_REQUESTS while this address must wait before trying this account again. */
  async assertAllowed(account: string, address: string): Promise<void> {
    const pair = this.pair(account, address);
    let retryAfterMs = 0;
    const over = async (limiter: RateLimiterRedis, key: string) => {
      const res = await limiter.get(key);
      if (res && res.consumedPoints >= limiter.points)
        retryAfterMs = Math.max(retryAfterMs, res.msBeforeNext);
    };
    await over(this.byPair, pair);
    await over(this.byAddress, address);
    retryAfterMs = Math.max(
      retryAfterMs,
      await this.optional(() => this.redis.pttl(this.backoffKey(pair)), 0),
    );
    if (!retryAfterMs && !(await this.trusted(pair))) await over(this.byAccount, account.toLowerCase());
    if (retryAfterMs > 0) {
      const seconds = Math.ceil(retryAfterMs / 1000);
      throw new AppError(AppErrorCode.TooManyRequests, `Too many failed logins; try again in ${seconds} s`, {
        retryAfterSeconds: seconds,
      });
    }
  }

  async recordFailure(account: string, address: string): Promise<void> {
    const pair = this.pair(account, address);
    const [failures] = await Promise.all([
      consumed(this.byPair.consume(pair)),
      consumed(this.byAddress.consume(address)),
      consumed(this.byAccount.consume(account.toLowerCase())),
    ]);
    if (failures > this.freeFailures) {
      const waitMs = Math.min(this.windowMs, 1000 * 2 ** (failures - this.freeFailures - 1));
      await this.optional(() => this.redis.set(this.backoffKey(pair), '1', 'PX', waitMs), null);
    }
  }

  /** A successful login clears this address's failures for the account, and trusts the address. */
  async recordSuccess(account: string, address: string): Promise<void> {
    const pair = this.pair(account, address);
    await this.byPair.delete(pair);
    await this.optional(
      () =>
        this.redis
          .multi()
          .del(this.backoffKey(pair))
          .set(this.trustKey(pair), '1', 'EX', this.trustSeconds)
          .exec(),
      null,
    );
  }

  private async trusted(pair: string): Promise<boolean> {
    return (await this.optional(() => this.redis.exists(this.trustKey(pair)), 0)) === 1;
  }

  private backoffKey(pair: string) {
    return `${this.prefix}:login-backoff:${pair}`;
  }

  private trustKey(pair: string) {
    return `${this.prefix}:login-trusted:${pair}`;
  }

  /** Backoff and trust are refinements: with Redis unreachable, the counters above still hold. */
  private async optional<T>(run: () => Promise<T>, fallback: T): Promise<T> {
    if (this.redis.status !== 'ready') return fallback;
    try {
      return await run();
    } catch {
      return fallback;
    }
  }
}

/** The points consumed so far; consume() rejects with a RateLimiterRes once the budget is spent. */
async function consumed(p: Promise<RateLimiterRes>): Promise<number> {
  try {
    return (await p).consumedPoints;
  } catch (err) {
    if (err instanceof RateLimiterRes) return err.consumedPoints;
    throw err;
  }
}
