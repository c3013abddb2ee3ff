// The messages module's public surface: what the rest of the server, the workers and the client use.
export * from './message.entity.js';
export * from './message.schema.js';
export * from './message.service.js';
