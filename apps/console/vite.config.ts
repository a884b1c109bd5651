import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by intake-api under `/` (apps/intake-api/src/routes/console.ts):
// same origin as the API, so no CORS and no base URL to configure. `npm run dev` proxies
// /api to a local intake-api for working on the UI with hot reload.
export default defineConfig({
  root: decodeURIComponent(new URL('.', import.meta.url).pathname),
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 400 },
  server: { proxy: { '/api': 'http://127.0.0.1:18080' } },
});
