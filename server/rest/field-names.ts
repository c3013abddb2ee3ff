import { toSnake } from '../case.js';
import type { z } from 'zod';

/**
 * The REST bridge's one naming layer. tRPC clients see the zod schemas' camelCase field names;
 * REST clients see the design document's snake_case (`agent_type`, `system_prompt`,
 * `access_token`). Renaming follows the schema: only declared fields are renamed, so the keys of
 * free-form records (an agent's model parameters, a turn's context) reach the service as sent.
 */

/** `in`: a REST request (snake_case) becoming procedure input; `out`: procedure output becoming a REST body. */
export type Direction = 'in' | 'out';

type Def = { type: string } & Record<string, unknown>;
const defOf = (schema: unknown): Def | undefined =>
  (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** Wrappers whose inner schema describes the same value. */
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

function unwrap(schema: z.ZodType, direction: Direction): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (!def) return current;
    if (WRAPPERS.has(def.type)) current = def.innerType as z.ZodType;
    else if (def.type === 'lazy') current = (def.getter as () => z.ZodType)();
    else if (def.type === 'pipe') {
      // Going in, the value has the pipe's input shape; coming out, its output shape (unless that
      // is a transform, whose shape zod cannot tell).
      const out = def.out as z.ZodType;
      current = direction === 'in' || defOf(out)?.type === 'transform' ? (def.in as z.ZodType) : out;
    } else return current;
  }
}

function shapeOf(schema: z.ZodType, direction: Direction): Record<string, z.ZodType> | null {
  const def = defOf(unwrap(schema, direction));
  if (def?.type === 'object') return def.shape as Record<string, z.ZodType>;
  if (def?.type === 'intersection') {
    const left = shapeOf(def.left as z.ZodType, direction);
    const right = shapeOf(def.right as z.ZodType, direction);
    return left || right ? { ...left, ...right } : null;
  }
  return null;
}

/** The key a declared field `field` has in the value, in the given direction. */
const wireName = (field: string, direction: Direction) => (direction === 'in' ? toSnake(field) : field);

/** A union's member that declares most of the value's keys (a discriminated union's tag decides ties). */
function pickOption(options: z.ZodType[], value: Record<string, unknown>, direction: Direction) {
  let best: z.ZodType | undefined;
  let bestScore = -1;
  for (const option of options) {
    const shape = shapeOf(option, direction);
    if (!shape) continue;
    let score = 0;
    for (const [field, fieldSchema] of Object.entries(shape)) {
      const key = wireName(field, direction);
      if (!(key in value) && !(field in value)) continue;
      score += 1;
      const literal = defOf(unwrap(fieldSchema, direction));
      if (literal?.type === 'literal') {
        const v = value[key] ?? value[field];
        score += (literal.values as unknown[]).includes(v) ? 100 : -1000;
      }
    }
    if (score > bestScore) [best, bestScore] = [option, score];
  }
  return best;
}

/** `value` with the fields `schema` declares renamed for the given direction (see the module comment). */
export function renameFields(schema: z.ZodType | undefined, value: unknown, direction: Direction): unknown {
  if (!schema || value === null || typeof value !== 'object' || value instanceof Date) return value;
  const inner = unwrap(schema, direction);
  const def = defOf(inner);
  if (!def) return value;

  if (Array.isArray(value)) {
    if (def.type === 'array') return value.map((v) => renameFields(def.element as z.ZodType, v, direction));
    if (def.type === 'tuple') {
      const items = def.items as z.ZodType[];
      return value.map((v, i) => renameFields(items[i] ?? (def.rest as z.ZodType | undefined), v, direction));
    }
    return value;
  }

  const record = value as Record<string, unknown>;
  if (def.type === 'record') {
    const valueType = def.valueType as z.ZodType;
    return Object.fromEntries(
      Object.entries(record).map(([k, v]) => [k, renameFields(valueType, v, direction)]),
    );
  }
  if (def.type === 'union') {
    const option = pickOption(def.options as z.ZodType[], record, direction);
    return option ? renameFields(option, value, direction) : value;
  }
  const shape = shapeOf(inner, direction);
  if (!shape) return value;

  const declared = new Map<string, string>();
  for (const field of Object.keys(shape)) declared.set(wireName(field, direction), field);
  const catchall = def.type === 'object' ? (def.catchall as z.ZodType | undefined) : undefined;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    const field = declared.get(key) ?? (key in shape ? key : undefined);
    if (field === undefined) {
      // Undeclared: left for the schema to judge (strict objects reject it, others drop it).
      out[key] = catchall ? renameFields(catchall, v, direction) : v;
      continue;
    }
    out[direction === 'in' ? field : toSnake(field)] = renameFields(shape[field], v, direction);
  }
  return out;
}

/** A field path from a validation error (`modelConfig.provider`, `items.0.occurredAt`) in REST names. */
export const snakePath = (path: string): string => path.split('.').map(toSnake).join('.');
