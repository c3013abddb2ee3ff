// The auth module's public surface: what the rest of the server, the workers and the client use.
export * from './api-key.entity.js';
export * from './api-key.service.js';
export * from './auth.schema.js';
export * from './auth.service.js';
export * from './login-limiter.js';
export * from './request-limiter.js';
export * from './tokens.js';
