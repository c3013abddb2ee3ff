import { z } from 'zod';

/**
 * A boolean input that stays strict. trpc-to-openapi switches on zod's coercion for the plain
 * booleans of every procedure it serves, for tRPC callers too, so `"false"` would be read as
 * `true`; it leaves a pipe alone. Use this for boolean fields of procedure inputs.
 */
export const strictBoolean = () => z.boolean().pipe(z.boolean());
