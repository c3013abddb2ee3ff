import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { LoginLimiter } from '../../server/modules/auth/login-limiter.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../server/modules/users/user.entity.js';
import { ApiKey } from '../../server/modules/auth/api-key.entity.js';
import { expectTRPCError, signUp, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('register, login and me', () => {
  it('registers a user, logs in with username or email, and returns the user from me', async () => {
    const anonymous = server.client();
    const registered = await anonymous.auth.register.mutate({
      username: 'Grace',
      email: 'Grace@Example.com',
      password: 'correct horse battery',
      fullName: 'Grace Hopper',
    });
    expect(registered).toMatchObject({
      username: 'grace',
      email: 'grace@example.com',
      fullName: 'Grace Hopper',
      isActive: true,
      isSuperuser: false,
    });
    expect(registered.createdAt).toBeInstanceOf(Date);
    expect(registered).not.toHaveProperty('passwordHash');

    const byName = await anonymous.auth.login.mutate({
      username: 'grace',
      password: 'correct horse battery',
    });
    expect(byName.tokenType).toBe('bearer');
    expect(byName.expiresIn).toBe(server.env.ACCESS_TOKEN_TTL_SECONDS);
    const byEmail = await anonymous.auth.login.mutate({
      username: 'GRACE@example.com',
      password: 'correct horse battery',
    });

    for (const token of [byName.accessToken, byEmail.accessToken]) {
      const me = await server.client({ token }).auth.me.query();
      expect(me.id).toBe(registered.id);
      expect(me.username).toBe('grace');
    }
  });

  it('stores the password as an argon2id hash, never in clear', async () => {
    const { user, password } = await signUp(server, 'hash');
    const row = await server.orm.em.fork().findOneOrFail(User, { id: user.id });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row.passwordHash).not.toContain(password);
  });

  it('rejects a login with a wrong password as UNAUTHORIZED', async () => {
    const { username } = await signUp(server, 'wrongpw');
    await expectTRPCError(
      server.client().auth.login.mutate({ username, password: 'not-the-password' }),
      'UNAUTHORIZED',
      401,
    );
  });

  it('rejects a login for an unknown user with the same error as a wrong password', async () => {
    const err = await expectTRPCError(
      server.client().auth.login.mutate({ username: 'nobody-here', password: 'whatever123' }),
      'UNAUTHORIZED',
    );
    expect(err.message).toBe('Incorrect username or password');
  });

  it('gives CONFLICT for a duplicate username or email, and writes nothing', async () => {
    const { username } = await signUp(server, 'dup');
    const anonymous = server.client();
    await expectTRPCError(
      anonymous.auth.register.mutate({ username, email: 'other@example.com', password: 'password123' }),
      'CONFLICT',
      409,
    );
    await expectTRPCError(
      anonymous.auth.register.mutate({
        username: 'another',
        email: `${username}@example.com`,
        password: 'password123',
      }),
      'CONFLICT',
      409,
    );
    expect(
      await server.orm.em
        .fork()
        .count(User, { $or: [{ username: 'another' }, { email: 'other@example.com' }] }),
    ).toBe(0);
  });

  it('resolves concurrent registrations of one username to one user and CONFLICTs', async () => {
    const anonymous = server.client();
    const attempts = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        anonymous.auth.register.mutate({
          username: 'racer',
          email: `racer${i}@example.com`,
          password: 'password123',
        }),
      ),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    for (const a of attempts.filter((a) => a.status === 'rejected')) {
      expect((a.reason as { data?: { code?: string } }).data?.code).toBe('CONFLICT');
    }
  });

  it('rejects a password shorter than 8 characters with a field-level message', async () => {
    const err = await expectTRPCError(
      server
        .client()
        .auth.register.mutate({ username: 'shorty', email: 'shorty@example.com', password: 'short' }),
      'BAD_REQUEST',
      400,
    );
    expect(err.data.fieldErrors).toEqual({ password: ['must be at least 8 characters'] });
  });

  it('does not let an inactive user log in or use an existing token', async () => {
    const { user, username, password, client } = await signUp(server, 'inactive');
    await server.orm.em.fork().nativeUpdate(User, { id: user.id }, { isActive: false });
    await expectTRPCError(client.auth.me.query(), 'UNAUTHORIZED', 401);
    const err = await expectTRPCError(
      server.client().auth.login.mutate({ username, password }),
      'UNAUTHORIZED',
      401,
    );
    expect(err.message).toBe('This account is disabled');
  });

  /** A login from a client address (the test server trusts X-Forwarded-For from loopback). */
  async function loginFrom(address: string, username: string, password: string) {
    const res = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ json: { username, password } }),
    });
    await res.text();
    return { status: res.status, retryAfter: Number(res.headers.get('retry-after') ?? 0) };
  }

  /** A wrong password from `address`, waiting out the backoff first when told to. */
  async function failFrom(address: string, username: string) {
    for (;;) {
      const res = await loginFrom(address, username, 'wrong-password');
      if (res.status === 401) return;
      expect(res.status).toBe(429);
      expect(res.retryAfter).toBeGreaterThan(0);
      expect(res.retryAfter).toBeLessThanOrEqual(2);
      await new Promise((r) => setTimeout(r, res.retryAfter * 1000));
    }
  }

  it('slows repeated failed logins down, then stops them, even with the right password, from that address', async () => {
    const { username, password } = await signUp(server, 'brute');
    const max = server.env.LOGIN_MAX_FAILURES;
    // The first failures answer at once; then each makes the next try wait (1 s, 2 s, ...).
    for (let i = 0; i < 3; i++)
      expect((await loginFrom('10.0.0.1', username, `guess-${i}`)).status).toBe(401);
    expect((await loginFrom('10.0.0.1', username, 'guess-3')).status).toBe(401);
    const slowed = await loginFrom('10.0.0.1', username, password);
    expect(slowed.status).toBe(429);
    expect(slowed.retryAfter).toBe(1);
    for (let i = 4; i < max; i++) await failFrom('10.0.0.1', username);
    await new Promise((r) => setTimeout(r, 2100));
    const err = await loginFrom('10.0.0.1', username, password);
    expect(err.status).toBe(429);
    expect(err.retryAfter).toBeGreaterThan(60);
  });

  it('never lets a stranger lock the owner out: the owner signs in from another address', async () => {
    const { username, password } = await signUp(server, 'victim');
    for (let i = 0; i < server.env.LOGIN_MAX_FAILURES; i++) await failFrom('10.6.6.6', username);
    expect((await loginFrom('10.6.6.6', username, password)).status).toBe(429);
    expect((await loginFrom('10.1.2.3', username, password)).status).toBe(200);
  });

  it('stops a guess spread over many addresses for new addresses, but not for one that signed in before', async () => {
    const limiter = new LoginLimiter(server.redis, {
      maxFailuresPerAccount: 10,
      maxFailuresPerAddress: 100,
      maxFailuresPerAccountAllAddresses: 3,
      windowSeconds: 60,
      keyPrefix: `test-${randomUUID()}`,
    });
    await limiter.recordSuccess('owner', '10.0.0.1');
    for (const address of ['10.9.0.1', '10.9.0.2', '10.9.0.3']) {
      await limiter.assertAllowed('owner', address);
      await limiter.recordFailure('owner', address);
    }
    await expect(limiter.assertAllowed('owner', '10.9.0.4')).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
    });
    await expect(limiter.assertAllowed('owner', '10.0.0.1')).resolves.toBeUndefined();
  });

  it('clears an address’s failures for an account after a successful login', async () => {
    const { username, password } = await signUp(server, 'reset');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < server.env.LOGIN_MAX_FAILURES - 1; i++) await failFrom('10.0.0.9', username);
      for (;;) {
        const res = await loginFrom('10.0.0.9', username, password);
        if (res.status === 200) break;
        expect(res.status).toBe(429);
        await new Promise((r) => setTimeout(r, res.retryAfter * 1000));
      }
    }
  });
});

describe('bad credentials', () => {
  it('answers UNAUTHORIZED without credentials', async () => {
    await expectTRPCError(server.client().auth.me.query(), 'UNAUTHORIZED', 401);
  });

  it('answers UNAUTHORIZED for a garbage bearer token', async () => {
    for (const token of ['garbage', 'a.b.c', 'mrx_short', 'mrx_AAAAAAAAAAAA_' + 'x'.repeat(43)]) {
      await expectTRPCError(server.client({ token }).auth.me.query(), 'UNAUTHORIZED', 401);
    }
  });

  it('answers UNAUTHORIZED for an expired token', async () => {
    const { user } = await signUp(server, 'expired');
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('mirix-ts')
      .setAudience('mirix-ts')
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(new TextEncoder().encode(server.env.JWT_SECRET));
    await expectTRPCError(server.client({ token: expired }).auth.me.query(), 'UNAUTHORIZED', 401);
  });

  it('answers UNAUTHORIZED, never 500, for a well-signed token without exp or with a subject that is not a user id', async () => {
    const { user } = await signUp(server, 'claims');
    const sign = (build: (jwt: SignJWT) => SignJWT) =>
      build(
        new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('mirix-ts').setAudience('mirix-ts'),
      )
        .setIssuedAt()
        .sign(new TextEncoder().encode(server.env.JWT_SECRET));
    // Without exp it would be valid forever.
    const forever = await sign((j) => j.setSubject(user.id));
    await expectTRPCError(server.client({ token: forever }).auth.me.query(), 'UNAUTHORIZED', 401);
    for (const sub of ['admin', "1' or '1'='1", '']) {
      const odd = await sign((j) => j.setSubject(sub).setExpirationTime('1h'));
      await expectTRPCError(server.client({ token: odd }).auth.me.query(), 'UNAUTHORIZED', 401);
    }
    const good = await sign((j) => j.setSubject(user.id).setExpirationTime('1h'));
    expect((await server.client({ token: good }).auth.me.query()).id).toBe(user.id);
  });

  it('answers UNAUTHORIZED for a token signed with another secret', async () => {
    const { user } = await signUp(server, 'forged');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('mirix-ts')
      .setAudience('mirix-ts')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-completely-different-secret-of-32+chars'));
    await expectTRPCError(server.client({ token: forged }).auth.me.query(), 'UNAUTHORIZED', 401);
  });
});

describe('API keys', () => {
  it('shows a new key once, stores only its hash, and accepts it as a bearer credential', async () => {
    const { user, client } = await signUp(server, 'keys');
    const created = await client.apiKeys.create.mutate({ name: 'ci server' });
    expect(created.key).toMatch(/^mrx_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);

    const row = await server.orm.em.fork().findOneOrFail(ApiKey, { id: created.id });
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.key);

    const listed = await client.apiKeys.list.query();
    expect(listed.map((k) => k.id)).toEqual([created.id]);
    expect(listed[0]).not.toHaveProperty('key');
    expect(listed[0]).not.toHaveProperty('hash');

    const viaKey = server.client({ apiKey: created.key });
    expect((await viaKey.auth.me.query()).id).toBe(user.id);
    const afterUse = await client.apiKeys.list.query();
    expect(afterUse[0]?.lastUsedAt).toBeInstanceOf(Date);
  });

  it('rejects a revoked key with UNAUTHORIZED', async () => {
    const { client } = await signUp(server, 'revoke');
    const created = await client.apiKeys.create.mutate({ name: 'short-lived' });
    const viaKey = server.client({ apiKey: created.key });
    await viaKey.auth.me.query();
    const revoked = await client.apiKeys.revoke.mutate({ id: created.id });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    await expectTRPCError(viaKey.auth.me.query(), 'UNAUTHORIZED', 401);
  });

  it('rejects an expired key with UNAUTHORIZED', async () => {
    const { client } = await signUp(server, 'keyexp');
    const created = await client.apiKeys.create.mutate({ name: 'expiring', expiresInDays: 1 });
    await server.orm.em
      .fork()
      .nativeUpdate(ApiKey, { id: created.id }, { expiresAt: new Date(Date.now() - 1000) });
    await expectTRPCError(server.client({ apiKey: created.key }).auth.me.query(), 'UNAUTHORIZED', 401);
  });

  it('rejects a key whose secret part is wrong even when its prefix is real', async () => {
    const { client } = await signUp(server, 'keyforge');
    const created = await client.apiKeys.create.mutate({ name: 'real' });
    const forged = `${created.prefix}_${'A'.repeat(43)}`;
    await expectTRPCError(server.client({ apiKey: forged }).auth.me.query(), 'UNAUTHORIZED', 401);
  });

  it("treats another user's key as NOT_FOUND when revoking and never lists it", async () => {
    const alice = await signUp(server, 'alicek');
    const bob = await signUp(server, 'bobk');
    const key = await alice.client.apiKeys.create.mutate({ name: 'alice key' });
    await expectTRPCError(bob.client.apiKeys.revoke.mutate({ id: key.id }), 'NOT_FOUND', 404);
    expect(await bob.client.apiKeys.list.query()).toEqual([]);
    expect((await server.client({ apiKey: key.key }).auth.me.query()).id).toBe(alice.user.id);
  });
});

describe('logging', () => {
  it('never writes passwords, tokens or API keys to the log', async () => {
    const { password, token, client } = await signUp(server, 'logged');
    const created = await client.apiKeys.create.mutate({ name: 'log check' });
    await server.client({ apiKey: created.key }).auth.me.query();
    await expectTRPCError(server.client({ token: `${token}x` }).auth.me.query(), 'UNAUTHORIZED');
    const all = server.logs.join('\n');
    expect(all).toContain('/trpc/auth.me');
    for (const secret of [password, token, created.key]) expect(all).not.toContain(secret);
  });
});
