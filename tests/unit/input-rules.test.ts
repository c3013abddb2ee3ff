import { describe, expect, it } from 'vitest';
import { INPUT_MAX_DEPTH, inputProblem, ZInputDate } from '../../server/input-rules.js';
import { decodeCursor, encodeCursor } from '../../server/pagination.js';

const nested = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

describe('inputProblem', () => {
  it('accepts ordinary input, including emoji and other astral characters', () => {
    expect(
      inputProblem({ name: 'Tea 🍵', tags: ['中文', 'ok'], n: 1, when: new Date('2024-05-01') }),
    ).toBeNull();
    expect(inputProblem(nested(INPUT_MAX_DEPTH - 1))).toBeNull();
  });

  it('names input nested too deeply, at any depth, without overflowing the stack', () => {
    expect(inputProblem(nested(INPUT_MAX_DEPTH + 1))).toMatch(/nested deeper than 32 levels/);
    expect(inputProblem(nested(100_000))).toMatch(/nested deeper/);
  });

  it('rejects NUL characters and lone surrogates in values and in field names, saying where', () => {
    expect(inputProblem({ username: 'a\u0000b' })).toBe(
      'input.username must not contain NUL characters (\\u0000)',
    );
    expect(inputProblem({ items: [{ summary: 'x\ud800' }] })).toBe(
      'input.items[0].summary must be valid Unicode (it holds a lone surrogate)',
    );
    expect(inputProblem({ ['k\u0000']: 1 })).toMatch(/field name/);
  });

  it('rejects dates that are invalid or outside years 1 to 9999', () => {
    expect(inputProblem({ from: new Date(Number.NaN) })).toMatch(/not a valid date/);
    expect(inputProblem({ from: new Date('-271821-04-20') })).toMatch(/between 0001-01-01 and 9999-12-31/);
    expect(inputProblem({ to: new Date('+275760-09-13T00:00:00.000Z') })).toMatch(/between/);
  });
});

describe('ZInputDate', () => {
  it('takes ISO text and Dates in range, and refuses the rest', () => {
    expect(ZInputDate.parse('2024-01-01T00:00:00Z')).toEqual(new Date('2024-01-01T00:00:00Z'));
    for (const bad of ['0000-01-01', '99999-01-01', '-271821-04-20', 'soon']) {
      expect(ZInputDate.safeParse(bad).success, bad).toBe(false);
    }
  });
});

describe('cursors', () => {
  it('reads back what it wrote', () => {
    const id = '0190a6f0-0000-7000-8000-000000000001';
    expect(decodeCursor(encodeCursor(new Date('2024-01-01T00:00:00Z'), id))).toEqual({
      time: new Date('2024-01-01T00:00:00Z'),
      id,
    });
  });

  it('answers a crafted cursor with a 400, not a database error', () => {
    const crafted = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const c of [
      crafted(['2024-01-01', '-'.repeat(36)]),
      crafted(['+275760-09-13T00:00:00.000Z', '0190a6f0-0000-7000-8000-000000000001']),
      crafted({ a: 1 }),
      'not base64 at all!',
    ]) {
      expect(() => decodeCursor(c), c).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    }
  });
});
