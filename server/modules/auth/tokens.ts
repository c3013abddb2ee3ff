import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

const ISSUER = 'mirix-ts';
const AUDIENCE = 'mirix-ts';

export interface IssuedToken {
  accessToken: string;
  tokenType: 'bearer';
  /** Seconds until the token expires. */
  expiresIn: number;
}

/** Signs and verifies access tokens (JWT, HS256). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class TokenService {
  /** A KeyObject, imported once: jose would otherwise import raw bytes on every call. */
  private readonly key: KeyObject;

  /**
   * Tokens already verified, with their subject and expiry (ms), oldest first. A caller sends the
   * same token with every request, and checking its signature again costs more than the rest of
   * authenticating it; a cached token is still refused once it expires.
   */
  private readonly verified = new Map<string, { sub: string; expiresAt: number }>();

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly cacheSize = 10_000,
  ) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /** How many verified tokens are remembered (bounded by `cacheSize`). */
  get cachedTokens(): number {
    return this.verified.size;
  }

  async issue(userId: string): Promise<IssuedToken> {
    const accessToken = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
    return { accessToken, tokenType: 'bearer', expiresIn: this.ttlSeconds };
  }

  /** The user id a valid token was issued to, or null for any invalid, expired or foreign token. */
  async verify(token: string): Promise<string | null> {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() < known.expiresAt) return known.sub;
      this.verified.delete(token);
      return null;
    }
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        // Every token this server issues expires: one without `exp` would be valid forever.
        requiredClaims: ['exp', 'sub'],
      });
      // The subject is a user id: anything else is not ours (and must not reach a uuid query).
      if (typeof payload.sub !== 'string' || !UUID.test(payload.sub) || typeof payload.exp !== 'number')
        return null;
      if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { sub: payload.sub, expiresAt: payload.exp * 1000 });
      return payload.sub;
    } catch (err) {
      if (err instanceof errors.JOSEError) return null;
      throw err;
    }
  }
}
