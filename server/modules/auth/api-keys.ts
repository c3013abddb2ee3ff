import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every API key starts with this, so a bearer credential can be told from a JWT at a glance. */
export const API_KEY_MARKER = 'mrx_';
const PREFIX_ID_LENGTH = 12;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomId(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // Rejection sampling keeps the characters uniform (248 = 4 * 62).
  for (const b of bytes) {
    if (b < 248) out += ALPHABET[b % 62];
    if (out.length === length) return out;
  }
  return out + randomId(length - out.length);
}

export interface GeneratedApiKey {
  /** The whole secret key, shown to its owner once. */
  key: string;
  /** The non-secret look-up part, e.g. `mrx_AbC123xYz789`. */
  prefix: string;
  hash: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = `${API_KEY_MARKER}${randomId(PREFIX_ID_LENGTH)}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function isApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_MARKER);
}

/** The prefix of a well-formed key, or null. */
export function apiKeyPrefix(key: string): string | null {
  const match = /^(mrx_[A-Za-z0-9]{12})_[A-Za-z0-9_-]{43}$/.exec(key);
  return match?.[1] ?? null;
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
