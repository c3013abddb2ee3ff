// The embeddings module's public surface: what the rest of the server, the workers and the client use.
export * from './embedding-column.js';
export * from './embedding.provider.js';
