import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hashedEmbedding } from '../../server/modules/embeddings/hashed.js';
import { patchOf, ZResourceFields } from '../../server/modules/memory/memory.schema.js';
import { fuseSignals } from '../../server/modules/memory/search.service.js';
import { hasSearchableWords, parseSearchQuery } from '../../server/modules/memory/search.query.js';
import { VaultCipher } from '../../server/modules/memory/vault-cipher.js';

const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('hashedEmbedding', () => {
  it('is deterministic, unit length, and of the requested dimension', () => {
    const a = hashedEmbedding('The quick brown fox', 768);
    expect(a).toEqual(hashedEmbedding('The quick brown fox', 768));
    expect(a).toHaveLength(768);
    expect(Math.sqrt(cos(a, a))).toBeCloseTo(1, 10);
    expect(hashedEmbedding('x y', 64)).toHaveLength(64);
  });

  it('puts texts that share words and word pieces closer than unrelated ones', () => {
    const q = hashedEmbedding('deploying kubernetes clusters', 768);
    const related = hashedEmbedding('Kubernetes deployment pipeline', 768);
    const unrelated = hashedEmbedding('grandma baked an apple pie', 768);
    expect(cos(q, related)).toBeGreaterThan(0.3);
    expect(Math.abs(cos(q, unrelated))).toBeLessThan(0.1);
  });

  it('maps empty or symbol-only text to the zero vector instead of NaN', () => {
    expect(hashedEmbedding('!!! ???', 16).every((x) => x === 0)).toBe(true);
  });
});

describe('VaultCipher', () => {
  const keys = {
    activeKeyId: 'k2',
    keys: new Map([
      ['k1', Buffer.alloc(32, 1)],
      ['k2', Buffer.alloc(32, 2)],
    ]),
  };
  const cipher = new VaultCipher(keys);

  it('round-trips, with a fresh IV each time and the active key id', () => {
    const a = cipher.encrypt('top secret', 'item-1');
    const b = cipher.encrypt('top secret', 'item-1');
    expect(a.keyId).toBe('k2');
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(cipher.decrypt(a.ciphertext, a.keyId, 'item-1')).toBe('top secret');
  });

  it('still decrypts values sealed with an older key', () => {
    const old = new VaultCipher({ activeKeyId: 'k1', keys: keys.keys }).encrypt('legacy', 'item-9');
    expect(cipher.decrypt(old.ciphertext, 'k1', 'item-9')).toBe('legacy');
  });

  it('rejects a ciphertext bound to another item or tampered with', () => {
    const sealed = cipher.encrypt('top secret', 'item-1');
    expect(() => cipher.decrypt(sealed.ciphertext, sealed.keyId, 'item-2')).toThrow();
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => cipher.decrypt(raw.toString('base64'), sealed.keyId, 'item-1')).toThrow();
  });

  it('answers SERVICE_UNAVAILABLE when no keys are configured', () => {
    expect(() => new VaultCipher(undefined).encrypt('x', 'i')).toThrow(/VAULT_KEYS is unset/);
  });
});

describe('search helpers', () => {
  it('turns the last plain word into a prefix term, but not a finished question', () => {
    expect(parseSearchQuery('deploy kube')).toMatchObject({ words: 'deploy ', prefix: 'kube' });
    expect(parseSearchQuery('when did we deploy?').prefix).toBeNull();
    expect(parseSearchQuery('"exact phrase"').prefix).toBeNull();
    expect(parseSearchQuery('x').prefix).toBeNull();
  });

  it('keeps every word of a question for OR matching, and finds quoted phrases and identifiers', () => {
    const q = parseSearchQuery('Why did "error budget" burn after release v2.3.1 and ERR_CONN_42?');
    expect(q.exact).toEqual(['error budget', 'v2.3.1', 'ERR_CONN_42']);
    expect(q.words).toContain('Why did');
    expect(q.words).toContain('burn after release');
    expect(q.words).not.toContain('error budget');
  });

  it('reads -word as an exclusion, but not a hyphen inside a word', () => {
    expect(parseSearchQuery('pets -cats').exclude).toEqual(['cats']);
    expect(parseSearchQuery('self-care routine').exclude).toEqual([]);
  });

  it('tells a query of stop words or punctuation from one with something to look for', () => {
    expect(hasSearchableWords(parseSearchQuery('what is it that you were'))).toBe(false);
    expect(hasSearchableWords(parseSearchQuery(`'&|!():*<->\\`))).toBe(false);
    expect(hasSearchableWords(parseSearchQuery('what is kubernetes'))).toBe(true);
    expect(hasSearchableWords(parseSearchQuery('咖啡'))).toBe(true);
  });
});

describe('fuseSignals', () => {
  const row = (id: string, rank: number, score: number, exact = 0) => ({ id, rank, score, exact });
  const w = { vector: 0.5, fulltext: 1, trigram: 0.25 };

  it('sums each signal weight x score / that signal best, and ranks by it', () => {
    const hits = fuseSignals(
      {
        vector: [row('b', 1, 0.8), row('a', 2, 0.4)],
        fulltext: [row('a', 1, 6), row('c', 2, 3)],
      },
      w,
      10,
    );
    expect(hits.map((h) => h.id)).toEqual(['a', 'b', 'c']);
    expect(hits[0]!.score).toBeCloseTo(0.5 * 0.5 + 1);
    expect(hits[1]!.score).toBeCloseTo(0.5);
    expect(hits[0]!.signals).toEqual({
      vector: { rank: 2, score: 0.4 },
      fulltext: { rank: 1, score: 6 },
      trigram: null,
    });
  });

  it('puts memories holding exact phrases first, breaks ties by id, and stops at the limit', () => {
    const hits = fuseSignals({ fulltext: [row('z', 1, 9), row('y', 2, 1, 1), row('x', 3, 9)] }, w, 2);
    expect(hits.map((h) => h.id)).toEqual(['y', 'x']);
  });

  it('ignores scores that are not numbers (a vector with no direction) instead of spreading NaN', () => {
    const hits = fuseSignals({ vector: [row('n', 1, Number.NaN), row('a', 2, 0.3)] }, w, 10);
    expect(hits.map((h) => h.id)).toEqual(['a']);
    expect(Number.isFinite(hits[0]!.score)).toBe(true);
  });
});

describe('patchOf', () => {
  it('makes every field optional and drops defaults, so omitted fields stay unchanged', () => {
    const patch = patchOf(ZResourceFields);
    expect(patch.parse({ title: 'new title' })).toEqual({ title: 'new title' });
    expect(ZResourceFields.partial().parse({ title: 'new title' })).toHaveProperty('content', '');
    expect(() => patch.parse({ title: '' })).toThrow(z.ZodError);
  });
});
