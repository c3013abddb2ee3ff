import { z } from 'zod';

/**
 * What any input must be, whatever the procedure, checked once for tRPC (a middleware) and REST
 * (before its field names are mapped): nested at most `INPUT_MAX_DEPTH` levels (walking deeper
 * input would exhaust the stack, and storing it would break every later read of it), text without
 * NUL characters (PostgreSQL cannot store them) and without lone surrogates (not Unicode), dates
 * that PostgreSQL can store. Each breach is a 400 that names where it is.
 */
export const INPUT_MAX_DEPTH = 32;

/** The range of dates a client may send: years 1 to 9999. */
export const EARLIEST_DATE = new Date('0001-01-01T00:00:00.000Z');
export const LATEST_DATE = new Date('9999-12-31T23:59:59.999Z');

/** A date from a client (ISO text or a Date), in the range PostgreSQL and every client can hold. */
export const ZInputDate = z.coerce
  .date()
  .min(EARLIEST_DATE, 'must be on or after 0001-01-01')
  .max(LATEST_DATE, 'must be on or before 9999-12-31');

const LONE_SURROGATE = /\p{Cs}/u;

function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL characters (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode (it holds a lone surrogate)';
  return null;
}

/** The first problem with an input, as "where: what", or null. Iterative: no depth can overflow it. */
export function inputProblem(input: unknown): string | null {
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value: input, path: 'input', depth: 0 },
  ];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) return `${path} ${problem}`;
    } else if (value instanceof Date) {
      const t = value.getTime();
      if (Number.isNaN(t)) return `${path} is not a valid date`;
      if (t < EARLIEST_DATE.getTime() || t > LATEST_DATE.getTime())
        return `${path} must be a date between 0001-01-01 and 9999-12-31`;
    } else if (value !== null && typeof value === 'object') {
      if (depth >= INPUT_MAX_DEPTH) return `${path} is nested deeper than ${INPUT_MAX_DEPTH} levels`;
      for (const [key, child] of Object.entries(value)) {
        const problem = textProblem(key);
        if (problem) return `a field name in ${path} ${problem}`;
        stack.push({
          value: child,
          path: Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`,
          depth: depth + 1,
        });
      }
    }
  }
  return null;
}
