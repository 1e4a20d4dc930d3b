// vite.config — builds the demo app into dist/ (served by the node at /).
// `npm run dev` serves it with hot reload and forwards the API, /ws and /sse
// to a running node (SB_DEV_NODE, default http://127.0.0.1:8080).
import { defineConfig } from 'vite';

const node = process.env.SB_DEV_NODE ?? 'http://127.0.0.1:8080';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      // React Query marks its modules "use client" (for server components); meaningless in this bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    proxy: {
      '/api': node,
      '/sse': node,
      '/ws': { target: node, ws: true },
    },
  },
});
