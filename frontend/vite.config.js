// Builds the viewer's pages into ../web/dist: hashed files under assets/ and
// .vite/manifest.json, which web/pages.py reads to link them from the templates.
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  // Flask serves web/dist/assets/ at /assets/ (web/pages.py).
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../web/dist', import.meta.url)),
    emptyOutDir: true,
    manifest: true,
    // No inline code anywhere: the Content-Security-Policy allows none.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        // Bootstrap and the shared styles, linked from every page before the page's own.
        site: fileURLToPath(new URL('src/site.css', import.meta.url)),
        watch: fileURLToPath(new URL('src/watch.js', import.meta.url)),
      },
    },
  },
})
