// The memory module's public surface: what the rest of the server, the workers and the client use.
export * from './core-block.entity.js';
export * from './core.service.js';
export * from './embed.handler.js';
export * from './embed.service.js';
export * from './history.service.js';
export * from './memory-history.entity.js';
export * from './memory.entity.js';
export * from './memory.queries.js';
export * from './memory.registry.js';
export * from './memory.schema.js';
export * from './memory.service.js';
export * from './memory.types.js';
export * from './memory.writes.js';
export * from './search.service.js';
export * from './stats.service.js';
export * from './vault-access.entity.js';
export * from './vault-cipher.js';
