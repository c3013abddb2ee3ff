/** camelCase -> snake_case (`modelConfig` -> `model_config`): the REST API's and the managers' tools' names. */
export const toSnake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** snake_case -> camelCase, the inverse of toSnake. */
export const toCamel = (name: string): string => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** An object's own keys in camelCase (values untouched). */
export const camelKeys = (obj: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(obj).map(([k, v]) => [toCamel(k), v]));
