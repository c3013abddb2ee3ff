// The consolidation module's public surface: what the rest of the server, the workers and the client use.
export * from './consolidate.handler.js';
export * from './consolidation.schema.js';
export * from './enqueue.js';
export * from './job-reads.js';
export * from './job-state.js';
export * from './memory-events.js';
export * from './memory-job.entity.js';
