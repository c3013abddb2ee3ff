import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { apiKeyMatches, apiKeyPrefix, generateApiKey, isApiKey } from '../../server/modules/auth/api-keys.js';
import { TokenService } from '../../server/modules/auth/tokens.js';

describe('API keys', () => {
  it('generates distinct, well-formed keys whose prefix and hash identify them', () => {
    const keys = Array.from({ length: 200 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
    expect(new Set(keys.map((k) => k.prefix)).size).toBe(200);
    for (const k of keys) {
      expect(isApiKey(k.key)).toBe(true);
      expect(apiKeyPrefix(k.key)).toBe(k.prefix);
      expect(apiKeyMatches(k.key, k.hash)).toBe(true);
      expect(k.hash).not.toContain(k.key);
    }
  });

  it('rejects a key that differs in one character', () => {
    const k = generateApiKey();
    const last = k.key.at(-1) === 'A' ? 'B' : 'A';
    expect(apiKeyMatches(k.key.slice(0, -1) + last, k.hash)).toBe(false);
  });

  it('finds no prefix in malformed keys', () => {
    for (const bad of ['mrx_', 'mrx_abc_def', 'eyJhbGciOi.x.y', `mrx_${'a'.repeat(12)}_${'b'.repeat(42)}`]) {
      expect(apiKeyPrefix(bad)).toBeNull();
    }
  });
});

describe('TokenService', () => {
  const tokens = new TokenService('t'.repeat(40), 3600);
  const U1 = '0190f7a2-0000-7000-8000-000000000001';

  it('verifies its own tokens and returns the subject', async () => {
    const issued = await tokens.issue('0190f7a2-0000-7000-8000-000000000001');
    expect(issued).toMatchObject({ tokenType: 'bearer', expiresIn: 3600 });
    expect(await tokens.verify(issued.accessToken)).toBe('0190f7a2-0000-7000-8000-000000000001');
  });

  it('rejects tokens from another secret, another issuer, alg "none", and garbage', async () => {
    const other = await new TokenService('o'.repeat(40), 3600).issue(U1);
    expect(await tokens.verify(other.accessToken)).toBeNull();

    const wrongIssuer = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(U1)
      .setIssuer('someone-else')
      .setAudience('mirix-ts')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('t'.repeat(40)));
    expect(await tokens.verify(wrongIssuer)).toBeNull();

    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'u1', iss: 'mirix-ts', aud: 'mirix-ts' })).toString(
      'base64url',
    );
    expect(await tokens.verify(`${header}.${payload}.`)).toBeNull();

    expect(await tokens.verify('not a token')).toBeNull();
  });

  it('refuses a token once it expires, even after verifying it before', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-27T12:00:00Z'), toFake: ['Date'] });
    try {
      const shortLived = new TokenService('s'.repeat(40), 60);
      const { accessToken } = await shortLived.issue(U1);
      expect(await shortLived.verify(accessToken)).toBe(U1);
      expect(shortLived.cachedTokens).toBe(1);
      vi.setSystemTime(new Date('2026-11-27T12:00:59Z'));
      expect(await shortLived.verify(accessToken)).toBe(U1);
      vi.setSystemTime(new Date('2026-11-27T12:01:01Z'));
      expect(await shortLived.verify(accessToken)).toBeNull();
      expect(shortLived.cachedTokens).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('remembers a bounded number of verified tokens', async () => {
    const small = new TokenService('b'.repeat(40), 3600, 3);
    const users = [1, 2, 3, 4, 5].map((n) => `0190f7a2-0000-7000-8000-00000000000${n}`);
    const issued = await Promise.all(users.map((u) => small.issue(u)));
    for (const t of issued) await small.verify(t.accessToken);
    expect(small.cachedTokens).toBe(3);
    // Evicted tokens are verified again, not refused.
    expect(await small.verify(issued[0]!.accessToken)).toBe(users[0]);
  });
});
