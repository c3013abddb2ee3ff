// The agents module's public surface: what the rest of the server, the workers and the client use.
export * from './agent.entity.js';
export * from './agent.schema.js';
export * from './agent.service.js';
