// The users module's public surface: what the rest of the server, the workers and the client use.
export * from './user.entity.js';
export * from './user.service.js';
