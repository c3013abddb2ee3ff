// The chat module's public surface: what the rest of the server, the workers and the client use.
export * from './chat.schema.js';
export * from './chat.service.js';
export * from './turn.store.js';
