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
export class TokenService {
  /** A KeyObject, imported once: jose would otherwise import raw bytes on every call. */
  private readonly key: KeyObject;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
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
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
      });
      return typeof payload.sub === 'string' ? payload.sub : null;
    } catch (err) {
      if (err instanceof errors.JOSEError) return null;
      throw err;
    }
  }
}
