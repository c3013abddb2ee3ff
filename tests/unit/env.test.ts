import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from '../../server/env.js';

const VAULT_KEYS = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
const minimal = { DATABASE_URL: 'postgresql://u:p@localhost:5432/db', REDIS_URL: 'redis://localhost:6379/0' };

describe('parseEnv', () => {
  it('applies defaults', () => {
    const { env } = parseEnv(minimal);
    expect(env).toMatchObject({ NODE_ENV: 'development', PORT: 8000, LOG_LEVEL: 'info', DB_POOL_MAX: 10 });
  });

  it('lists every problem at once', () => {
    try {
      parseEnv({ PORT: '99999', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      const fields = (err as EnvError).problems.map((p) => p.split(':')[0]);
      expect(fields.sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT', 'REDIS_URL']);
    }
  });

  it('treats empty values as unset', () => {
    const { env } = parseEnv({ ...minimal, PORT: '', OPENAI_API_KEY: '' });
    expect(env.PORT).toBe(8000);
    expect(env.OPENAI_API_KEY).toBeUndefined();
  });

  it('generates an ephemeral JWT secret in development, with a warning', () => {
    const a = parseEnv(minimal);
    const b = parseEnv(minimal);
    expect(a.env.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(a.env.JWT_SECRET).not.toBe(b.env.JWT_SECRET);
    expect(a.warnings.join()).toMatch(/JWT_SECRET is not set/);
    expect(a.warnings.join()).not.toContain(a.env.JWT_SECRET);
  });

  it('requires a JWT secret in production and rejects short ones', () => {
    expect(() => parseEnv({ ...minimal, NODE_ENV: 'production' })).toThrow(
      /JWT_SECRET: required in production/,
    );
    expect(() => parseEnv({ ...minimal, JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET: must be at least 32 characters/,
    );
    const { env, warnings } = parseEnv({
      ...minimal,
      NODE_ENV: 'production',
      JWT_SECRET: 's'.repeat(32),
      VAULT_KEYS,
    });
    expect(env.JWT_SECRET).toBe('s'.repeat(32));
    expect(warnings).toEqual([]);
  });

  it('requires vault keys in production and parses key rings', () => {
    expect(() => parseEnv({ ...minimal, NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) })).toThrow(
      /VAULT_KEYS: required in production/,
    );
    expect(() => parseEnv({ ...minimal, VAULT_KEYS: 'k1:dG9vLXNob3J0' })).toThrow(/exactly 32 bytes/);
    const other = Buffer.alloc(32, 2).toString('base64');
    const { env } = parseEnv({ ...minimal, VAULT_KEYS: `${VAULT_KEYS}, old:${other}` });
    expect(env.VAULT_KEYS?.activeKeyId).toBe('k1');
    expect([...(env.VAULT_KEYS?.keys.keys() ?? [])]).toEqual(['k1', 'old']);
  });

  it('picks the embedding model from the provider unless one is given', () => {
    expect(parseEnv(minimal).env.EMBEDDING_MODEL).toBe('mirix-hashed-v1');
    expect(parseEnv({ ...minimal, EMBEDDING_PROVIDER: 'openai' }).env.EMBEDDING_MODEL).toBe(
      'text-embedding-3-small',
    );
    expect(
      parseEnv({ ...minimal, EMBEDDING_PROVIDER: 'openai', EMBEDDING_MODEL: 'nomic-embed-text' }).env
        .EMBEDDING_MODEL,
    ).toBe('nomic-embed-text');
  });

  it('parses TRUST_PROXY into what Express expects', () => {
    expect(parseEnv({ ...minimal, TRUST_PROXY: 'true' }).env.TRUST_PROXY).toBe(true);
    expect(parseEnv({ ...minimal, TRUST_PROXY: '2' }).env.TRUST_PROXY).toBe(2);
    expect(parseEnv({ ...minimal, TRUST_PROXY: 'uniquelocal' }).env.TRUST_PROXY).toBe('uniquelocal');
  });
});
