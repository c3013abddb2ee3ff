import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The API in development (`npm run dev` serves it on :8000). */
const api = process.env.MIRIX_API_URL ?? 'http://localhost:8000';

// `npm run dev:web`: the app on :3000, proxying API calls; `npm run build:web`: web/dist, which the
// API serves at / in production.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  server: {
    port: 3000,
    strictPort: true,
    proxy: Object.fromEntries(['/trpc', '/api', '/docs', '/admin/queues'].map((p) => [p, { target: api }])),
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});
